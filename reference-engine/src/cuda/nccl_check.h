// NCCL calls checked like CUDA's (cuda_check.h): a failure throws CudaError with file:line.
#pragma once

#include <nccl.h>

#include "moeprof/kernels/cuda_check.h"

#define MOEPROF_NCCL_CHECK(call)                                                                                 \
  do {                                                                                                           \
    const ncclResult_t moeprof_nccl_status_ = (call);                                                            \
    if (moeprof_nccl_status_ != ncclSuccess)                                                                     \
      ::moeprof::kernels::throw_cuda_error(#call, ncclGetErrorString(moeprof_nccl_status_), __FILE__, __LINE__); \
  } while (0)

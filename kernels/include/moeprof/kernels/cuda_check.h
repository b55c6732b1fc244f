// Error checks for CUDA runtime and cuBLAS calls: a failure throws CudaError naming the call,
// the library's message and the file:line of the check, so a failing kernel test or engine
// run says exactly where it went wrong.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <stdexcept>

namespace moeprof::kernels {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "file:line: call: message"
[[noreturn]] void throw_cuda_error(const char* call, const char* message, const char* file, int line);

}  // namespace moeprof::kernels

#define MOEPROF_CUDA_CHECK(call)                                                               \
  do {                                                                                         \
    const cudaError_t moeprof_cuda_status_ = (call);                                           \
    if (moeprof_cuda_status_ != cudaSuccess)                                                   \
      ::moeprof::kernels::throw_cuda_error(#call, cudaGetErrorString(moeprof_cuda_status_), __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: the launch's own error (bad configuration, no device, ...).
#define MOEPROF_CUDA_CHECK_LAUNCH() MOEPROF_CUDA_CHECK(cudaGetLastError())

#define MOEPROF_CUBLAS_CHECK(call)                                                                  \
  do {                                                                                              \
    const cublasStatus_t moeprof_cublas_status_ = (call);                                           \
    if (moeprof_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                            \
      ::moeprof::kernels::throw_cuda_error(#call, cublasGetStatusString(moeprof_cublas_status_), __FILE__, \
                                           __LINE__);                                               \
  } while (0)

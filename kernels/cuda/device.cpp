#include <cuda_runtime_api.h>

#include "moeprof/kernels/moe_kernels_cuda.h"

namespace moeprof::kernels::cuda {

bool device_available() {
  int count = 0, device = 0, major = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0 || cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver / no device" error for later calls
    return false;
  }
  return major >= 8;  // the kernels are built for sm_80 and up (CUDA_ARCHITECTURES)
}

}  // namespace moeprof::kernels::cuda

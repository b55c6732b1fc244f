#include <cuda_runtime_api.h>

#include "moeprof/kernels/moe_kernels_cuda.h"

namespace moeprof::kernels::cuda {

bool device_available() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver / no device" error for later calls
    return false;
  }
  return count > 0;
}

}  // namespace moeprof::kernels::cuda

#include "moeprof/kernels/cuda_check.h"

#include <string>

namespace moeprof::kernels {

void throw_cuda_error(const char* call, const char* message, const char* file, int line) {
  throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " + message);
}

}  // namespace moeprof::kernels

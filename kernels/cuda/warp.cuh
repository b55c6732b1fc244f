// Warp-wide reductions the kernels share. Every lane of the warp takes part and every lane
// gets the result.
#pragma once

#include <cstdint>

namespace moeprof::kernels::cuda {

inline constexpr unsigned kFullWarp = 0xffffffffu;

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullWarp, v, offset));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullWarp, v, offset);
  return v;
}

// The best (value, index) of the warp: higher value first, on equal values the lower index
// (the CPU reference's order, so ties resolve the same way).
__device__ __forceinline__ void warp_argmax(float& value, int32_t& index) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float other_value = __shfl_xor_sync(kFullWarp, value, offset);
    const int32_t other_index = __shfl_xor_sync(kFullWarp, index, offset);
    if (other_value > value || (other_value == value && other_index < index)) {
      value = other_value;
      index = other_index;
    }
  }
}

}  // namespace moeprof::kernels::cuda

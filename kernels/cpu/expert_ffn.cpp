// Reference SwiGLU expert FFN in plain loops (the engine's CPU backend runs the same
// computation through OpenBLAS; GPU results are checked against this one).
#include <cmath>
#include <vector>

#include "moeprof/kernels/moe_kernels.h"

namespace moeprof::kernels {

void swiglu_ffn_cpu(const float* gate_up, const float* down, uint32_t hidden, uint32_t ffn, const float* x,
                    uint32_t rows, float* y) {
  std::vector<float> act(ffn);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* in = x + static_cast<size_t>(r) * hidden;
    for (uint32_t i = 0; i < ffn; ++i) {
      float g = 0.0f, u = 0.0f;
      for (uint32_t h = 0; h < hidden; ++h) {
        g += in[h] * gate_up[static_cast<size_t>(h) * 2 * ffn + i];
        u += in[h] * gate_up[static_cast<size_t>(h) * 2 * ffn + ffn + i];
      }
      act[i] = g / (1.0f + std::exp(-g)) * u;
    }
    float* out = y + static_cast<size_t>(r) * hidden;
    for (uint32_t h = 0; h < hidden; ++h) {
      float sum = 0.0f;
      for (uint32_t i = 0; i < ffn; ++i) sum += act[i] * down[static_cast<size_t>(i) * hidden + h];
      out[h] = sum;
    }
  }
}

}  // namespace moeprof::kernels

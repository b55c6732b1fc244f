#include "expert_ffn.h"

#include <cblas.h>

#include <cmath>
#include <stdexcept>

namespace moeprof::engine {

void swiglu_ffn(const FfnWeights& w, const float* x, uint32_t rows, float* y, FfnScratch& scratch) {
  if (rows == 0) return;
  const int m = static_cast<int>(rows), h = w.hidden, f = w.ffn;
  scratch.gate_up.resize(size_t(rows) * 2 * size_t(f));
  float* gu = scratch.gate_up.data();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, 2 * f, h, 1.0f, x, h, w.gate_up.data(), 2 * f, 0.0f, gu,
              2 * f);
  // act = silu(gate) * up, written over the gate half of each row.
  for (size_t r = 0; r < rows; ++r) {
    float* row = gu + r * 2 * size_t(f);
    for (int i = 0; i < f; ++i) {
      const float g = row[i];
      row[i] = g / (1.0f + std::exp(-g)) * row[f + i];
    }
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, h, f, 1.0f, gu, 2 * f, w.down.data(), h, 0.0f, y, h);
}

void grouped_expert_ffn(std::span<const FfnWeights> experts, const float* x, std::span<const uint32_t> expert_offsets,
                        float* y, FfnScratch& scratch, const std::function<void()>& between) {
  for (size_t e = 0; e + 1 < expert_offsets.size(); ++e) {
    const uint32_t first = expert_offsets[e], rows = expert_offsets[e + 1] - first;
    if (rows == 0) continue;
    const FfnWeights& w = experts[e];
    // A row for an expert this rank does not hold means the senders disagree on placement.
    if (w.empty())
      throw std::logic_error("received rows for expert " + std::to_string(e) + ", which this rank does not hold");
    const size_t offset = size_t(first) * size_t(w.hidden);
    swiglu_ffn(w, x + offset, rows, y + offset, scratch);
    if (between) between();
  }
}

}  // namespace moeprof::engine

// The SwiGLU FFN of an expert, y = (silu(x Wg) * (x Wu)) Wd, through OpenBLAS sgemm, and the
// grouped form that runs each held expert once over all of its rows.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "weights.h"

namespace moeprof::engine {

struct FfnScratch {
  std::vector<float> gate_up;  // rows x 2*ffn
};

// x: rows x hidden; y: rows x hidden (overwritten).
void swiglu_ffn(const FfnWeights& w, const float* x, uint32_t rows, float* y, FfnScratch& scratch);

// Rows [expert_offsets[e], expert_offsets[e + 1]) of x go through experts[e]; `between` runs
// after each expert that had rows (the pipeline lets MPI progress there).
void grouped_expert_ffn(std::span<const FfnWeights> experts, const float* x, std::span<const uint32_t> expert_offsets,
                        float* y, FfnScratch& scratch, const std::function<void()>& between);

}  // namespace moeprof::engine

// The router of one MoE layer: RMSNorm, gate GEMM, optional skew bias, top-k gating.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model_config.h"

namespace moeprof::engine {

// out[t] = x[t] / rms(x[t]) (no learned scale): keeps router and expert inputs at unit scale
// however deep the model.
void rms_norm(const float* x, uint32_t tokens, uint32_t hidden, float* out);

// h: tokens x hidden (normalised). logits = h * router (+ logit_bias per expert when not
// empty); then top-k gating with `selection_bias` (may be empty). Writes tokens x top_k ids
// and weights. `logits` is scratch.
void route(const ModelConfig& model, std::span<const float> router, const float* h, uint32_t tokens,
           std::span<const float> logit_bias, std::span<const float> selection_bias, std::vector<float>& logits,
           int32_t* ids, float* weights);

}  // namespace moeprof::engine

#include "router.h"

#include <cblas.h>

#include <cmath>

namespace moeprof::engine {

void rms_norm(const float* x, uint32_t tokens, uint32_t hidden, float* out) {
  constexpr double kEpsilon = 1e-6;
  for (size_t t = 0; t < tokens; ++t) {
    const float* row = x + t * hidden;
    double squares = 0.0;
    for (uint32_t i = 0; i < hidden; ++i) squares += double(row[i]) * row[i];
    const float scale = static_cast<float>(1.0 / std::sqrt(squares / hidden + kEpsilon));
    for (uint32_t i = 0; i < hidden; ++i) out[t * hidden + i] = row[i] * scale;
  }
}

void route(const ModelConfig& m, std::span<const float> router, const float* h, uint32_t tokens,
           std::span<const float> logit_bias, std::span<const float> selection_bias, std::vector<float>& logits,
           int32_t* ids, float* weights) {
  if (tokens == 0) return;
  const int e = m.num_experts;
  logits.resize(size_t(tokens) * size_t(e));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(tokens), e, m.hidden, 1.0f, h, m.hidden,
              router.data(), e, 0.0f, logits.data(), e);
  if (!logit_bias.empty())
    for (size_t t = 0; t < tokens; ++t)
      for (int i = 0; i < e; ++i) logits[t * size_t(e) + size_t(i)] += logit_bias[size_t(i)];
  kernels::topk_gating_cpu(logits.data(), tokens, gating_config(m, selection_bias), ids, weights);
}

}  // namespace moeprof::engine

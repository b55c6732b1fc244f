// The GEMM parts against plain loops in double precision: SwiGLU expert FFN (single and
// grouped), RMSNorm and router; weights and tokens depend on the seed and global indices only.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "expert_ffn.h"
#include "inputs.h"
#include "moeprof/kernels/moe_kernels.h"
#include "router.h"
#include "weights.h"

namespace moeprof::engine {
namespace {

ModelConfig small_model() {
  ModelConfig m;
  m.name = "test";
  m.num_layers = 2;
  m.num_experts = 16;
  m.top_k = 4;
  m.num_shared_experts = 1;
  m.hidden = 24;
  m.ffn = 20;
  m.score = kernels::ScoreFunction::kSigmoid;
  m.num_groups = 4;
  m.topk_groups = 2;
  m.routed_scaling = 2.5f;
  return m;
}

std::vector<float> random_rows(size_t n, uint32_t seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float& x : v) x = normal(random);
  return v;
}

// y = (silu(x Wg) * (x Wu)) Wd by kernels/'s reference (the one the GPU FFN is checked
// against too), so both backends answer to the same definition.
std::vector<double> naive_ffn(const FfnWeights& w, const float* x, size_t rows) {
  std::vector<float> y(rows * size_t(w.hidden));
  kernels::swiglu_ffn_cpu(w.gate_up.data(), w.down.data(), uint32_t(w.hidden), uint32_t(w.ffn), x, uint32_t(rows),
                          y.data());
  return std::vector<double>(y.begin(), y.end());
}

void expect_near(const float* got, const std::vector<double>& want) {
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4 * (1.0 + std::fabs(want[i]))) << i;
}

TEST(ExpertFfn, SwiGluMatchesPlainLoops) {
  const ModelConfig m = small_model();
  const std::vector<int32_t> held = {3};
  const LayerWeights w = make_layer_weights(m, 1, 0, held);
  for (uint32_t rows : {1u, 7u, 64u}) {
    const std::vector<float> x = random_rows(size_t(rows) * 24, rows);
    std::vector<float> y(x.size());
    FfnScratch scratch;
    swiglu_ffn(w.experts[3], x.data(), rows, y.data(), scratch);
    expect_near(y.data(), naive_ffn(w.experts[3], x.data(), rows));
  }
  std::vector<float> x = random_rows(5 * 24, 9), y(x.size());
  FfnScratch scratch;
  swiglu_ffn(w.shared, x.data(), 5, y.data(), scratch);
  expect_near(y.data(), naive_ffn(w.shared, x.data(), 5));
}

TEST(ExpertFfn, GroupedRunsEachExpertOverItsRows) {
  const ModelConfig m = small_model();
  const std::vector<int32_t> held = {1, 2, 5};
  const LayerWeights w = make_layer_weights(m, 1, 1, held);
  const std::vector<uint32_t> offsets = {0, 0, 3, 3, 3, 3, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10};
  const std::vector<float> x = random_rows(10 * 24, 4);
  std::vector<float> y(x.size());
  FfnScratch scratch;
  int experts_run = 0;
  grouped_expert_ffn(w.experts, x.data(), offsets, y.data(), scratch, [&] { ++experts_run; });
  EXPECT_EQ(experts_run, 2);
  expect_near(y.data(), naive_ffn(w.experts[1], x.data(), 3));
  expect_near(y.data() + 3 * 24, naive_ffn(w.experts[5], x.data() + 3 * 24, 7));
  // Rows for an expert this rank does not hold are a bug, reported as such.
  const std::vector<uint32_t> wrong = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_THROW(grouped_expert_ffn(w.experts, x.data(), wrong, y.data(), scratch, {}), std::logic_error);
}

TEST(Router, NormalisesThenRoutesLikeTheReferenceGating) {
  const ModelConfig m = small_model();
  const LayerWeights w = make_layer_weights(m, 2, 0, {});
  const uint32_t tokens = 9;
  const std::vector<float> x = random_rows(tokens * 24, 1);
  std::vector<float> h(x.size());
  rms_norm(x.data(), tokens, 24, h.data());
  for (uint32_t t = 0; t < tokens; ++t) {
    double squares = 0;
    for (int i = 0; i < 24; ++i) squares += double(x[t * 24 + i]) * x[t * 24 + i];
    const double rms = std::sqrt(squares / 24);
    for (int i = 0; i < 24; ++i) EXPECT_NEAR(h[t * 24 + i], x[t * 24 + i] / rms, 1e-5);
  }
  std::vector<float> bias(16), selection(16);
  for (int e = 0; e < 16; ++e) {
    bias[size_t(e)] = -0.3f * float(e % 5);
    selection[size_t(e)] = 0.01f * float(e % 3);
  }
  std::vector<float> scratch, weights(tokens * 4);
  std::vector<int32_t> ids(tokens * 4);
  route(m, w.router, h.data(), tokens, bias, selection, scratch, ids.data(), weights.data());
  // Plain logits + bias through the reference gating.
  std::vector<float> logits(tokens * 16);
  for (uint32_t t = 0; t < tokens; ++t)
    for (int e = 0; e < 16; ++e) {
      double sum = 0;
      for (int i = 0; i < 24; ++i) sum += double(h[t * 24 + i]) * w.router[size_t(i) * 16 + size_t(e)];
      logits[t * 16 + size_t(e)] = float(sum) + bias[size_t(e)];
    }
  std::vector<int32_t> want_ids(ids.size());
  std::vector<float> want_weights(ids.size());
  kernels::topk_gating_cpu(logits.data(), tokens, gating_config(m, selection), want_ids.data(), want_weights.data());
  EXPECT_EQ(ids, want_ids);
  for (size_t i = 0; i < weights.size(); ++i) EXPECT_NEAR(weights[i], want_weights[i], 1e-5);
  for (uint32_t t = 0; t < tokens; ++t) {
    float sum = 0;
    for (int k = 0; k < 4; ++k) sum += weights[t * 4 + size_t(k)];
    EXPECT_NEAR(sum, 2.5f, 1e-5) << "routed scaling";
  }
}

TEST(Weights, DependOnSeedLayerAndExpertOnly) {
  const ModelConfig m = small_model();
  const std::vector<int32_t> one = {4}, many = {0, 4, 9};
  const LayerWeights a = make_layer_weights(m, 7, 1, one), b = make_layer_weights(m, 7, 1, many);
  EXPECT_EQ(a.experts[4].gate_up, b.experts[4].gate_up);
  EXPECT_EQ(a.experts[4].down, b.experts[4].down);
  EXPECT_EQ(a.router, b.router);
  EXPECT_EQ(a.shared.down, b.shared.down);
  EXPECT_TRUE(a.experts[0].empty());
  EXPECT_FALSE(b.experts[0].empty());
  EXPECT_NE(b.experts[0].gate_up, b.experts[9].gate_up);
  EXPECT_NE(make_layer_weights(m, 7, 0, one).experts[4].gate_up, a.experts[4].gate_up);
  EXPECT_NE(make_layer_weights(m, 8, 1, one).experts[4].gate_up, a.experts[4].gate_up);
  EXPECT_EQ(a.experts[4].gate_up.size(), size_t(24 * 2 * 20));
  EXPECT_EQ(a.shared.ffn, 20);
  ModelConfig no_shared = m;
  no_shared.num_shared_experts = 0;
  EXPECT_TRUE(make_layer_weights(no_shared, 7, 1, one).shared.empty());
}

TEST(Inputs, TokensDependOnTheirGlobalIndexOnly) {
  std::vector<float> all(12 * 8), part(4 * 8);
  make_tokens(3, 2, 0, 12, 8, all.data());
  make_tokens(3, 2, 4, 4, 8, part.data());
  EXPECT_TRUE(std::equal(part.begin(), part.end(), all.begin() + 4 * 8));
  make_tokens(3, 1, 4, 4, 8, part.data());
  EXPECT_FALSE(std::equal(part.begin(), part.end(), all.begin() + 4 * 8));
  double sum = 0, squares = 0;
  for (float v : all) {
    sum += v;
    squares += double(v) * v;
  }
  EXPECT_NEAR(sum / double(all.size()), 0.0, 0.3);
  EXPECT_NEAR(squares / double(all.size()), 1.0, 0.3);
}

}  // namespace
}  // namespace moeprof::engine

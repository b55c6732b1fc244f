// CPU reference kernels against hand-computed cases and invariants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "moeprof/kernels/moe_kernels.h"

namespace moeprof::kernels {
namespace {

struct Gated {
  std::vector<int32_t> ids;
  std::vector<float> weights;
};

Gated gate(const std::vector<float>& logits, const GatingConfig& c) {
  const uint32_t tokens = static_cast<uint32_t>(logits.size() / c.num_experts);
  Gated g{std::vector<int32_t>(tokens * c.top_k), std::vector<float>(tokens * c.top_k)};
  EXPECT_EQ(validate(c), nullptr);
  topk_gating_cpu(logits.data(), tokens, c, g.ids.data(), g.weights.data());
  return g;
}

TEST(Gating, SoftmaxTopTwoRenormalised) {
  GatingConfig c;
  c.num_experts = 4;
  c.top_k = 2;
  const Gated g = gate({1, 3, 2, 0}, c);
  EXPECT_EQ(g.ids, (std::vector<int32_t>{1, 2}));
  const float e = std::exp(1.0f);  // weights are e^3/(e^3+e^2) and e^2/(e^3+e^2)
  EXPECT_NEAR(g.weights[0], e / (e + 1), 1e-6);
  EXPECT_NEAR(g.weights[1], 1 / (e + 1), 1e-6);
}

TEST(Gating, SoftmaxWithoutRenormalisationKeepsProbabilities) {
  GatingConfig c;
  c.num_experts = 2;
  c.top_k = 1;
  c.normalize = false;
  const Gated g = gate({0, std::log(3.0f)}, c);  // probabilities 1/4 and 3/4
  EXPECT_EQ(g.ids[0], 1);
  EXPECT_NEAR(g.weights[0], 0.75f, 1e-6);
}

TEST(Gating, TiesGoToTheLowerExpertId) {
  GatingConfig c;
  c.num_experts = 6;
  c.top_k = 3;
  const Gated g = gate(std::vector<float>(6, 0.5f), c);
  EXPECT_EQ(g.ids, (std::vector<int32_t>{0, 1, 2}));
  for (float w : g.weights) EXPECT_NEAR(w, 1.0f / 3, 1e-6);
}

TEST(Gating, SelectionBiasChangesChoiceButNotWeights) {
  GatingConfig c;
  c.num_experts = 4;
  c.top_k = 2;
  c.score = ScoreFunction::kSigmoid;
  const std::vector<float> bias = {0, 0, 1, 0.5f};
  c.selection_bias = bias;
  c.routed_scaling = 2.5f;
  const Gated g = gate({0, 0, 0, 0}, c);  // every sigmoid score is 0.5
  EXPECT_EQ(g.ids, (std::vector<int32_t>{2, 3}));
  EXPECT_NEAR(g.weights[0], 0.5f * 2.5f, 1e-6);  // normalised 0.5/(0.5+0.5), then scaled
  EXPECT_NEAR(g.weights[1], 0.5f * 2.5f, 1e-6);
}

TEST(Gating, GroupLimitedRoutingOnlyPicksFromTheBestGroups) {
  GatingConfig c;
  c.num_experts = 8;
  c.top_k = 2;
  c.score = ScoreFunction::kSigmoid;
  // Expert 0 alone is the best expert, but group 1 (experts 2, 3) has the best top-2 sum.
  const std::vector<float> logits = {5, -5, 2, 2, -3, -3, -4, -4};
  EXPECT_EQ(gate(logits, c).ids, (std::vector<int32_t>{0, 2}));
  c.num_groups = 4;
  c.topk_groups = 1;
  EXPECT_EQ(gate(logits, c).ids, (std::vector<int32_t>{2, 3}));
  c.topk_groups = 2;  // groups 1 and 0 now: expert 0 is back
  EXPECT_EQ(gate(logits, c).ids, (std::vector<int32_t>{0, 2}));
}

TEST(Gating, ChoicesAreDistinctAndWeightsSumToScaling) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  GatingConfig c;
  c.num_experts = 64;
  c.top_k = 6;
  c.score = ScoreFunction::kSigmoid;
  c.num_groups = 8;
  c.topk_groups = 3;
  std::vector<float> logits(100 * 64);
  for (auto& l : logits) l = normal(rng);
  const Gated g = gate(logits, c);
  for (uint32_t t = 0; t < 100; ++t) {
    std::vector<int32_t> ids(g.ids.begin() + t * 6, g.ids.begin() + (t + 1) * 6);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
    std::vector<int32_t> groups;
    for (int32_t id : ids) groups.push_back(id / 8);
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    EXPECT_LE(groups.size(), 3u);
    float sum = 0;
    for (int j = 0; j < 6; ++j) sum += g.weights[t * 6 + j];
    EXPECT_NEAR(sum, 1.0f, 1e-5);
  }
}

TEST(Gating, ValidateNamesTheProblem) {
  GatingConfig c;
  EXPECT_NE(validate(c), nullptr);
  c.num_experts = 8;
  c.top_k = 9;
  EXPECT_NE(validate(c), nullptr);
  c.top_k = 2;
  EXPECT_EQ(validate(c), nullptr);
  c.num_groups = 3;
  c.topk_groups = 1;
  EXPECT_NE(validate(c), nullptr);
  c.num_groups = 4;
  c.topk_groups = 5;
  EXPECT_NE(validate(c), nullptr);
  std::vector<float> short_bias(3);
  c.num_groups = 0;
  c.selection_bias = short_bias;
  EXPECT_NE(validate(c), nullptr);
}

TEST(Histogram, CountsEveryValidIdAndSkipsDropped) {
  std::mt19937 rng(2);
  std::vector<int32_t> ids(5000);
  for (auto& id : ids) id = static_cast<int32_t>(rng() % 40) - 1;  // -1 marks a dropped token
  std::vector<uint32_t> counts(39, 12345);
  expert_histogram_cpu(ids.data(), ids.size(), 39, counts.data());
  for (int32_t e = 0; e < 39; ++e) EXPECT_EQ(counts[e], std::count(ids.begin(), ids.end(), e)) << e;
}

TEST(Permute, PlanGroupsPairsByExpertInTokenOrder) {
  const uint32_t tokens = 50, k = 3, experts = 7;
  std::mt19937 rng(3);
  std::vector<int32_t> ids(tokens * k);
  for (auto& id : ids) id = static_cast<int32_t>(rng() % (experts + 1)) - 1;
  std::vector<uint32_t> row_to_pair(ids.size()), offsets(experts + 1);
  const uint32_t rows = permute_plan_cpu(ids.data(), tokens, k, experts, row_to_pair.data(), offsets.data());
  EXPECT_EQ(rows, ids.size() - std::count(ids.begin(), ids.end(), -1));
  std::vector<int> seen(ids.size(), 0);
  for (uint32_t e = 0; e < experts; ++e) {
    EXPECT_EQ(offsets[e + 1] - offsets[e], static_cast<uint32_t>(std::count(ids.begin(), ids.end(), int32_t(e))));
    for (uint32_t r = offsets[e]; r < offsets[e + 1]; ++r) {
      EXPECT_EQ(ids[row_to_pair[r]], static_cast<int32_t>(e));
      if (r > offsets[e]) {
        EXPECT_LT(row_to_pair[r - 1], row_to_pair[r]);
      }
      ++seen[row_to_pair[r]];
    }
  }
  for (size_t p = 0; p < ids.size(); ++p) EXPECT_EQ(seen[p], ids[p] < 0 ? 0 : 1) << p;
}

TEST(Permute, UnpermuteOfPermuteWithNormalisedWeightsIsIdentity) {
  const uint32_t tokens = 33, k = 4, experts = 16, hidden = 24;
  std::mt19937 rng(4);
  std::normal_distribution<float> normal;
  std::vector<float> logits(tokens * experts), x(tokens * hidden);
  for (auto& v : logits) v = normal(rng);
  for (auto& v : x) v = normal(rng);
  GatingConfig c;
  c.num_experts = experts;
  c.top_k = k;
  const Gated g = gate(logits, c);
  std::vector<uint32_t> row_to_pair(tokens * k), offsets(experts + 1);
  const uint32_t rows = permute_plan_cpu(g.ids.data(), tokens, k, experts, row_to_pair.data(), offsets.data());
  std::vector<float> permuted(static_cast<size_t>(rows) * hidden), out(x.size(), 0.0f);
  permute_rows_cpu(x.data(), hidden, row_to_pair.data(), rows, k, permuted.data());
  unpermute_rows_cpu(permuted.data(), hidden, row_to_pair.data(), rows, k, g.weights.data(), out.data());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(out[i], x[i], 1e-5) << i;
}

}  // namespace
}  // namespace moeprof::kernels

// Capacity (which pairs are dropped) and aux-loss-free bias balancing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "balance.h"
#include "capacity.h"
#include "moeprof/kernels/moe_kernels.h"

namespace moeprof::engine {
namespace {

TEST(Capacity, IsTheCeilingOfFactorTimesAnEvenShare) {
  EXPECT_EQ(expert_capacity(0.0, 128, 8, 256), kUnlimited);
  EXPECT_EQ(expert_capacity(1.0, 128, 8, 256), 4u);   // 128 * 8 / 256 = 4
  EXPECT_EQ(expert_capacity(1.25, 128, 8, 256), 5u);  // 5
  EXPECT_EQ(expert_capacity(1.3, 128, 8, 256), 6u);   // 5.2 -> 6
  EXPECT_EQ(expert_capacity(1.1, 100, 2, 2), 110u);   // exactly 110, despite 1.1 in binary
  EXPECT_EQ(expert_capacity(1.0, 100, 2, 8), 25u);
  EXPECT_EQ(expert_capacity(0.01, 1, 1, 256), 1u);  // never 0 for a positive factor
}

TEST(Capacity, DropsTheLaterPairsOfAnOverfullExpert) {
  std::mt19937 random(7);
  const uint32_t experts = 6;
  std::vector<int32_t> ids(500);
  for (int32_t& id : ids) id = static_cast<int32_t>(random() % 8) - 1;  // some -1 (already dropped), some >= experts
  for (uint32_t capacity : {0u, 1u, 10u, 40u, 1000u}) {
    std::vector<int32_t> kept(ids.size());
    std::vector<uint32_t> dropped(experts, 99);
    const uint64_t total = apply_capacity(ids.data(), ids.size(), experts, capacity, kept.data(), dropped.data());
    // Pair i survives exactly when fewer than `capacity` earlier pairs went to its expert.
    std::vector<uint32_t> want_dropped(experts, 0);
    uint64_t want_total = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const bool valid = ids[i] >= 0 && ids[i] < int32_t(experts);
      const auto earlier = std::count(ids.begin(), ids.begin() + std::ptrdiff_t(i), ids[i]);
      const bool keep = valid && uint64_t(earlier) < capacity;
      EXPECT_EQ(kept[i], keep ? ids[i] : -1) << "pair " << i << " capacity " << capacity;
      if (valid && !keep) {
        ++want_dropped[size_t(ids[i])];
        ++want_total;
      }
    }
    EXPECT_EQ(dropped, want_dropped);
    EXPECT_EQ(total, want_total);
  }
}

TEST(AuxFreeBalance, RaisesUnderloadedAndLowersOverloadedExperts) {
  std::vector<float> bias = {0.0f, 0.5f, -0.5f, 0.0f};
  const std::vector<uint64_t> load = {10, 30, 20, 20};  // mean 20
  update_aux_free_bias(bias, load, 0.25f);
  EXPECT_EQ(bias, (std::vector<float>{0.25f, 0.25f, -0.5f, 0.0f}));
  // Mean not an integer: 7 / 3 = 2.33.
  std::vector<float> b3(3, 0.0f);
  update_aux_free_bias(b3, std::vector<uint64_t>{2, 3, 2}, 1.0f);
  EXPECT_EQ(b3, (std::vector<float>{1.0f, -1.0f, 1.0f}));
}

// The mechanism works: with a router that prefers some experts, the bias updates make the
// load more even over the steps.
TEST(AuxFreeBalance, EvensOutTheLoadOfABiasedRouter) {
  const uint32_t experts = 16, k = 2, tokens = 512;
  std::mt19937 random(3);
  std::normal_distribution<float> normal;
  std::vector<float> logits(size_t(tokens) * experts);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = normal(random) + (i % experts < 3 ? 1.5f : 0.0f);
  std::vector<float> bias(experts, 0.0f);
  kernels::GatingConfig config;
  config.num_experts = experts;
  config.top_k = k;
  config.score = kernels::ScoreFunction::kSigmoid;
  const auto imbalance = [&] {
    config.selection_bias = bias;
    std::vector<int32_t> ids(size_t(tokens) * k);
    std::vector<float> weights(ids.size());
    kernels::topk_gating_cpu(logits.data(), tokens, config, ids.data(), weights.data());
    std::vector<uint64_t> load(experts, 0);
    for (int32_t id : ids) ++load[size_t(id)];
    update_aux_free_bias(bias, load, kAuxFreeGamma * 10);
    return double(*std::max_element(load.begin(), load.end())) * experts / (double(tokens) * k);
  };
  const double before = imbalance();
  double after = before;
  for (int step = 0; step < 100; ++step) after = imbalance();
  EXPECT_GT(before, 2.0);
  EXPECT_LT(after, 1.5);
}

}  // namespace
}  // namespace moeprof::engine

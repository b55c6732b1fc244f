#include "moeprof/analysis/load_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace moeprof::analysis {
namespace {

TEST(LoadStats, HandComputedFourExperts) {
  // Tokens {10, 20, 30, 40}: total 100, mean 25, max 40, min 10.
  const std::vector<double> t{10, 20, 30, 40};
  const LoadStats s = load_stats(t);
  EXPECT_TRUE(s.has_tokens);
  EXPECT_EQ(s.num_experts, 4);
  EXPECT_DOUBLE_EQ(s.total, 100);
  EXPECT_DOUBLE_EQ(s.mean, 25);
  EXPECT_DOUBLE_EQ(s.max, 40);
  EXPECT_DOUBLE_EQ(s.min, 10);
  EXPECT_DOUBLE_EQ(s.imbalance, 40.0 / 25);     // 1.6
  EXPECT_DOUBLE_EQ(s.balancedness, 25.0 / 40);  // 0.625
  // Deviations -15 -5 5 15: variance (225+25+25+225)/4 = 125, cv = sqrt(125)/25.
  EXPECT_DOUBLE_EQ(s.cv, std::sqrt(125.0) / 25);
  // |xi-xj| over ordered pairs: 2*(10+20+30+10+20+10) = 200; gini = 200 / (2*16*25) = 0.25.
  EXPECT_DOUBLE_EQ(s.gini, 0.25);
  // Shares .1 .2 .3 .4: H = -sum p ln p; normalised by ln 4.
  const double h = -(0.1 * std::log(0.1) + 0.2 * std::log(0.2) + 0.3 * std::log(0.3) + 0.4 * std::log(0.4));
  EXPECT_NEAR(s.entropy, h / std::log(4.0), 1e-12);
  // Sorted 10 20 30 40; p50: h = 3*0.5 = 1.5 -> 20 + 0.5*10 = 25; p95: h = 2.85 -> 30 + .85*10 = 38.5;
  // p99: h = 2.97 -> 39.7.
  EXPECT_DOUBLE_EQ(s.p50, 25);
  EXPECT_NEAR(s.p95, 38.5, 1e-12);
  EXPECT_NEAR(s.p99, 39.7, 1e-12);
  // ceil(4*0.01) = 1 and ceil(4*0.1) = 1 expert: the hottest holds 40 of 100.
  EXPECT_EQ(s.hottest_1pct_experts, 1);
  EXPECT_EQ(s.hottest_10pct_experts, 1);
  EXPECT_DOUBLE_EQ(s.hottest_1pct_share, 0.4);
  EXPECT_DOUBLE_EQ(s.hottest_10pct_share, 0.4);
  EXPECT_TRUE(s.dead_experts.empty());
}

TEST(LoadStats, HottestSharesAndDeadExpertsOnTwentyExperts) {
  // 20 experts: expert i has i tokens (0..19), total 190. Hottest ceil(0.2) = 1 expert (19),
  // hottest ceil(2.0) = 2 experts (19 + 18 = 37). Expert 0 is dead.
  std::vector<double> t;
  for (int i = 0; i < 20; ++i) t.push_back(i);
  const LoadStats s = load_stats(t);
  EXPECT_EQ(s.hottest_1pct_experts, 1);
  EXPECT_EQ(s.hottest_10pct_experts, 2);
  EXPECT_DOUBLE_EQ(s.hottest_1pct_share, 19.0 / 190);
  EXPECT_DOUBLE_EQ(s.hottest_10pct_share, 37.0 / 190);
  EXPECT_EQ(s.dead_experts, std::vector<int32_t>{0});
  // Sorted = 0..19: p50 at h = 9.5 -> 9.5; p95 at h = 18.05 -> 18.05.
  EXPECT_NEAR(s.p50, 9.5, 1e-12);
  EXPECT_NEAR(s.p95, 18.05, 1e-12);
}

TEST(LoadStats, UniformLoadIsPerfectlyBalanced) {
  const std::vector<double> t(8, 5.0);
  const LoadStats s = load_stats(t);
  EXPECT_DOUBLE_EQ(s.imbalance, 1);
  EXPECT_DOUBLE_EQ(s.balancedness, 1);
  EXPECT_DOUBLE_EQ(s.cv, 0);
  EXPECT_DOUBLE_EQ(s.gini, 0);
  EXPECT_NEAR(s.entropy, 1, 1e-12);
}

TEST(LoadStats, OneExpert) {
  const std::vector<double> t{7};
  const LoadStats s = load_stats(t);
  EXPECT_TRUE(s.has_tokens);
  EXPECT_DOUBLE_EQ(s.imbalance, 1);
  EXPECT_DOUBLE_EQ(s.balancedness, 1);
  EXPECT_DOUBLE_EQ(s.cv, 0);
  EXPECT_DOUBLE_EQ(s.gini, 0);
  EXPECT_DOUBLE_EQ(s.entropy, 1);
  EXPECT_DOUBLE_EQ(s.p50, 7);
  EXPECT_DOUBLE_EQ(s.p99, 7);
  EXPECT_DOUBLE_EQ(s.hottest_1pct_share, 1);
}

TEST(LoadStats, AllTokensOnOneExpert) {
  // E = 5, tokens {0, 0, 50, 0, 0}: mean 10, imbalance 5, balancedness 1/5, gini 4/5, entropy 0.
  const std::vector<double> t{0, 0, 50, 0, 0};
  const LoadStats s = load_stats(t);
  EXPECT_DOUBLE_EQ(s.imbalance, 5);
  EXPECT_DOUBLE_EQ(s.balancedness, 0.2);
  EXPECT_DOUBLE_EQ(s.gini, 0.8);
  EXPECT_DOUBLE_EQ(s.entropy, 0);
  // Deviations: four of -10, one of 40: variance (400+1600)/5 = 400, sd 20, cv 2.
  EXPECT_DOUBLE_EQ(s.cv, 2);
  EXPECT_DOUBLE_EQ(s.hottest_10pct_share, 1);
  EXPECT_EQ(s.dead_experts, (std::vector<int32_t>{0, 1, 3, 4}));
}

TEST(LoadStats, EmptyWindowHasNoRatios) {
  const std::vector<double> t(4, 0.0);
  const LoadStats s = load_stats(t);
  EXPECT_FALSE(s.has_tokens);
  EXPECT_EQ(s.num_experts, 4);
  EXPECT_DOUBLE_EQ(s.total, 0);
  EXPECT_DOUBLE_EQ(s.imbalance, 0);
  EXPECT_DOUBLE_EQ(s.balancedness, 0);
  EXPECT_DOUBLE_EQ(s.cv, 0);
  EXPECT_DOUBLE_EQ(s.gini, 0);
  EXPECT_DOUBLE_EQ(s.entropy, 0);
  EXPECT_DOUBLE_EQ(s.hottest_10pct_share, 0);
  EXPECT_EQ(s.dead_experts, (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(LoadStats, NoExperts) {
  const LoadStats s = load_stats({});
  EXPECT_FALSE(s.has_tokens);
  EXPECT_EQ(s.num_experts, 0);
  EXPECT_TRUE(s.dead_experts.empty());
}

}  // namespace
}  // namespace moeprof::analysis

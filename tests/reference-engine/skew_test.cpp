// --skew zipf:S and --drift: the logit bias per layer and step.
#include "skew.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace moeprof::engine {
namespace {

std::vector<int32_t> ranks_of(const ZipfSkew& skew, int32_t layer, int64_t step, int32_t experts) {
  std::vector<int32_t> ranks;
  for (int32_t e = 0; e < experts; ++e) ranks.push_back(skew.popularity_rank(layer, step, e));
  return ranks;
}

TEST(ZipfSkew, BiasIsMinusSTimesLogOfOnePlusPopularityRank) {
  const ZipfSkew skew(1.2, false, 5, 3, 16);
  ASSERT_TRUE(skew.active());
  for (int32_t layer = 0; layer < 3; ++layer) {
    std::vector<int32_t> ranks = ranks_of(skew, layer, 0, 16);
    std::vector<float> bias(16);
    skew.logit_bias(layer, 0, bias.data());
    for (int32_t e = 0; e < 16; ++e) EXPECT_FLOAT_EQ(bias[size_t(e)], float(-1.2 * std::log(1.0 + ranks[size_t(e)])));
    std::sort(ranks.begin(), ranks.end());
    std::vector<int32_t> all(16);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(ranks, all) << "a permutation of the experts";
  }
  // Every layer its own hot experts (16! orders: equal ones would be a bug).
  EXPECT_NE(ranks_of(skew, 0, 0, 16), ranks_of(skew, 1, 0, 16));
  // Same seed, same skew; the steps do not matter without drift.
  EXPECT_EQ(ranks_of(skew, 2, 0, 16), ranks_of(ZipfSkew(1.2, false, 5, 3, 16), 2, 7, 16));
  EXPECT_NE(ranks_of(skew, 2, 0, 16), ranks_of(ZipfSkew(1.2, false, 6, 3, 16), 2, 0, 16));
}

TEST(ZipfSkew, DriftRotatesTheOrderOnePlacePerStep) {
  const ZipfSkew still(0.8, false, 1, 2, 8), drifting(0.8, true, 1, 2, 8);
  for (int64_t step : {0, 1, 5, 8, 13})
    for (int32_t e = 0; e < 8; ++e)
      EXPECT_EQ(drifting.popularity_rank(1, step, e), (still.popularity_rank(1, 0, e) + step) % 8);
}

TEST(ZipfSkew, NoSkewNoBias) {
  const ZipfSkew none(0.0, true, 1, 2, 8);
  EXPECT_FALSE(none.active());
  std::vector<float> bias(8, 1.0f);
  none.logit_bias(1, 3, bias.data());
  EXPECT_EQ(bias, std::vector<float>(8, 0.0f));
}

}  // namespace
}  // namespace moeprof::engine

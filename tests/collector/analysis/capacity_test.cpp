// Capacity factor for a drop target, against hand-computed batches.
#include "moeprof/analysis/capacity.h"

#include <gtest/gtest.h>

#include <cmath>

namespace moeprof::analysis {
namespace {

constexpr double kStep = 1.0 / CapacityCurve::kStepsPerUnit;

TEST(Capacity, OneSkewedBatch) {
  // 8 assignments over 4 experts: mean 2, loads 3x and 1x the mean. Capacity c x 2 tokens.
  CapacityCurve curve;
  curve.add_batch(std::vector<uint32_t>{6, 2, 0, 0});
  EXPECT_DOUBLE_EQ(curve.assignments(), 8);
  EXPECT_DOUBLE_EQ(curve.dropped_at(1.0), 4);  // 6-2 and 2-2
  EXPECT_DOUBLE_EQ(curve.dropped_at(2.0), 2);  // 6-4
  EXPECT_DOUBLE_EQ(curve.dropped_at(3.0), 0);
  EXPECT_DOUBLE_EQ(curve.factor_for_drop_fraction(0.25), 2.0);
  EXPECT_DOUBLE_EQ(curve.factor_for_drop_fraction(0.0), 3.0);
  // <= 1 % (0.08 tokens): 6 - 2c <= 0.08 -> c >= 2.96, rounded up to the resolution.
  EXPECT_DOUBLE_EQ(curve.factor_for_drop_fraction(0.01), std::ceil(2.96 / kStep) * kStep);
}

TEST(Capacity, EdgeCases) {
  CapacityCurve empty;
  EXPECT_EQ(empty.factor_for_drop_fraction(0.01), 0);
  empty.add_batch(std::vector<uint32_t>{0, 0, 0});  // a batch without tokens adds nothing
  EXPECT_EQ(empty.assignments(), 0);

  CapacityCurve one_expert;
  one_expert.add_batch(std::vector<uint32_t>{5});
  EXPECT_DOUBLE_EQ(one_expert.factor_for_drop_fraction(0.0), 1.0);

  CapacityCurve all_on_one;
  all_on_one.add_batch(std::vector<uint32_t>{0, 8, 0, 0});  // 4x the mean on one expert
  EXPECT_DOUBLE_EQ(all_on_one.factor_for_drop_fraction(0.0), 4.0);
  EXPECT_DOUBLE_EQ(all_on_one.dropped_at(1.0), 6);
}

TEST(Capacity, BatchesAddUp) {
  // A balanced batch never drops at c = 1; with a skewed one beside it only the skewed one does.
  CapacityCurve curve;
  curve.add_batch(std::vector<uint32_t>{10, 10, 10, 10});
  curve.add_batch(std::vector<uint32_t>{30, 5, 5, 0});  // mean 10
  EXPECT_DOUBLE_EQ(curve.assignments(), 80);
  EXPECT_DOUBLE_EQ(curve.dropped_at(1.0), 20);
  EXPECT_DOUBLE_EQ(curve.dropped_at(2.0), 10);
  // 10 % of 80 = 8 tokens: 30 - 10c <= 8 -> c >= 2.2.
  EXPECT_DOUBLE_EQ(curve.factor_for_drop_fraction(0.10), std::ceil(2.2 / kStep) * kStep);
}

TEST(Capacity, MergedCurvesEqualOneCurveOfAllBatches) {
  const std::vector<std::vector<uint32_t>> batches{{10, 10, 10, 10}, {30, 5, 5, 0}, {1, 0, 0, 7}, {0, 0, 0, 0}};
  CapacityCurve all, first, second;
  for (size_t i = 0; i < batches.size(); ++i) {
    all.add_batch(batches[i]);
    (i % 2 == 0 ? first : second).add_batch(batches[i]);
  }
  first.merge(second);
  EXPECT_DOUBLE_EQ(first.assignments(), all.assignments());
  for (double c : {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 3.5, 8.0}) EXPECT_DOUBLE_EQ(first.dropped_at(c), all.dropped_at(c)) << c;
  for (double f : {0.0, 0.01, 0.1, 0.5}) EXPECT_DOUBLE_EQ(first.factor_for_drop_fraction(f), all.factor_for_drop_fraction(f));
}

TEST(Capacity, CoarserBinsForHotExperts) {
  // Bins are 1/64 of the mean below 4x, 1/16 below 16x, 1/4 below 64x, whole above.
  EXPECT_DOUBLE_EQ(CapacityCurve::boundary(CapacityCurve::bin_of(3.99)), std::floor(3.99 * 64) / 64);
  EXPECT_DOUBLE_EQ(CapacityCurve::boundary(CapacityCurve::bin_of(4.0)), 4.0);
  EXPECT_DOUBLE_EQ(CapacityCurve::boundary(CapacityCurve::bin_of(10.1)), 10.0625);
  EXPECT_DOUBLE_EQ(CapacityCurve::boundary(CapacityCurve::bin_of(40.3)), 40.25);
  EXPECT_DOUBLE_EQ(CapacityCurve::boundary(CapacityCurve::bin_of(100.9)), 100.0);
  for (size_t bin = 0; bin < 2000; ++bin) {
    EXPECT_LT(CapacityCurve::boundary(bin), CapacityCurve::boundary(bin + 1));
    EXPECT_EQ(CapacityCurve::bin_of(CapacityCurve::boundary(bin)), bin);
  }
  // One expert at 10x the mean of 20 experts (200 of 200 tokens... mean 10): no drops needs
  // capacity 20x; a 5 % target (10 tokens) allows 200 - 10c <= 10 -> c >= 19, a boundary.
  std::vector<uint32_t> counts(20, 0);
  counts[0] = 200;
  CapacityCurve curve;
  curve.add_batch(counts);
  EXPECT_DOUBLE_EQ(curve.factor_for_drop_fraction(0.0), 20.0);
  EXPECT_DOUBLE_EQ(curve.factor_for_drop_fraction(0.05), 19.0);
  // 7 % (14 tokens): c >= 18.6, rounded up to the next 1/4: 18.75.
  EXPECT_DOUBLE_EQ(curve.factor_for_drop_fraction(0.07), 18.75);
}

TEST(Capacity, ExpertWeightBytes) {
  // DeepSeek-V3's routed expert: 3 x 7168 x 2048 weights, 1 byte each in FP8 (42 MiB).
  EXPECT_DOUBLE_EQ(expert_weight_bytes(7168, 2048, 1), 44040192.0);
  EXPECT_DOUBLE_EQ(expert_weight_bytes(4096, 14336, 2), 3.0 * 4096 * 14336 * 2);
  EXPECT_EQ(expert_weight_bytes(0, 2048, 2), 0);
  EXPECT_EQ(expert_weight_bytes(7168, -1, 2), 0);
}

}  // namespace
}  // namespace moeprof::analysis

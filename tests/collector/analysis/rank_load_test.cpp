#include "moeprof/analysis/rank_load.h"

#include <gtest/gtest.h>

#include <vector>

namespace moeprof::analysis {
namespace {

TEST(RankLoad, BlockPlacementIsContiguous) {
  EXPECT_EQ(block_placement(8, 2), (placement::ExpertRanks{{0}, {0}, {0}, {0}, {1}, {1}, {1}, {1}}));
  EXPECT_EQ(block_placement(3, 3), (placement::ExpertRanks{{0}, {1}, {2}}));
}

TEST(RankLoad, ReplicasSplitTokensEvenly) {
  // Experts {40, 10, 30, 20} on 2 ranks; expert 0 on both ranks -> 20 each.
  // rank 0: 20 + 10 = 30; rank 1: 20 + 30 + 20 = 70.
  const std::vector<double> t{40, 10, 30, 20};
  const placement::ExpertRanks p{{0, 1}, {0}, {1}, {1}};
  EXPECT_EQ(rank_tokens(t, p, 2), (std::vector<double>{30, 70}));
  // Overload = 70 / (100 / 2) = 1.4; balancedness = 50 / 70.
  EXPECT_DOUBLE_EQ(overload_factor(rank_tokens(t, p, 2)), 1.4);
  EXPECT_DOUBLE_EQ(rank_balancedness(rank_tokens(t, p, 2)), 50.0 / 70);
}

TEST(RankLoad, UnplacedTokensAreCounted) {
  const std::vector<double> t{5, 6, 7};
  const placement::ExpertRanks p{{0}, {}, {9}};  // expert 1 nowhere, expert 2 out of range
  double unplaced = 0;
  EXPECT_EQ(rank_tokens(t, p, 2, &unplaced), (std::vector<double>{5, 0}));
  EXPECT_DOUBLE_EQ(unplaced, 13);
}

TEST(RankLoad, EdgeCases) {
  EXPECT_DOUBLE_EQ(overload_factor(std::vector<double>{0, 0}), 0);
  EXPECT_DOUBLE_EQ(overload_factor(std::vector<double>{}), 0);
  EXPECT_DOUBLE_EQ(overload_factor(std::vector<double>{9}), 1);
  // All tokens on one of 4 ranks: overload = 4.
  EXPECT_DOUBLE_EQ(overload_factor(std::vector<double>{0, 12, 0, 0}), 4);
}

TEST(RankLoad, PerLayerAndSummed) {
  ExpertLoadMatrix m;
  m.resize(2, 4);
  m.tokens[0] = {40, 10, 30, 20};
  m.tokens[1] = {1, 1, 1, 1};
  placement::PlacementFile p;
  p.num_experts = 4;
  p.num_ranks = 2;
  p.layers[0] = {{0, 1}, {0}, {1}, {1}};  // layer 1 not listed: block placement
  const RankLoad r = rank_load(m, p);
  ASSERT_EQ(r.per_layer.size(), 2u);
  EXPECT_EQ(r.per_layer[0], (std::vector<double>{30, 70}));
  EXPECT_EQ(r.per_layer[1], (std::vector<double>{2, 2}));
  EXPECT_DOUBLE_EQ(r.overload_per_layer[0], 1.4);
  EXPECT_DOUBLE_EQ(r.overload_per_layer[1], 1);
  // Summed {32, 72}: overload 72 / 52.
  EXPECT_EQ(r.summed, (std::vector<double>{32, 72}));
  EXPECT_DOUBLE_EQ(r.overload_summed, 72.0 / 52);
  // Weights held: layer 0 rank 0 has experts 0 (a replica) and 1, rank 1 has 0, 2 and 3;
  // layer 1's blocks put two experts on each rank.
  EXPECT_EQ(r.expert_slots, (std::vector<int64_t>{4, 5}));
}

TEST(RankLoad, PlacementFromTraceRows) {
  // Two ranks report layer 0 (the first report wins); layer 2 has expert 1 replicated.
  const std::vector<store::LayerPlacement> rows{
      {.rank = 0, .layer = 0, .slots = {{0, 0}, {1, 1}, {2, 1}}},
      {.rank = 1, .layer = 0, .slots = {{0, 1}, {1, 0}, {2, 0}}},
      {.rank = 0, .layer = 2, .slots = {{0, 0}, {1, 0}, {1, 2}, {2, 1}, {1, 2}}},
  };
  const placement::PlacementFile p = placement_from_trace(rows, 3);
  EXPECT_EQ(p.num_experts, 3);
  EXPECT_EQ(p.num_ranks, 3);
  ASSERT_EQ(p.layers.size(), 2u);
  EXPECT_EQ(p.layers.at(0), (placement::ExpertRanks{{0}, {1}, {1}}));
  EXPECT_EQ(p.layers.at(2), (placement::ExpertRanks{{0}, {0, 2}, {1}}));
  EXPECT_EQ(p.layer(1), nullptr);
}

}  // namespace
}  // namespace moeprof::analysis

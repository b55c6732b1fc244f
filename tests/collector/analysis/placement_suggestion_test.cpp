#include "moeprof/analysis/placement_suggestion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "moeprof/analysis/rank_load.h"

namespace moeprof::analysis {
namespace {

ExpertLoadMatrix matrix(std::vector<std::vector<double>> rows) {
  ExpertLoadMatrix m;
  m.resize(static_cast<int32_t>(rows.size()), static_cast<int32_t>(rows.at(0).size()));
  m.tokens = std::move(rows);
  return m;
}

double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

// The structural rules of a suggestion, checked from the placement alone.
void expect_valid(const PlacementSuggestion& s, const ExpertLoadMatrix& load, const SuggestionOptions& o) {
  const int32_t slots = (load.num_experts + o.redundant_per_layer) / o.num_ranks;
  ASSERT_EQ(s.placement.num_ranks, o.num_ranks);
  ASSERT_EQ(s.placement.num_experts, load.num_experts);
  ASSERT_EQ(s.placement.layers.size(), static_cast<size_t>(load.num_layers));
  std::string error;
  EXPECT_TRUE(placement::check_placement_fits(s.placement, "suggestion", load.num_experts, o.num_ranks,
                                              load.num_layers, &error))
      << error;
  for (const auto& [layer, experts] : s.placement.layers) {
    std::vector<int32_t> used(static_cast<size_t>(o.num_ranks), 0);
    for (const auto& ranks : experts) {
      EXPECT_FALSE(ranks.empty()) << "layer " << layer << ": an expert is not placed";
      EXPECT_EQ(std::set<int32_t>(ranks.begin(), ranks.end()).size(), ranks.size()) << "two replicas on one rank";
      for (int32_t r : ranks) ++used.at(static_cast<size_t>(r));
    }
    if (!s.layers[static_cast<size_t>(layer)].kept_input) {
      for (int32_t u : used) EXPECT_LE(u, slots) << "layer " << layer << ": a rank holds more than its slots";
    }
  }
  // The predictions agree with an independent recomputation from the returned placement.
  for (int32_t layer = 0; layer < load.num_layers; ++layer) {
    const auto ranks = rank_tokens(load.layer(layer), s.placement.layers.at(layer), o.num_ranks);
    EXPECT_NEAR(s.layers[static_cast<size_t>(layer)].busiest_after, max_of(ranks), 1e-9);
    EXPECT_LE(s.layers[static_cast<size_t>(layer)].busiest_after, s.layers[static_cast<size_t>(layer)].busiest_before);
  }
}

TEST(PlacementSuggestion, SkewedLoadBeatsBlockPlacement) {
  // 8 experts on 4 ranks, 4 redundant slots (3 slots per rank). Block: rank 0 holds experts 0
  // and 1 = 80 + 70 = 150 tokens of 156.
  const auto load = matrix({{80, 70, 1, 1, 1, 1, 1, 1}});
  const SuggestionOptions o{.num_ranks = 4, .redundant_per_layer = 4};
  PlacementSuggestion s;
  std::string error;
  ASSERT_TRUE(suggest_placement(load, o, nullptr, &s, &error)) << error;
  expect_valid(s, load, o);
  EXPECT_DOUBLE_EQ(s.layers[0].busiest_before, 150);
  EXPECT_DOUBLE_EQ(s.layers[0].balancedness_before, 39.0 / 150);
  // Replication: 80 -> 2 (40), 70 -> 2 (35), 80 -> 3 (26.7), 70 -> 3 (23.3): six replicas of
  // the hot pair; no rank can do better than total / ranks = 39.
  EXPECT_EQ(s.placement.layers.at(0)[0].size(), 3u);
  EXPECT_EQ(s.placement.layers.at(0)[1].size(), 3u);
  EXPECT_LT(s.layers[0].busiest_after, 0.5 * 150);
  EXPECT_GE(s.layers[0].busiest_after, 39 - 1e-9);
  EXPECT_FALSE(s.layers[0].kept_input);
  EXPECT_GT(s.balancedness_after, s.balancedness_before);
}

TEST(PlacementSuggestion, WithoutRedundancyBalancesByPacking) {
  // 4 experts, 2 ranks, 2 slots each. Block: {10+9, 1+8} = {19, 9}. Best packing {10+1, 9+8}
  // = {11, 17}? No: {10+8, 9+1} = {18, 10}, {10+1, 9+8} = {11, 17}: the best busiest is 17.
  // Greedy: 10 -> r0, 9 -> r1, 8 -> r1 (9 < 10), 1 -> r0: {11, 17}.
  const auto load = matrix({{10, 9, 1, 8}});
  const SuggestionOptions o{.num_ranks = 2};
  PlacementSuggestion s;
  std::string error;
  ASSERT_TRUE(suggest_placement(load, o, nullptr, &s, &error)) << error;
  expect_valid(s, load, o);
  EXPECT_DOUBLE_EQ(s.layers[0].busiest_before, 19);
  EXPECT_DOUBLE_EQ(s.layers[0].busiest_after, 17);
  EXPECT_EQ(s.placement.layers.at(0), (placement::ExpertRanks{{0}, {1}, {0}, {1}}));
}

TEST(PlacementSuggestion, NeverWorseThanTheInput) {
  // The input replicates the hot expert on both ranks ({51, 52}); with no redundant slots the
  // heuristic can only reach 100, so the input is kept.
  const auto load = matrix({{100, 1, 1, 1}, {1, 1, 1, 1}});
  placement::PlacementFile input;
  input.num_experts = 4;
  input.num_ranks = 2;
  input.layers[0] = {{0, 1}, {0}, {1}, {1}};
  const SuggestionOptions o{.num_ranks = 2};
  PlacementSuggestion s;
  std::string error;
  ASSERT_TRUE(suggest_placement(load, o, &input, &s, &error)) << error;
  EXPECT_TRUE(s.layers[0].kept_input);
  EXPECT_EQ(s.placement.layers.at(0), input.layers[0]);
  EXPECT_DOUBLE_EQ(s.layers[0].busiest_before, 52);
  EXPECT_DOUBLE_EQ(s.layers[0].busiest_after, 52);
  // Layer 1 is not in the input: block placement before, {2, 2}: nothing to gain.
  EXPECT_DOUBLE_EQ(s.layers[1].busiest_before, 2);
  EXPECT_DOUBLE_EQ(s.layers[1].busiest_after, 2);
  EXPECT_DOUBLE_EQ(s.busiest_before, 54);
  EXPECT_DOUBLE_EQ(s.busiest_after, 54);
}

TEST(PlacementSuggestion, HierarchicalKeepsReplicasWithinANode) {
  // 8 experts, 4 ranks on 2 nodes (ranks 0-1, 2-3), 4 redundant slots (2 per node).
  const auto load = matrix({{50, 40, 30, 20, 5, 4, 3, 2}});
  const SuggestionOptions o{.num_ranks = 4, .redundant_per_layer = 4, .num_nodes = 2};
  PlacementSuggestion s;
  std::string error;
  ASSERT_TRUE(suggest_placement(load, o, nullptr, &s, &error)) << error;
  expect_valid(s, load, o);
  std::vector<int32_t> experts_on_node(2, 0);
  for (const auto& ranks : s.placement.layers.at(0)) {
    const int32_t node = ranks.front() / 2;
    for (int32_t r : ranks) EXPECT_EQ(r / 2, node) << "a replica left its node";
    ++experts_on_node[static_cast<size_t>(node)];
  }
  EXPECT_EQ(experts_on_node, (std::vector<int32_t>{4, 4}));
  // Block: rank 0 = 50 + 40 = 90.
  EXPECT_DOUBLE_EQ(s.layers[0].busiest_before, 90);
  EXPECT_LT(s.layers[0].busiest_after, 90);
}

TEST(PlacementSuggestion, RandomLoadsKeepEveryRule) {
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 200; ++trial) {
    const int32_t nodes = std::uniform_int_distribution<int32_t>(0, 2)(rng);
    const int32_t ranks = std::max(nodes, 1) * std::uniform_int_distribution<int32_t>(1, 4)(rng);
    const int32_t experts = ranks * std::uniform_int_distribution<int32_t>(1, 4)(rng);
    const int32_t redundant = ranks * std::uniform_int_distribution<int32_t>(0, 2)(rng);
    std::vector<std::vector<double>> rows(3, std::vector<double>(static_cast<size_t>(experts)));
    std::exponential_distribution<double> skew(0.05);
    for (auto& row : rows)
      for (double& x : row) x = std::floor(skew(rng));
    const auto load = matrix(rows);
    const SuggestionOptions o{.num_ranks = ranks, .redundant_per_layer = redundant, .num_nodes = nodes};
    PlacementSuggestion s;
    std::string error;
    ASSERT_TRUE(suggest_placement(load, o, nullptr, &s, &error)) << error;
    SCOPED_TRACE("trial " + std::to_string(trial));
    expect_valid(s, load, o);
    EXPECT_LE(s.busiest_after, s.busiest_before + 1e-9);
  }
}

TEST(PlacementSuggestion, OneExpertOneRankAndEmptyLoad) {
  PlacementSuggestion s;
  std::string error;
  ASSERT_TRUE(suggest_placement(matrix({{7}}), {.num_ranks = 1}, nullptr, &s, &error)) << error;
  EXPECT_EQ(s.placement.layers.at(0), (placement::ExpertRanks{{0}}));
  EXPECT_DOUBLE_EQ(s.layers[0].busiest_after, 7);
  EXPECT_DOUBLE_EQ(s.layers[0].balancedness_after, 1);
  // No tokens at all: a valid placement, predictions 0.
  const auto zeros = matrix({{0, 0, 0, 0}});
  ASSERT_TRUE(suggest_placement(zeros, {.num_ranks = 2}, nullptr, &s, &error)) << error;
  expect_valid(s, zeros, {.num_ranks = 2});
  EXPECT_DOUBLE_EQ(s.busiest_after, 0);
  EXPECT_DOUBLE_EQ(s.balancedness_after, 0);
}

TEST(PlacementSuggestion, RefusesImpossibleOptions) {
  const auto load = matrix({{1, 2, 3, 4}});
  PlacementSuggestion s;
  std::string error;
  EXPECT_FALSE(suggest_placement(load, {.num_ranks = 0}, nullptr, &s, &error));
  EXPECT_NE(error.find("ranks"), std::string::npos) << error;
  EXPECT_FALSE(suggest_placement(load, {.num_ranks = 3}, nullptr, &s, &error));
  EXPECT_NE(error.find("divide evenly"), std::string::npos) << error;
  EXPECT_FALSE(suggest_placement(load, {.num_ranks = 2, .redundant_per_layer = -2}, nullptr, &s, &error));
  EXPECT_FALSE(suggest_placement(load, {.num_ranks = 2, .num_nodes = 3}, nullptr, &s, &error));
  EXPECT_NE(error.find("nodes"), std::string::npos) << error;
  EXPECT_FALSE(suggest_placement(ExpertLoadMatrix{}, {.num_ranks = 2}, nullptr, &s, &error));
  EXPECT_NE(error.find("no expert load"), std::string::npos) << error;
}

TEST(PlacementSuggestion, WritesAPlacementFileThatReadsBack) {
  const auto load = matrix({{80, 70, 1, 1, 1, 1, 1, 1}, {1, 2, 3, 4, 5, 6, 7, 8}});
  PlacementSuggestion s;
  std::string error;
  ASSERT_TRUE(suggest_placement(load, {.num_ranks = 4, .redundant_per_layer = 4}, nullptr, &s, &error)) << error;
  placement::PlacementFile back;
  ASSERT_TRUE(placement::parse_placement(placement::format_placement(s.placement), "p.json", &back, &error)) << error;
  EXPECT_EQ(back, s.placement);
}

}  // namespace
}  // namespace moeprof::analysis

// Dispatch layout: every kept pair is sent exactly once, to the rank (or replica) that
// computes its expert, grouped by rank then expert then token; the combine order.
#include "dispatch_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <ostream>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "expert_map.h"

namespace moeprof::engine {
namespace {

TEST(ExpertMap, BlockPlacementSpreadsExpertsEvenly) {
  const placement::ExpertRanks blocks = block_placement(8, 4);
  EXPECT_EQ(blocks, (placement::ExpertRanks{{0}, {0}, {1}, {1}, {2}, {2}, {3}, {3}}));
  const placement::ExpertRanks uneven = block_placement(8, 3);
  for (size_t e = 1; e < uneven.size(); ++e) EXPECT_GE(uneven[e][0], uneven[e - 1][0]);
  std::map<int32_t, int> per_rank;
  for (const auto& r : uneven) ++per_rank[r[0]];
  EXPECT_EQ(per_rank.size(), 3u);
  for (const auto& [rank, n] : per_rank) EXPECT_TRUE(n == 2 || n == 3) << rank;
  const ExpertMap map(block_placement(256, 4), 4);
  for (int32_t r = 0; r < 4; ++r) EXPECT_EQ(map.experts_on(r).size(), 64u);
  EXPECT_EQ(map.experts_on(1).front(), 64);
}

TEST(ExpertMap, ReplicasTakeTokensInTurn) {
  const ExpertMap map({{2}, {0, 3, 1}, {1, 0}}, 4);
  EXPECT_EQ(map.destination(0, 17), 2);
  EXPECT_EQ(map.destination(1, 0), 0);
  EXPECT_EQ(map.destination(1, 1), 3);
  EXPECT_EQ(map.destination(1, 5), 1);
  EXPECT_EQ(map.destination(2, 9), 0);
  EXPECT_EQ(map.experts_on(0), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(map.experts_on(1), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(map.experts_on(2), (std::vector<int32_t>{0}));
  EXPECT_EQ(map.experts_on(3), (std::vector<int32_t>{1}));
}

TEST(ExpertMap, OnePerLayerFromTheFileOrBlocks) {
  placement::PlacementFile file;
  file.num_experts = 2;
  file.num_ranks = 2;
  file.layers[1] = {{1}, {0}};
  file.default_layer = placement::ExpertRanks{{0, 1}, {1}};
  const std::vector<ExpertMap> maps = expert_maps(&file, 3, 2, 2);
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[0].ranks_of(0), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(maps[1].ranks_of(0), (std::vector<int32_t>{1}));
  EXPECT_EQ(maps[2].ranks_of(1), (std::vector<int32_t>{1}));
  EXPECT_EQ(expert_maps(nullptr, 2, 2, 2)[1].ranks_of(1), (std::vector<int32_t>{1}));
}

struct PlanCase {
  uint32_t tokens, top_k, experts;
  int32_t ranks;
  uint32_t begin, end;
  int64_t first_token;
};

std::ostream& operator<<(std::ostream& out, const PlanCase& c) {
  return out << "tokens=" << c.tokens << ",top_k=" << c.top_k << ",experts=" << c.experts << ",ranks=" << c.ranks
             << ",tokens_used=" << c.begin << ".." << c.end << ",first_token=" << c.first_token;
}

class DispatchPlanTest : public testing::TestWithParam<PlanCase> {};

TEST_P(DispatchPlanTest, SendsEveryKeptPairOnceToItsExpertsRank) {
  const PlanCase c = GetParam();
  std::mt19937 random(c.tokens * 31 + c.top_k);
  // Distinct experts per token, some dropped (-1).
  std::vector<int32_t> ids;
  for (uint32_t t = 0; t < c.tokens; ++t) {
    std::vector<int32_t> all(c.experts);
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), random);
    for (uint32_t j = 0; j < c.top_k; ++j) ids.push_back(random() % 7 == 0 ? -1 : all[j]);
  }
  // Random placement with replicas.
  placement::ExpertRanks ranks(c.experts);
  for (auto& r : ranks) {
    std::vector<int32_t> all(static_cast<size_t>(c.ranks));
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), random);
    r.assign(all.begin(), all.begin() + 1 + std::ptrdiff_t(random() % std::min<uint32_t>(3, c.ranks)));
  }
  const ExpertMap map(ranks, c.ranks);
  const DispatchPlan plan = plan_dispatch(ids, c.top_k, c.begin, c.end, c.first_token, map, c.ranks);

  // The kept pairs of the token range, each exactly once.
  std::vector<uint32_t> want;
  for (uint32_t p = c.begin * c.top_k; p < c.end * c.top_k; ++p)
    if (ids[p] >= 0) want.push_back(p);
  std::vector<uint32_t> got = plan.row_to_pair;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(plan.sorted_pairs, want);

  ASSERT_EQ(plan.rows_to_peer.size(), size_t(c.ranks));
  size_t row = 0;
  for (int32_t dest = 0; dest < c.ranks; ++dest) {
    std::tuple<int32_t, uint32_t> previous{-1, 0};
    for (int32_t n = 0; n < plan.rows_to_peer[size_t(dest)]; ++n, ++row) {
      const uint32_t pair = plan.row_to_pair[row], token = pair / c.top_k;
      const int32_t expert = ids[pair];
      EXPECT_EQ(plan.row_expert[row], expert);
      const auto& replicas = ranks[size_t(expert)];
      EXPECT_EQ(dest, replicas[size_t((c.first_token + token) % int64_t(replicas.size()))]) << "row " << row;
      const std::tuple<int32_t, uint32_t> key{expert, token};
      EXPECT_LT(previous, key) << "rows to a rank go by expert, then token";
      previous = key;
      EXPECT_EQ(plan.sorted_pairs[plan.row_to_sorted[row]], pair);
    }
  }
  EXPECT_EQ(row, plan.row_to_pair.size());
}

INSTANTIATE_TEST_SUITE_P(Shapes, DispatchPlanTest,
                         testing::Values(PlanCase{64, 8, 32, 4, 0, 64, 0}, PlanCase{64, 8, 32, 4, 16, 48, 640},
                                         PlanCase{33, 2, 8, 2, 0, 33, 33}, PlanCase{10, 1, 3, 5, 3, 4, 7},
                                         PlanCase{20, 4, 16, 1, 0, 20, 0}, PlanCase{8, 2, 4, 3, 5, 5, 0}));

TEST(ExpertGroups, GroupReceivedRowsByExpertKeepingArrivalOrder) {
  const std::vector<int32_t> arrived = {3, 1, 3, 0, 1, 3};
  const ExpertGroups g = group_by_expert(arrived, 4);
  EXPECT_EQ(g.expert_offsets, (std::vector<uint32_t>{0, 1, 3, 3, 6}));
  EXPECT_EQ(g.grouped_to_row, (std::vector<uint32_t>{3, 1, 4, 0, 2, 5}));
}

}  // namespace
}  // namespace moeprof::engine

#include "moeprof/analysis/coactivation.h"

#include <gtest/gtest.h>

#include <vector>

#include "moeprof/store/writer.h"
#include "trace_fixture.h"

namespace moeprof::analysis {
namespace {

wire::Routing routing(uint32_t top_k, std::vector<int32_t> ids) {
  wire::Routing r;
  r.top_k = top_k;
  r.num_tokens = static_cast<uint32_t>(ids.size() / top_k);
  r.expert_ids = std::move(ids);
  return r;
}

TEST(Coactivation, CountsUnorderedPairsPerToken) {
  Coactivation c;
  // Tokens: {0,1,2} {1,0,3} {2,1,0} {3,3,-1}.
  // Pairs: t0: 01 02 12; t1: 01 03 13; t2: 01 02 12; t3: repeat and "no expert" -> none.
  c.add(routing(3, {0, 1, 2, 1, 0, 3, 2, 1, 0, 3, 3, -1}));
  EXPECT_EQ(c.tokens, 4u);
  EXPECT_EQ(c.pairs.size(), 5u);
  EXPECT_EQ(c.pairs.at({0, 1}), 3u);
  EXPECT_EQ(c.pairs.at({0, 2}), 2u);
  EXPECT_EQ(c.pairs.at({1, 2}), 2u);
  EXPECT_EQ(c.pairs.at({0, 3}), 1u);
  EXPECT_EQ(c.pairs.at({1, 3}), 1u);
  // Top 3: (0,1)=3, then the ties (0,2)=2 and (1,2)=2 in (a, b) order.
  EXPECT_EQ(c.top_pairs(3), (std::vector<ExpertPair>{{0, 1, 3}, {0, 2, 2}, {1, 2, 2}}));
  EXPECT_EQ(c.top_pairs(100).size(), 5u);
}

TEST(Coactivation, MergedCountsEqualOneCountOfAllTokens) {
  Coactivation all, first, second;
  all.add(routing(2, {0, 1, 1, 2, 0, 1, 3, 2}));
  first.add(routing(2, {0, 1, 1, 2}));
  second.add(routing(2, {0, 1, 3, 2}));
  first.merge(second);
  EXPECT_EQ(first.tokens, all.tokens);
  EXPECT_EQ(first.pairs, all.pairs);
}

TEST(Coactivation, TopOneHasNoPairs) {
  Coactivation c;
  c.add(routing(1, {4, 5, 6}));
  EXPECT_EQ(c.tokens, 3u);
  EXPECT_TRUE(c.pairs.empty());
  EXPECT_TRUE(c.top_pairs(5).empty());
}

TEST(Coactivation, PerLayerFromTrace) {
  testing::TempDir dir;
  const std::string path = dir.file("r.db");
  std::string error;
  auto w = store::Writer::create(path, &error);
  ASSERT_TRUE(w) << error;
  w->set_model({.name = "m", .num_layers = 2, .num_experts = 4, .top_k = 2});
  // Layer 0, two ranks: tokens {0,1} {1,0} on rank 0 and {0,1} {2,3} on rank 1.
  w->add_router_decisions({.rank = 0, .step = 0, .layer = 0, .token_offset = 0, .routing = routing(2, {0, 1, 1, 0})});
  w->add_router_decisions({.rank = 1, .step = 0, .layer = 0, .token_offset = 0, .routing = routing(2, {0, 1, 2, 3})});
  // Layer 1: one token {3,2}.
  w->add_router_decisions({.rank = 0, .step = 1, .layer = 1, .token_offset = 0, .routing = routing(2, {3, 2})});
  ASSERT_TRUE(w->finalize({}, &error)) << error;
  auto reader = store::Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;

  const auto all = coactivation(*reader, {});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.at(0).tokens, 4u);
  EXPECT_EQ(all.at(0).top_pairs(10), (std::vector<ExpertPair>{{0, 1, 3}, {2, 3, 1}}));
  EXPECT_EQ(all.at(1).top_pairs(10), (std::vector<ExpertPair>{{2, 3, 1}}));
  // Rank 1 only: layer 0 pairs (0,1) and (2,3) once each.
  const auto r1 = coactivation(*reader, {.rank = 1});
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1.at(0).top_pairs(10), (std::vector<ExpertPair>{{0, 1, 1}, {2, 3, 1}}));
  EXPECT_TRUE(coactivation(*reader, {.step_begin = 5}).empty());
}

}  // namespace
}  // namespace moeprof::analysis

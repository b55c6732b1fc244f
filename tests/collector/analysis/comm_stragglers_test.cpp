#include "moeprof/analysis/comm_stragglers.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace moeprof::analysis {
namespace {

using store::AllToAllEvent;
using wire::Phase;

AllToAllEvent make_event(int32_t rank, int64_t step, Phase phase, int64_t start) {
  AllToAllEvent e;
  e.rank = rank;
  e.step = step;
  e.layer = 0;
  e.phase = phase;
  e.start_ns = start;
  e.end_ns = start + 5;
  return e;
}

// Three ranks, layer 0 (start times in ns):
//   step 1 dispatch, 1st occurrence: r0 100, r1 130, r2 110 -> r1 last, wait 30 + 20 = 50
//   step 1 dispatch, 2nd occurrence: r0 500, r1 500, r2 540 -> r2 last, wait 40 + 40 = 80
//   step 1 combine:                  all at 200             -> no straggler
//   step 2 dispatch:                 r0 1000, r1 1010       -> r1 last, wait 10
//   step 3 dispatch:                 r2 only                -> not an instance
// Instances: 4. r0 took part in 4, r1 in 4, r2 in 3 (absent from step 2).
// r1: last twice, caused 50 + 10 = 60; r2: last once, caused 80; r0: never last.
std::vector<AllToAllEvent> events() {
  return {make_event(0, 1, Phase::kDispatch, 100), make_event(1, 1, Phase::kDispatch, 130),
          make_event(2, 1, Phase::kDispatch, 110), make_event(0, 1, Phase::kDispatch, 500),
          make_event(1, 1, Phase::kDispatch, 500), make_event(2, 1, Phase::kDispatch, 540),
          make_event(0, 1, Phase::kCombine, 200),  make_event(1, 1, Phase::kCombine, 200),
          make_event(2, 1, Phase::kCombine, 200),  make_event(0, 2, Phase::kDispatch, 1000),
          make_event(1, 2, Phase::kDispatch, 1010), make_event(2, 3, Phase::kDispatch, 2000)};
}

TEST(CommStragglers, LatestStarterIsLastAndCausesTheWait) {
  const Stragglers s = find_stragglers(events());
  EXPECT_EQ(s.instances, 4);
  EXPECT_EQ(s.ranks, (std::vector<RankStraggling>{{0, 4, 0, 0}, {1, 4, 2, 60}, {2, 3, 1, 80}}));
}

TEST(CommStragglers, InputOrderDoesNotMatter) {
  // Occurrences are matched by start order per rank, not by input order.
  auto shuffled = events();
  std::reverse(shuffled.begin(), shuffled.end());
  const Stragglers s = find_stragglers(shuffled);
  EXPECT_EQ(s.instances, 4);
  EXPECT_EQ(s.ranks, (std::vector<RankStraggling>{{0, 4, 0, 0}, {1, 4, 2, 60}, {2, 3, 1, 80}}));
}

TEST(CommStragglers, OnePhaseOnly) {
  // combine: one instance, all ranks start together: no straggler
  const Stragglers combine = find_stragglers(events(), Phase::kCombine);
  EXPECT_EQ(combine.instances, 1);
  EXPECT_EQ(combine.ranks, (std::vector<RankStraggling>{{0, 1, 0, 0}, {1, 1, 0, 0}, {2, 1, 0, 0}}));
}

TEST(CommStragglers, TieForLatestGoesToTheLowestRank) {
  // r0 10, r1 20, r2 20: r1 and r2 tie; r1 is last, wait (20-10) + (20-20) = 10
  const Stragglers s = find_stragglers({make_event(2, 4, Phase::kDispatch, 20), make_event(0, 4, Phase::kDispatch, 10),
                                        make_event(1, 4, Phase::kDispatch, 20)});
  EXPECT_EQ(s.instances, 1);
  EXPECT_EQ(s.ranks, (std::vector<RankStraggling>{{0, 1, 0, 0}, {1, 1, 1, 10}, {2, 1, 0, 0}}));
}

TEST(CommStragglers, EmptyAndSingleRank) {
  EXPECT_EQ(find_stragglers({}).instances, 0);
  EXPECT_TRUE(find_stragglers({}).ranks.empty());
  const Stragglers alone = find_stragglers({make_event(0, 1, Phase::kDispatch, 0)});
  EXPECT_EQ(alone.instances, 0);
  EXPECT_TRUE(alone.ranks.empty());
}

}  // namespace
}  // namespace moeprof::analysis

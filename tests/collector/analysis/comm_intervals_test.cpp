#include "moeprof/analysis/comm_intervals.h"

#include <gtest/gtest.h>

namespace moeprof::analysis {
namespace {

TEST(CommIntervals, UnionOfDisjointSpansAddsTheirLengths) {
  // [0,10) + [20,25) = 10 + 5
  EXPECT_EQ(union_length({{20, 25}, {0, 10}}), 15);
  EXPECT_EQ(merge_intervals({{20, 25}, {0, 10}}), (std::vector<Interval>{{0, 10}, {20, 25}}));
}

TEST(CommIntervals, NestedSpanCountsOnce) {
  // [10,20) lies inside [0,100): the union is [0,100) = 100
  EXPECT_EQ(union_length({{0, 100}, {10, 20}}), 100);
  EXPECT_EQ(merge_intervals({{10, 20}, {0, 100}}), (std::vector<Interval>{{0, 100}}));
}

TEST(CommIntervals, TouchingAndOverlappingSpansMerge) {
  // [0,10) and [10,30) touch: one interval [0,30) = 30
  EXPECT_EQ(merge_intervals({{0, 10}, {10, 30}}), (std::vector<Interval>{{0, 30}}));
  // [0,10) and [5,15) overlap by 5: 10 + 10 - 5 = 15
  EXPECT_EQ(union_length({{0, 10}, {5, 15}}), 15);
}

TEST(CommIntervals, EmptyAndInvertedSpansAddNothing) {
  EXPECT_EQ(union_length({}), 0);
  EXPECT_EQ(union_length({{5, 5}, {9, 3}}), 0);
  EXPECT_TRUE(merge_intervals({{5, 5}}).empty());
  // an empty span inside a gap must not bridge it: [0,10) + [20,30) = 20
  EXPECT_EQ(union_length({{0, 10}, {15, 15}, {20, 30}}), 20);
}

TEST(CommIntervals, UnionBuilderMergesSortedAndUnsortedInput) {
  IntervalUnion sorted;
  sorted.add(0, 10);
  sorted.add(5, 12);   // extends to [0,12)
  sorted.add(12, 20);  // touches: [0,20)
  sorted.add(30, 40);
  EXPECT_EQ(sorted.length(), 30);  // 20 + 10
  EXPECT_EQ(std::vector<Interval>(sorted.merged().begin(), sorted.merged().end()),
            (std::vector<Interval>{{0, 20}, {30, 40}}));

  IntervalUnion unsorted;
  unsorted.add(20, 30);
  unsorted.add(0, 10);
  unsorted.add(5, 25);  // bridges both: [0,30)
  EXPECT_EQ(unsorted.length(), 30);
  unsorted.add(40, 45);  // adding after a merge still works: 30 + 5
  EXPECT_EQ(unsorted.length(), 35);

  IntervalUnion empty;
  EXPECT_EQ(empty.length(), 0);
  EXPECT_TRUE(empty.merged().empty());
}

TEST(CommIntervals, IntersectionOfTwoUnions) {
  const std::vector<Interval> a{{0, 10}, {20, 30}};
  const std::vector<Interval> b{{5, 25}};
  // [5,10) + [20,25) = 5 + 5
  EXPECT_EQ(intersection_length(a, b), 10);
  EXPECT_EQ(intersection_length(b, a), 10);
  // nested: [10,20) and [30,40) inside [0,100) = 10 + 10
  EXPECT_EQ(intersection_length(std::vector<Interval>{{0, 100}}, std::vector<Interval>{{10, 20}, {30, 40}}), 20);
  // touching spans share no time
  EXPECT_EQ(intersection_length(std::vector<Interval>{{0, 10}}, std::vector<Interval>{{10, 20}}), 0);
  // disjoint and empty
  EXPECT_EQ(intersection_length(std::vector<Interval>{{0, 10}}, std::vector<Interval>{{50, 60}}), 0);
  EXPECT_EQ(intersection_length(a, std::vector<Interval>{}), 0);
  // many short spans against one long [0,8): [2,3)=1, [4,5)=1, [6,8)=2 -> 4
  EXPECT_EQ(intersection_length(std::vector<Interval>{{2, 3}, {4, 5}, {6, 9}}, std::vector<Interval>{{0, 8}}), 1 + 1 + 2);
}

TEST(CommIntervals, IntersectionListsThePiecesBothCover) {
  const std::vector<Interval> a{{0, 10}, {20, 30}};
  const std::vector<Interval> b{{5, 25}, {28, 40}};
  const std::vector<Interval> expected{{5, 10}, {20, 25}, {28, 30}};
  EXPECT_EQ(intersect_intervals(a, b), expected);
  EXPECT_EQ(intersect_intervals(b, a), expected);
  EXPECT_EQ(merged_length(intersect_intervals(a, b)), intersection_length(a, b));
  EXPECT_TRUE(intersect_intervals(std::vector<Interval>{{0, 10}}, std::vector<Interval>{{10, 20}}).empty());
  EXPECT_TRUE(intersect_intervals(a, std::vector<Interval>{}).empty());
}

TEST(CommIntervals, ClipKeepsThePartInsideTheWindow) {
  const std::vector<Interval> merged{{0, 10}, {20, 30}, {40, 50}};
  // window [5,25): [5,10) and [20,25); [40,50) is outside
  EXPECT_EQ(clip_intervals(merged, 5, 25), (std::vector<Interval>{{5, 10}, {20, 25}}));
  EXPECT_TRUE(clip_intervals(merged, 10, 20).empty());
}

}  // namespace
}  // namespace moeprof::analysis

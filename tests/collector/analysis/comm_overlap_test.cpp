#include "moeprof/analysis/comm_overlap.h"

#include <gtest/gtest.h>

namespace moeprof::analysis {
namespace {

using store::AllToAllEvent;
using store::ComputeSpan;
using store::StepSpan;

AllToAllEvent make_a2a(int32_t rank, int32_t layer, int64_t start, int64_t end) {
  AllToAllEvent e;
  e.rank = rank;
  e.layer = layer;
  e.start_ns = start;
  e.end_ns = end;
  return e;
}

ComputeSpan make_compute(int32_t rank, int32_t layer, int64_t start, int64_t end) {
  ComputeSpan s;
  s.rank = rank;
  s.layer = layer;
  s.start_ns = start;
  s.end_ns = end;
  return s;
}

// Two ranks, times in ns:
// rank 0, step [0,100):
//   layer 0: all-to-all [10,30) and [50,60), compute [20,50)
//   layer 1: all-to-all [70,90), compute [60,80)
// rank 1, steps [0,50) and [50,120):
//   layer 0: all-to-all [0,40), compute [0,10) and [5,20) (two threads, overlapping)
//   layer 1: compute [30,60), no all-to-all
struct Timeline {
  std::vector<AllToAllEvent> a2a{make_a2a(0, 0, 10, 30), make_a2a(0, 0, 50, 60), make_a2a(0, 1, 70, 90),
                                 make_a2a(1, 0, 0, 40)};
  std::vector<ComputeSpan> compute{make_compute(0, 0, 20, 50), make_compute(0, 1, 60, 80), make_compute(1, 0, 0, 10),
                                   make_compute(1, 0, 5, 20), make_compute(1, 1, 30, 60)};
  std::vector<StepSpan> steps{{0, 1, 0, 100}, {1, 1, 0, 50}, {1, 2, 50, 120}};
};

OverlapStats stats(int64_t comm, int64_t comp, int64_t overlapped, int64_t exposed, int64_t step) {
  return {comm, comp, overlapped, exposed, step};
}

TEST(CommOverlap, PerRankAndPerLayerOnATinyTimeline) {
  const Timeline t;
  const auto ranks = compute_overlap(t.a2a, t.compute, t.steps);
  ASSERT_EQ(ranks.size(), 2u);

  // rank 0: comm 20+10+20 = 50; compute [20,50)+[60,80) = 30+20 = 50;
  // overlapped [20,30) = 10, [50,60) touches both compute spans = 0, [70,80) = 10 -> 20;
  // exposed 50-20 = 30; step 100.
  EXPECT_EQ(ranks[0].rank, 0);
  EXPECT_EQ(ranks[0].total, stats(50, 50, 20, 30, 100));
  EXPECT_DOUBLE_EQ(ranks[0].total.overlap(), 20.0 / 50.0);
  EXPECT_DOUBLE_EQ(ranks[0].total.comm_share(), 50.0 / 100.0);
  EXPECT_DOUBLE_EQ(ranks[0].total.exposed_share(), 30.0 / 100.0);
  ASSERT_EQ(ranks[0].layers.size(), 2u);
  // layer 0: comm 20+10 = 30, compute 30, overlapped 10, exposed 20
  EXPECT_EQ(ranks[0].layers[0].layer, 0);
  EXPECT_EQ(ranks[0].layers[0].stats, stats(30, 30, 10, 20, 100));
  // layer 1: comm 20, compute 20, overlapped [70,80) = 10, exposed 10
  EXPECT_EQ(ranks[0].layers[1].layer, 1);
  EXPECT_EQ(ranks[0].layers[1].stats, stats(20, 20, 10, 10, 100));

  // rank 1: comm 40; compute [0,20)+[30,60) = 20+30 = 50; overlapped [0,20)+[30,40) = 30;
  // exposed 10; step 50+70 = 120. Layer 1's compute hides layer 0's communication, so the
  // total overlap (30) exceeds the sum over layers (20 + 0).
  EXPECT_EQ(ranks[1].total, stats(40, 50, 30, 10, 120));
  EXPECT_DOUBLE_EQ(ranks[1].total.overlap(), 30.0 / 40.0);
  ASSERT_EQ(ranks[1].layers.size(), 2u);
  EXPECT_EQ(ranks[1].layers[0].stats, stats(40, 20, 20, 20, 120));
  EXPECT_EQ(ranks[1].layers[1].stats, stats(0, 30, 0, 0, 120));
  EXPECT_DOUBLE_EQ(ranks[1].layers[1].stats.overlap(), 0.0);  // no communication
}

TEST(CommOverlap, SumsOverRanks) {
  const Timeline t;
  const auto ranks = compute_overlap(t.a2a, t.compute, t.steps);
  const auto layers = overlap_by_layer(ranks);
  ASSERT_EQ(layers.size(), 2u);
  // layer 0: comm 30+40, compute 30+20, overlapped 10+20, exposed 20+20; step 100+120
  EXPECT_EQ(layers[0].stats, stats(70, 50, 30, 40, 220));
  // layer 1: comm 20+0, compute 20+30, overlapped 10+0, exposed 10+0; step 220
  EXPECT_EQ(layers[1].stats, stats(20, 50, 10, 10, 220));
  EXPECT_DOUBLE_EQ(layers[1].stats.exposed_share(), 10.0 / 220.0);
  // total: comm 50+40, compute 50+50, overlapped 20+30, exposed 30+10, step 220
  EXPECT_EQ(overlap_total(ranks), stats(90, 100, 50, 40, 220));
}

TEST(CommOverlap, TimeWindowClipsSpans) {
  const Timeline t;
  store::Filter window;
  window.time_begin_ns = 15;
  window.time_end_ns = 85;
  const auto ranks = compute_overlap(t.a2a, t.compute, t.steps, window);
  ASSERT_EQ(ranks.size(), 2u);
  // rank 0 inside [15,85): comm [15,30)+[50,60)+[70,85) = 15+10+15 = 40;
  // compute [20,50)+[60,80) = 50; overlapped [20,30)+[70,80) = 20; exposed 20; step 70
  EXPECT_EQ(ranks[0].total, stats(40, 50, 20, 20, 70));
  // rank 1 inside [15,85): comm [15,40) = 25; compute [15,20)+[30,60) = 5+30 = 35;
  // overlapped [15,20)+[30,40) = 15; exposed 10; steps [15,50)+[50,85) = 70
  EXPECT_EQ(ranks[1].total, stats(25, 35, 15, 10, 70));
}

TEST(CommOverlap, EmptyWindowAndMissingSteps) {
  EXPECT_TRUE(compute_overlap({}, {}, {}).empty());
  EXPECT_EQ(overlap_total({}), OverlapStats{});
  // communication without any compute or step span: all exposed, shares 0 (no step time)
  const auto ranks = compute_overlap({make_a2a(3, 0, 0, 10)}, {}, {});
  ASSERT_EQ(ranks.size(), 1u);
  EXPECT_EQ(ranks[0].rank, 3);
  EXPECT_EQ(ranks[0].total, stats(10, 0, 0, 10, 0));
  EXPECT_DOUBLE_EQ(ranks[0].total.overlap(), 0.0);
  EXPECT_DOUBLE_EQ(ranks[0].total.comm_share(), 0.0);
}

}  // namespace
}  // namespace moeprof::analysis

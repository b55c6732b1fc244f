// The communication metrics computed through a trace file (store::Writer, then store::Reader
// with filters) agree with hand-computed values.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "moeprof/analysis/comm_alltoall.h"
#include "moeprof/analysis/comm_overlap.h"
#include "moeprof/analysis/comm_stragglers.h"
#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"

namespace moeprof::analysis {
namespace {

using wire::Phase;

class CommTrace : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "moeprof-comm-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "trace.db").string();
    write();
    std::string error;
    reader_ = store::Reader::open(path_, &error);
    ASSERT_TRUE(reader_) << error;
  }
  void TearDown() override {
    reader_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Two ranks, two steps, times in ns (step 2 repeats step 1 shifted by 1000 on rank 0 only):
  //   step 1: rank 0 step [0,100), rank 1 step [0,120)
  //     rank 0: layer 0 dispatch [10,30) sends {0: 100, 1: 300}; compute layer 0 [20,50)
  //             layer 1 dispatch [70,90) sends {1: 60};           compute layer 1 [60,80)
  //     rank 1: layer 0 dispatch [25,45) sends {0: 200, 1: 50};   compute layer 0 [0,40)
  //   step 2: rank 0 step [1000,1100); layer 0 dispatch [1010,1030) sends {1: 1000}
  void write() {
    std::string error;
    auto w = store::Writer::create(path_, &error);
    ASSERT_TRUE(w) << error;
    w->set_run(store::RunInfo{});
    w->add_step({0, 1, 0, 100});
    w->add_step({1, 1, 0, 120});
    w->add_step({0, 2, 1000, 1100});
    w->add_all_to_all(event(0, 1, 0, 10, 30, {{0, 100, 0}, {1, 300, 0}}));
    w->add_all_to_all(event(0, 1, 1, 70, 90, {{1, 60, 0}}));
    w->add_all_to_all(event(1, 1, 0, 25, 45, {{0, 200, 0}, {1, 50, 0}}));
    w->add_all_to_all(event(0, 2, 0, 1010, 1030, {{1, 1000, 0}}));
    w->add_compute_span(span(0, 1, 0, 20, 50));
    w->add_compute_span(span(0, 1, 1, 60, 80));
    w->add_compute_span(span(1, 1, 0, 0, 40));
    store::RunInfo done;
    done.finalized = true;
    ASSERT_TRUE(w->finalize(done, &error)) << error;
  }

  static store::AllToAllEvent event(int32_t rank, int64_t step, int32_t layer, int64_t start, int64_t end,
                                    std::vector<store::PeerBytes> peers) {
    store::AllToAllEvent e;
    e.rank = rank;
    e.step = step;
    e.layer = layer;
    e.phase = Phase::kDispatch;
    e.start_ns = start;
    e.end_ns = end;
    e.peers = std::move(peers);
    return e;
  }
  static store::ComputeSpan span(int32_t rank, int64_t step, int32_t layer, int64_t start, int64_t end) {
    store::ComputeSpan s;
    s.rank = rank;
    s.step = step;
    s.layer = layer;
    s.kind = wire::ComputeKind::kExpert;
    s.start_ns = start;
    s.end_ns = end;
    return s;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<store::Reader> reader_;
};

TEST_F(CommTrace, OverlapOfStepOne) {
  const auto ranks = compute_overlap(*reader_, store::Filter{.step_begin = 1, .step_end = 2});
  ASSERT_EQ(ranks.size(), 2u);
  // rank 0: comm [10,30)+[70,90) = 40; compute [20,50)+[60,80) = 50;
  // overlapped [20,30)+[70,80) = 20; exposed 20; step 100
  EXPECT_EQ(ranks[0].total, (OverlapStats{40, 50, 20, 20, 100}));
  // rank 1: comm [25,45) = 20; compute [0,40) = 40; overlapped [25,40) = 15; exposed 5; step 120
  EXPECT_EQ(ranks[1].total, (OverlapStats{20, 40, 15, 5, 120}));
  EXPECT_DOUBLE_EQ(ranks[1].total.overlap(), 15.0 / 20.0);
  EXPECT_DOUBLE_EQ(ranks[1].total.exposed_share(), 5.0 / 120.0);
}

TEST_F(CommTrace, OverlapOfOneLayerAndOneRank) {
  // layer 1 on rank 0, both steps: comm [70,90) = 20, compute [60,80) = 20, overlapped 10;
  // step time is the rank's whole step time: 100 + 100
  const auto ranks = compute_overlap(*reader_, store::Filter{.rank = 0, .layer = 1});
  ASSERT_EQ(ranks.size(), 1u);
  EXPECT_EQ(ranks[0].rank, 0);
  EXPECT_EQ(ranks[0].total, (OverlapStats{20, 20, 10, 10, 200}));
}

TEST_F(CommTrace, BandwidthMatrixAndStragglersOfStepOne) {
  const store::Filter step1{.step_begin = 1, .step_end = 2};
  const auto stats = all_to_all_stats(*reader_, step1);
  ASSERT_EQ(stats.size(), 2u);
  // layer 0 dispatch: 2 events of 20 ns; bytes 100+300+200+50 = 650, off-rank 300+200 = 500;
  // bandwidth 500 B / 40 ns = 12.5e9 B/s
  EXPECT_EQ(stats[0].layer, 0);
  EXPECT_EQ(stats[0].count, 2);
  EXPECT_EQ(stats[0].total_ns, 40);
  EXPECT_EQ(stats[0].bytes_sent, 650u);
  EXPECT_EQ(stats[0].network_bytes_sent, 500u);
  EXPECT_DOUBLE_EQ(stats[0].bandwidth_bytes_per_s(), 12.5e9);
  // layer 1 dispatch: 1 event of 20 ns, 60 B off-rank: 3e9 B/s
  EXPECT_EQ(stats[1].layer, 1);
  EXPECT_DOUBLE_EQ(stats[1].bandwidth_bytes_per_s(), 3e9);

  // 0->0 100, 0->1 300+60, 1->0 200, 1->1 50
  const VolumeMatrix m = volume_matrix(*reader_, step1);
  ASSERT_EQ(m.size, 2);
  EXPECT_EQ(m.bytes, (std::vector<uint64_t>{100, 360, 200, 50}));
  // both steps, layer 0 only: 0->1 adds step 2's 1000 and drops layer 1's 60
  EXPECT_EQ(volume_matrix(*reader_, store::Filter{.layer = 0}).bytes, (std::vector<uint64_t>{100, 1300, 200, 50}));

  // layer 0 dispatch of step 1: rank 0 starts at 10, rank 1 at 25: rank 1 last, wait 15.
  // Layer 1 and step 2 ran on rank 0 only: no instances.
  const Stragglers s = find_stragglers(*reader_, {});
  EXPECT_EQ(s.instances, 1);
  EXPECT_EQ(s.ranks, (std::vector<RankStraggling>{{0, 1, 0, 0}, {1, 1, 1, 15}}));
}

}  // namespace
}  // namespace moeprof::analysis

#include "moeprof/analysis/comm_alltoall.h"

#include <gtest/gtest.h>

namespace moeprof::analysis {
namespace {

using store::AllToAllEvent;
using wire::Phase;

AllToAllEvent make_event(int32_t rank, int32_t layer, Phase phase, int64_t start, int64_t end,
                         std::vector<store::PeerBytes> peers) {
  AllToAllEvent e;
  e.rank = rank;
  e.layer = layer;
  e.phase = phase;
  e.start_ns = start;
  e.end_ns = end;
  e.peers = std::move(peers);
  return e;
}

// Two ranks (peer, send bytes, recv bytes):
//   rank 0, layer 0 dispatch, [0,1000):    to 0: 100, to 1: 300
//   rank 1, layer 0 dispatch, [0,3000):    to 0: 200, to 1: 50
//   rank 0, layer 0 combine,  [5000,5500): to 1: 40
//   rank 1, layer 2 dispatch, [100,100):   to 1: 10   (zero duration, self only)
std::vector<AllToAllEvent> events() {
  return {make_event(0, 0, Phase::kDispatch, 0, 1000, {{0, 100, 100}, {1, 300, 200}}),
          make_event(1, 0, Phase::kDispatch, 0, 3000, {{0, 200, 300}, {1, 50, 50}}),
          make_event(0, 0, Phase::kCombine, 5000, 5500, {{1, 40, 0}}),
          make_event(1, 2, Phase::kDispatch, 100, 100, {{1, 10, 10}})};
}

TEST(CommAllToAll, TimeBytesAndBandwidthPerLayerAndPhase) {
  const auto stats = all_to_all_stats(events());
  ASSERT_EQ(stats.size(), 3u);  // (0, dispatch), (0, combine), (2, dispatch)

  // layer 0 dispatch: 2 events, 1000 + 3000 ns; bytes 100+300+200+50 = 650, of which
  // off-rank 300 (0->1) + 200 (1->0) = 500; bandwidth 500 B / 4000 ns = 1.25e8 B/s
  EXPECT_EQ(stats[0].layer, 0);
  EXPECT_EQ(stats[0].phase, Phase::kDispatch);
  EXPECT_EQ(stats[0].count, 2);
  EXPECT_EQ(stats[0].total_ns, 4000);
  EXPECT_EQ(stats[0].bytes_sent, 650u);
  EXPECT_EQ(stats[0].network_bytes_sent, 500u);
  EXPECT_DOUBLE_EQ(stats[0].bandwidth_bytes_per_s(), 1.25e8);

  // layer 0 combine: 1 event, 500 ns, 40 B off-rank: 40 / 500e-9 s = 8e7 B/s
  EXPECT_EQ(stats[1].layer, 0);
  EXPECT_EQ(stats[1].phase, Phase::kCombine);
  EXPECT_EQ(stats[1].count, 1);
  EXPECT_EQ(stats[1].total_ns, 500);
  EXPECT_EQ(stats[1].bytes_sent, 40u);
  EXPECT_EQ(stats[1].network_bytes_sent, 40u);
  EXPECT_DOUBLE_EQ(stats[1].bandwidth_bytes_per_s(), 8e7);

  // layer 2 dispatch: zero time, self bytes only: volume 10, no network bytes, bandwidth 0
  EXPECT_EQ(stats[2].layer, 2);
  EXPECT_EQ(stats[2].total_ns, 0);
  EXPECT_EQ(stats[2].bytes_sent, 10u);
  EXPECT_EQ(stats[2].network_bytes_sent, 0u);
  EXPECT_DOUBLE_EQ(stats[2].bandwidth_bytes_per_s(), 0.0);

  EXPECT_TRUE(all_to_all_stats({}).empty());
}

TEST(CommAllToAll, VolumeMatrixSumsSentBytesPerRankPair) {
  const VolumeMatrix all = volume_matrix(events());
  ASSERT_EQ(all.size, 2);
  // 0->0: 100; 0->1: 300 (dispatch) + 40 (combine); 1->0: 200; 1->1: 50 + 10
  EXPECT_EQ(all.bytes, (std::vector<uint64_t>{100, 340, 200, 60}));
  EXPECT_EQ(all.at(0, 1), 340u);
  EXPECT_EQ(all.at(1, 0), 200u);

  const VolumeMatrix combine = volume_matrix(events(), Phase::kCombine);
  ASSERT_EQ(combine.size, 2);
  EXPECT_EQ(combine.bytes, (std::vector<uint64_t>{0, 40, 0, 0}));

  EXPECT_EQ(volume_matrix({}).size, 0);
  EXPECT_TRUE(volume_matrix({}).bytes.empty());
}

TEST(CommAllToAll, VolumeMatrixCoversEveryPeerAndSkipsUnknownRanks) {
  // rank 1 sends 7 B to rank 3, which reported nothing itself: the matrix is 4 × 4.
  // The event of rank -1 and the bytes to peer -1 are left out.
  const std::vector<AllToAllEvent> e{make_event(1, 0, Phase::kDispatch, 0, 10, {{3, 7, 0}, {-1, 5, 0}}),
                                     make_event(-1, 0, Phase::kDispatch, 0, 10, {{0, 9, 0}})};
  const VolumeMatrix m = volume_matrix(e);
  ASSERT_EQ(m.size, 4);
  std::vector<uint64_t> expected(16, 0);
  expected[1 * 4 + 3] = 7;
  EXPECT_EQ(m.bytes, expected);
}

}  // namespace
}  // namespace moeprof::analysis

// The plugin's callbacks driven with the event sequences NCCL issues (nccl_emulator.h), for
// both interface versions: what each NCCL call becomes in the records. Ground truth comes
// from the test's own counts and from the emulator's call log (times, steps).
#include <cstdio>
#include <random>

#include "recording_runtime.h"

namespace moeprof::nccl::testing {
namespace {

constexpr uint64_t kCommHash = 0x9e3779b97f4a7c15ull;

// Element sizes of the datatypes used here, written out independently of the plugin's table.
uint64_t element_bytes(const std::string& datatype) {
  static const std::map<std::string, uint64_t> sizes = {
      {"ncclFloat32", 4}, {"ncclBfloat16", 2}, {"ncclInt64", 8}, {"ncclFloat16", 2}, {"ncclInt8", 1}, {"ncclUint32", 4}};
  return sizes.at(datatype);
}

std::string hex(uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

class ScenarioTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { g_runtime = &runtime; }
  void TearDown() override { g_runtime = nullptr; }

  // Communicator `rank` of `nranks`, its calls logged.
  nccl_emulator load(int nranks, int rank) {
    nccl_emulator emu;
    EXPECT_EQ(emu_init(&emu, GetParam(), test_table(GetParam()), kCommHash, "ep-group", nranks, rank),
              MOEPROF_NCCL_SUCCESS);
    EXPECT_NE(emu.context, nullptr);
    log.attach(emu, runtime);
    return emu;
  }
  void clear() {
    const std::lock_guard lock(runtime.mutex);
    runtime.all_to_alls.clear();
    runtime.ranges.clear();
    log.calls.clear();
  }
  // The all-to-all record expected of the P2P calls logged, with these bytes per peer: from
  // the first P2P start to the group's stop (NCCL's last P2P stop comes right before it).
  void expect_all_to_all(const RecordedAllToAll& a2a, const std::vector<int32_t>& peers,
                         const std::vector<uint64_t>& send, const std::vector<uint64_t>& recv) {
    EXPECT_EQ(a2a.peers, peers);
    EXPECT_EQ(a2a.send, send);
    EXPECT_EQ(a2a.recv, recv);
    EXPECT_EQ(a2a.start_ns, log.first(EMU_P2P_START).time);
    EXPECT_LT(log.last(EMU_P2P_STOP).time, log.last(EMU_GROUP_STOP).time);
    EXPECT_EQ(a2a.end_ns, log.last(EMU_GROUP_STOP).time);
    EXPECT_EQ(a2a.step, log.first(EMU_P2P_START).step);  // the step when it started
    EXPECT_EQ(a2a.tid, this_thread_id());
  }

  RecordingRuntime runtime;
  CallLog log;
};

TEST_P(ScenarioTest, NcclAlltoAllOnFourRanksIsOneAllToAllPerCall) {
  struct Call {
    size_t count;
    const char* datatype;
  };
  const Call calls[] = {{1000, "ncclFloat32"}, {37, "ncclBfloat16"}, {4096, "ncclInt64"}};
  for (int rank = 0; rank < 4; ++rank) {
    nccl_emulator emu = load(4, rank);
    clear();
    emu_alltoall(&emu, 0, "ncclFloat32");  // NCCL discards it: no event, no record
    EXPECT_TRUE(runtime.all_to_alls.empty());
    for (const Call& call : calls) {
      clear();
      emu_alltoall(&emu, call.count, call.datatype);
      ASSERT_EQ(runtime.all_to_alls.size(), 1u) << "rank " << rank << " count " << call.count;
      const uint64_t bytes = call.count * element_bytes(call.datatype);
      expect_all_to_all(runtime.all_to_alls[0], {0, 1, 2, 3}, std::vector<uint64_t>(4, bytes),
                        std::vector<uint64_t>(4, bytes));
      EXPECT_TRUE(runtime.ranges.empty());
    }
    emu_finalize(&emu);
  }
  EXPECT_EQ(runtime.dropped, 0u);
}

// An alltoallv as a loop of ncclSend/ncclRecv in one group, uneven counts from a seeded
// matrix: rank r sends m[r][p] elements to p and receives m[p][r] from p.
TEST_P(ScenarioTest, GroupedSendRecvWithUnevenCountsIsOneAllToAll) {
  constexpr int kRanks = 4;
  std::mt19937 random(7);
  size_t m[kRanks][kRanks];
  for (auto& row : m)
    for (size_t& count : row) count = random() % 5000;
  m[1][3] = m[2][0] = 0;  // some peers get nothing: still a peer of the exchange
  for (int rank = 0; rank < kRanks; ++rank) {
    nccl_emulator emu = load(kRanks, rank);
    clear();
    std::vector<emu_p2p> ops;
    for (int p = 0; p < kRanks; ++p) {
      ops.push_back({1, p, m[rank][p]});
      ops.push_back({0, p, m[p][rank]});
    }
    emu_group_p2p(&emu, ops.data(), static_cast<int>(ops.size()), "ncclBfloat16");
    ASSERT_EQ(runtime.all_to_alls.size(), 1u);
    std::vector<uint64_t> send, recv;
    for (int p = 0; p < kRanks; ++p) {
      send.push_back(m[rank][p] * 2);
      recv.push_back(m[p][rank] * 2);
    }
    expect_all_to_all(runtime.all_to_alls[0], {0, 1, 2, 3}, send, recv);
    EXPECT_TRUE(runtime.ranges.empty());
    emu_finalize(&emu);
  }
}

// Senders that skip empty peers: the all-to-all lists the peers it exchanged with, in order.
TEST_P(ScenarioTest, GroupedSendRecvSkippingEmptyPeersListsThePeersUsed) {
  nccl_emulator emu = load(8, 5);
  const std::vector<emu_p2p> ops = {{0, 6, 10}, {1, 2, 100}, {1, 7, 300}, {0, 2, 40}, {1, 2, 5}, {0, 0, 1}};
  emu_group_p2p(&emu, ops.data(), static_cast<int>(ops.size()), "ncclUint32");
  ASSERT_EQ(runtime.all_to_alls.size(), 1u);
  // Peer 2: two sends add up.
  expect_all_to_all(runtime.all_to_alls[0], {0, 2, 6, 7}, {0, 420, 0, 1200}, {4, 160, 40, 0});
  emu_finalize(&emu);
}

TEST_P(ScenarioTest, TwoRankAlltoAllCountsTheRankItselfAsAPeer) {
  nccl_emulator emu = load(2, 1);
  emu_alltoall(&emu, 64, "ncclFloat16");
  ASSERT_EQ(runtime.all_to_alls.size(), 1u);
  expect_all_to_all(runtime.all_to_alls[0], {0, 1}, {128, 128}, {128, 128});
  emu_finalize(&emu);
}

TEST_P(ScenarioTest, CollectivesAreRangesWithTheirBytesInThePayload) {
  runtime.settings.world_size = 4;  // the communicator spans the job: world ranks
  runtime.settings.world_rank = 2;
  nccl_emulator emu = load(4, 2);
  struct Call {
    const char* func;
    size_t count;
    const char* datatype;
    int root;
    uint64_t seq;  // NCCL numbers each function's calls
  };
  const Call calls[] = {{"AllReduce", 1 << 20, "ncclFloat32", 0, 0}, {"AllGather", 300, "ncclBfloat16", 0, 0},
                        {"ReduceScatter", 77, "ncclInt64", 0, 0},    {"Broadcast", 5, "ncclFloat32", 3, 0},
                        {"AllReduce", 9, "ncclFloat16", 0, 1},       {"Reduce", 12, "ncclUint32", 1, 0}};
  for (const Call& call : calls) {
    clear();
    emu_collective(&emu, call.func, call.count, call.datatype, call.root);
    ASSERT_EQ(runtime.ranges.size(), 1u) << call.func;
    const RecordedRange& r = runtime.ranges[0];
    EXPECT_EQ(r.name, call.func);
    EXPECT_EQ(r.start_ns, log.first(EMU_COLL_START).time);
    EXPECT_EQ(r.end_ns, log.first(EMU_COLL_STOP).time);
    EXPECT_EQ(r.step, log.first(EMU_COLL_START).step);
    EXPECT_EQ(r.tid, this_thread_id());
    ASSERT_TRUE(r.payload.has_value());
    const auto json = parse_flat_json(*r.payload);
    ASSERT_TRUE(json.has_value()) << *r.payload;
    const std::string func = call.func;
    const bool bytes_api = func == "AllGather" || func == "Broadcast";  // NCCL reports bytes as ncclInt8
    EXPECT_EQ(json->at("bytes"), std::to_string(call.count * element_bytes(call.datatype))) << *r.payload;
    EXPECT_EQ(json->at("datatype"), bytes_api ? "ncclInt8" : call.datatype);
    EXPECT_EQ(json->at("comm"), hex(kCommHash));
    EXPECT_EQ(json->at("comm_name"), "ep-group");
    EXPECT_EQ(json->at("rank"), "2");
    EXPECT_EQ(json->at("nranks"), "4");
    EXPECT_EQ(json->at("world_ranks"), "true");
    EXPECT_EQ(json->at("root"), std::to_string(call.root));
    EXPECT_EQ(json->at("seq"), std::to_string(call.seq));
    EXPECT_EQ(json->at("algo"), "RING");
    EXPECT_EQ(json->at("proto"), "SIMPLE");
  }
  EXPECT_TRUE(runtime.all_to_alls.empty());
  emu_finalize(&emu);
}

// A pipeline stage sends to the next and receives from the previous: plain P2P.
TEST_P(ScenarioTest, PipelineSendRecvPairIsTwoRanges) {
  nccl_emulator emu = load(4, 1);
  const std::vector<emu_p2p> ops = {{1, 2, 4096}, {0, 0, 2048}};
  emu_group_p2p(&emu, ops.data(), 2, "ncclBfloat16");
  EXPECT_TRUE(runtime.all_to_alls.empty());
  ASSERT_EQ(runtime.ranges.size(), 2u);
  std::map<std::string, const RecordedRange*> by_name;
  for (const RecordedRange& r : runtime.ranges) by_name[r.name] = &r;
  ASSERT_EQ(by_name.count("Send"), 1u);
  ASSERT_EQ(by_name.count("Recv"), 1u);
  const auto send = parse_flat_json(*by_name["Send"]->payload);
  const auto recv = parse_flat_json(*by_name["Recv"]->payload);
  ASSERT_TRUE(send && recv);
  EXPECT_EQ(send->at("peer"), "2");
  EXPECT_EQ(send->at("bytes"), "8192");
  EXPECT_EQ(recv->at("peer"), "0");
  EXPECT_EQ(recv->at("bytes"), "4096");
  EXPECT_EQ(send->at("world_ranks"), "false");  // no job size known: communicator ranks
  // Both span the group's P2P events: first start to the group's stop, step of the first.
  for (const RecordedRange& r : runtime.ranges) {
    EXPECT_EQ(r.start_ns, log.first(EMU_P2P_START).time) << r.name;
    EXPECT_EQ(r.end_ns, log.last(EMU_GROUP_STOP).time) << r.name;
    EXPECT_EQ(r.step, log.first(EMU_P2P_START).step) << r.name;
    EXPECT_EQ(r.tid, this_thread_id());
  }
  emu_finalize(&emu);
}

// Exchanges that are not all-to-alls: both ways with one peer, a gather's and a scatter's root.
TEST_P(ScenarioTest, OneSidedOrSinglePeerExchangesAreRanges) {
  const std::vector<std::vector<emu_p2p>> groups = {
      {{1, 3, 10}, {0, 3, 10}},                                            // halo with one neighbour
      {{1, 0, 10}, {0, 0, 10}, {0, 1, 10}, {0, 2, 10}, {0, 3, 10}},        // gather at root 0
      {{1, 0, 10}, {1, 1, 10}, {1, 2, 10}, {1, 3, 10}, {0, 0, 10}},        // scatter from root 0
  };
  nccl_emulator emu = load(4, 0);
  for (const auto& ops : groups) {
    clear();
    emu_group_p2p(&emu, ops.data(), static_cast<int>(ops.size()), "ncclInt8");
    EXPECT_TRUE(runtime.all_to_alls.empty());
    EXPECT_EQ(runtime.ranges.size(), ops.size());
  }
  emu_finalize(&emu);
}

TEST_P(ScenarioTest, CollectiveAllToAllOfOlderNcclIsAnAllToAll) {
  nccl_emulator emu = load(3, 0);
  for (const char* name : {"AllToAll", "AlltoAll"}) {
    clear();
    emu_collective(&emu, name, 100, "ncclFloat32", 0);
    ASSERT_EQ(runtime.all_to_alls.size(), 1u) << name;
    const RecordedAllToAll& a2a = runtime.all_to_alls[0];
    EXPECT_EQ(a2a.peers, (std::vector<int32_t>{0, 1, 2}));
    EXPECT_EQ(a2a.send, std::vector<uint64_t>(3, 400));
    EXPECT_EQ(a2a.recv, std::vector<uint64_t>(3, 400));
    EXPECT_EQ(a2a.start_ns, log.first(EMU_COLL_START).time);
    EXPECT_EQ(a2a.end_ns, log.first(EMU_COLL_STOP).time);
    EXPECT_TRUE(runtime.ranges.empty());
  }
  emu_finalize(&emu);
}

// Inside an all-to-all the engine reports itself, NCCL's view of it is left out (no double
// count); other collectives are still recorded.
TEST_P(ScenarioTest, AllToAllInsideTheEnginesOwnIsNotRecorded) {
  nccl_emulator emu = load(4, 0);
  runtime.in_engine = true;
  emu_alltoall(&emu, 10, "ncclFloat32");
  emu_collective(&emu, "AllToAll", 10, "ncclFloat32", 0);
  emu_collective(&emu, "AllReduce", 10, "ncclFloat32", 0);
  runtime.in_engine = false;
  EXPECT_TRUE(runtime.all_to_alls.empty());
  EXPECT_EQ(runtime.ranges.size(), 1u);
  emu_alltoall(&emu, 10, "ncclFloat32");
  EXPECT_EQ(runtime.all_to_alls.size(), 1u);
  EXPECT_EQ(runtime.dropped, 0u);
  emu_finalize(&emu);
}

// A pool too small for the group's P2P events: the all-to-all is dropped whole and every
// event counted; nothing blocks, and the next operations are recorded again.
TEST_P(ScenarioTest, FullPoolDropsAndCountsAndRecovers) {
  runtime.settings.pools = PoolSizes::for_pool(5);
  nccl_emulator emu = load(4, 0);
  emu_alltoall(&emu, 10, "ncclFloat32");  // 8 P2P events, 5 objects
  EXPECT_TRUE(runtime.all_to_alls.empty());
  EXPECT_TRUE(runtime.ranges.empty());
  EXPECT_EQ(runtime.dropped, 8u);
  emu_collective(&emu, "AllReduce", 10, "ncclFloat32", 0);
  EXPECT_EQ(runtime.ranges.size(), 1u);
  nccl_emulator small = load(2, 0);  // 4 P2P events fit
  emu_alltoall(&small, 10, "ncclFloat32");
  EXPECT_EQ(runtime.all_to_alls.size(), 1u);
  EXPECT_EQ(runtime.dropped, 8u);
  emu_finalize(&small);
  emu_finalize(&emu);
  EXPECT_EQ(runtime.dropped, 8u);  // nothing was left open
}

// MOEPROF_NCCL_EVENTS=none: init clears the mask and NCCL makes no event call at all.
TEST_P(ScenarioTest, DisabledMaskCostsNoCalls) {
  runtime.settings.event_mask = 0;
  nccl_emulator emu = load(4, 0);
  EXPECT_EQ(emu.mask, 0);
  emu_alltoall(&emu, 10, "ncclFloat32");
  emu_collective(&emu, "AllReduce", 10, "ncclFloat32", 0);
  EXPECT_EQ(emu.calls, 0u);
  EXPECT_TRUE(runtime.all_to_alls.empty());
  EXPECT_TRUE(runtime.ranges.empty());
  emu_finalize(&emu);
}

// MOEPROF_NCCL_EVENTS=coll: P2P events are not asked for, collectives still are; the
// API-level events NCCL 2.28 issues anyway get a null handle (so it never stops them).
TEST_P(ScenarioTest, CollectivesOnlyMaskLeavesP2pOut) {
  int mask = 0;
  ASSERT_TRUE(parse_event_mask("coll", &mask));
  runtime.settings.event_mask = mask;
  nccl_emulator emu = load(4, 0);
  EXPECT_EQ(emu.mask, MOEPROF_NCCL_PROFILE_GROUP | MOEPROF_NCCL_PROFILE_COLL);
  emu_alltoall(&emu, 10, "ncclFloat32");
  EXPECT_TRUE(runtime.all_to_alls.empty());
  // v5: GroupApi start, then Group start and stop (the plan's, empty of events asked for).
  EXPECT_EQ(emu.calls, GetParam() == 5 ? 3u : 2u);
  emu.calls = 0;
  emu_collective(&emu, "AllReduce", 10, "ncclFloat32", 0);
  EXPECT_EQ(runtime.ranges.size(), 1u);
  // v5: GroupApi and CollApi starts (null handles), Group and Coll starts and stops.
  EXPECT_EQ(emu.calls, GetParam() == 5 ? 6u : 4u);
  emu_finalize(&emu);
}

TEST_P(ScenarioTest, InitFailsCleanlyWhenMoeprofIsNotRecording) {
  runtime.recording_on = false;
  nccl_emulator emu;
  EXPECT_NE(emu_init(&emu, GetParam(), test_table(GetParam()), kCommHash, "x", 4, 0), MOEPROF_NCCL_SUCCESS);
  EXPECT_EQ(emu.context, nullptr);
  EXPECT_EQ(emu.mask, 0);  // NCCL's mask untouched: no events
  emu_alltoall(&emu, 10, "ncclFloat32");
  EXPECT_EQ(emu.calls, 0u);
  emu_finalize(&emu);
  EXPECT_TRUE(runtime.all_to_alls.empty());
}

INSTANTIATE_TEST_SUITE_P(Versions, ScenarioTest, ::testing::Values(5, 4),
                         [](const ::testing::TestParamInfo<int>& info) { return "v" + std::to_string(info.param); });

}  // namespace
}  // namespace moeprof::nccl::testing

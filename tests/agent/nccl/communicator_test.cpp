// The plugin callbacks and the event model outside the sequences NCCL normally makes: null
// arguments, pools running out with plans in flight at once, events left open at finalize,
// stops out of order or twice, and several threads sharing one communicator.
#include <thread>

#include "communicator.h"
#include "recording_runtime.h"

namespace moeprof::nccl::testing {
namespace {

class CommunicatorTest : public ::testing::Test {
 protected:
  void SetUp() override { g_runtime = &runtime; }
  void TearDown() override { g_runtime = nullptr; }

  void* init(int nranks = 4, int rank = 0) {
    void* context = nullptr;
    int mask = 0;
    EXPECT_EQ(kTestV5.init(&context, 42, &mask, nullptr, 1, nranks, rank, nullptr), MOEPROF_NCCL_SUCCESS);
    return context;
  }
  static void* start(void* context, moeprof_nccl_event_v5 e) {
    void* handle = reinterpret_cast<void*>(0x1);
    EXPECT_EQ(kTestV5.start_event(context, &handle, &e), MOEPROF_NCCL_SUCCESS);
    return handle;
  }
  static void* group(void* context) {
    moeprof_nccl_event_v5 e{};
    e.type = MOEPROF_NCCL_PROFILE_GROUP;
    return start(context, e);
  }
  static void* p2p(void* context, void* group, bool send, int peer, size_t count) {
    moeprof_nccl_event_v5 e{};
    e.type = MOEPROF_NCCL_PROFILE_P2P;
    e.p2p.func = send ? "Send" : "Recv";
    e.p2p.datatype = "ncclInt8";
    e.p2p.count = count;
    e.p2p.peer = peer;
    e.p2p.parent_group = group;
    return start(context, e);
  }
  static void* coll(void* context, void* group, const char* func, size_t count) {
    moeprof_nccl_event_v5 e{};
    e.type = MOEPROF_NCCL_PROFILE_COLL;
    e.coll.func = func;
    e.coll.datatype = "ncclInt8";
    e.coll.count = count;
    e.coll.parent_group = group;
    return start(context, e);
  }
  static void stop(void* handle) { EXPECT_EQ(kTestV5.stop_event(handle), MOEPROF_NCCL_SUCCESS); }

  RecordingRuntime runtime;
};

TEST_F(CommunicatorTest, EveryCallbackAcceptsNullArguments) {
  for (const void* table : {test_table(5), test_table(4)}) {
    const auto* v5 = static_cast<const moeprof_nccl_profiler_v5*>(table);
    const auto* v4 = static_cast<const moeprof_nccl_profiler_v4*>(table);
    const bool is_v5 = table == test_table(5);
    EXPECT_NE(is_v5 ? v5->init(nullptr, 1, nullptr, nullptr, 0, 0, 0, nullptr)
                    : v4->init(nullptr, nullptr, nullptr, 1, 0, 0, 0, nullptr),
              MOEPROF_NCCL_SUCCESS);
    void* context = reinterpret_cast<void*>(0x1);
    // No mask pointer, no name, no logger: a working communicator all the same.
    EXPECT_EQ(is_v5 ? v5->init(&context, 1, nullptr, nullptr, 1, 2, 0, nullptr)
                    : v4->init(&context, nullptr, nullptr, 1, 1, 2, 0, nullptr),
              MOEPROF_NCCL_SUCCESS);
    ASSERT_NE(context, nullptr);
    void* handle = reinterpret_cast<void*>(0x1);
    EXPECT_EQ(is_v5 ? v5->start_event(context, &handle, nullptr) : v4->start_event(context, &handle, nullptr),
              MOEPROF_NCCL_SUCCESS);
    EXPECT_EQ(handle, nullptr);
    handle = reinterpret_cast<void*>(0x1);
    EXPECT_EQ(is_v5 ? v5->start_event(nullptr, &handle, nullptr) : v4->start_event(nullptr, &handle, nullptr),
              MOEPROF_NCCL_SUCCESS);
    EXPECT_EQ(handle, nullptr);
    EXPECT_EQ(is_v5 ? v5->start_event(context, nullptr, nullptr) : v4->start_event(context, nullptr, nullptr),
              MOEPROF_NCCL_SUCCESS);
    EXPECT_EQ(v5->stop_event(nullptr), MOEPROF_NCCL_SUCCESS);
    EXPECT_EQ(v5->record_event_state(nullptr, MOEPROF_NCCL_STATE_KERNEL_CH_STOP, nullptr), MOEPROF_NCCL_SUCCESS);
    EXPECT_EQ(v5->finalize(nullptr), MOEPROF_NCCL_SUCCESS);
    EXPECT_EQ(v5->finalize(context), MOEPROF_NCCL_SUCCESS);
  }
  EXPECT_TRUE(runtime.ranges.empty());
  EXPECT_EQ(runtime.dropped, 0u);
}

TEST_F(CommunicatorTest, EventTypesNotRecordedGetANullHandle) {
  void* context = init();
  const std::initializer_list<uint64_t> types = {
      MOEPROF_NCCL_PROFILE_GROUP_API,  MOEPROF_NCCL_PROFILE_COLL_API,   MOEPROF_NCCL_PROFILE_P2P_API,
      MOEPROF_NCCL_PROFILE_KERNEL_LAUNCH, MOEPROF_NCCL_PROFILE_PROXY_OP, MOEPROF_NCCL_PROFILE_PROXY_STEP,
      MOEPROF_NCCL_PROFILE_PROXY_CTRL, MOEPROF_NCCL_PROFILE_KERNEL_CH,  MOEPROF_NCCL_PROFILE_NET_PLUGIN,
      uint64_t{1} << 40};
  for (uint64_t type : types) {
    moeprof_nccl_event_v5 e{};
    e.type = type;
    EXPECT_EQ(start(context, e), nullptr) << type;
  }
  EXPECT_EQ(kTestV5.finalize(context), MOEPROF_NCCL_SUCCESS);
  EXPECT_EQ(runtime.dropped, 0u);
}

// Plans of one communicator in flight at once (eager launches and graph replays on CUDA's
// callback thread): the group pool runs out; a dropped group's P2P events are dropped too, its
// collectives are still recorded (they need no group).
TEST_F(CommunicatorTest, FullGroupPoolDropsTheGroupAndItsP2pEvents) {
  runtime.settings.pools = PoolSizes{64, 2, 2};
  void* context = init();
  void* g1 = group(context);
  void* g2 = group(context);
  ASSERT_NE(g1, nullptr);
  ASSERT_NE(g2, nullptr);
  EXPECT_EQ(group(context), nullptr);
  EXPECT_EQ(runtime.dropped, 1u);
  EXPECT_EQ(p2p(context, nullptr, true, 1, 10), nullptr);  // its group was dropped
  EXPECT_EQ(runtime.dropped, 2u);
  void* c = coll(context, nullptr, "AllReduce", 10);
  ASSERT_NE(c, nullptr);
  stop(c);
  EXPECT_EQ(runtime.ranges.size(), 1u);
  stop(g1);
  void* g3 = group(context);  // a freed group object is used again
  EXPECT_NE(g3, nullptr);
  stop(g3);
  stop(g2);
  EXPECT_EQ(kTestV5.finalize(context), MOEPROF_NCCL_SUCCESS);
  EXPECT_EQ(runtime.dropped, 2u);
}

TEST_F(CommunicatorTest, EventsStillOpenAtFinalizeCountAsDropped) {
  void* context = init();
  void* g = group(context);
  for (int peer = 0; peer < 3; ++peer) ASSERT_NE(p2p(context, g, true, peer, 8), nullptr);
  ASSERT_NE(coll(context, g, "AllReduce", 8), nullptr);
  EXPECT_EQ(kTestV5.finalize(context), MOEPROF_NCCL_SUCCESS);
  EXPECT_EQ(runtime.dropped, 4u);
  EXPECT_TRUE(runtime.ranges.empty());
  EXPECT_TRUE(runtime.all_to_alls.empty());
}

TEST_F(CommunicatorTest, StoppingTwiceOrAfterTheGroupRecordsOnce) {
  void* context = init();
  void* c = coll(context, nullptr, "AllReduce", 8);
  stop(c);
  stop(c);
  EXPECT_EQ(runtime.ranges.size(), 1u);
  // The group stops before its P2P event does (not NCCL's order): the event ends with the
  // group, and its own stop later finds it gone.
  void* g = group(context);
  void* s = p2p(context, g, true, 2, 8);
  runtime.now = 500;
  stop(g);
  runtime.now = 900;
  stop(s);
  stop(g);
  ASSERT_EQ(runtime.ranges.size(), 2u);
  EXPECT_EQ(runtime.ranges[1].name, "Send");
  EXPECT_EQ(runtime.ranges[1].end_ns, 500);
  auto* communicator = static_cast<Communicator*>(context);
  EXPECT_EQ(communicator->tasks_in_use(), 0u);
  EXPECT_EQ(communicator->groups_in_use(), 0u);
  EXPECT_EQ(kTestV5.finalize(context), MOEPROF_NCCL_SUCCESS);
  EXPECT_EQ(runtime.dropped, 0u);
}

// A P2P event naming another communicator's group (or a stale handle) is not one of ours.
TEST_F(CommunicatorTest, P2pEventOfAnotherCommunicatorsGroupIsDropped) {
  void* a = init();
  void* b = init();
  void* g = group(a);
  EXPECT_EQ(p2p(b, g, true, 1, 8), nullptr);
  EXPECT_EQ(runtime.dropped, 1u);
  stop(g);
  EXPECT_EQ(p2p(a, g, true, 1, 8), nullptr);  // the group has stopped
  EXPECT_EQ(runtime.dropped, 2u);
  kTestV5.finalize(a);
  kTestV5.finalize(b);
}

TEST_F(CommunicatorTest, PeersOutsideTheCommunicatorAddNoBytes) {
  void* context = init(3, 0);
  void* g = group(context);
  std::vector<void*> events = {p2p(context, g, true, 1, 5), p2p(context, g, true, 2, 6), p2p(context, g, true, 7, 100),
                               p2p(context, g, false, 1, 7), p2p(context, g, false, -1, 100),
                               p2p(context, g, false, 2, 8)};
  for (void* e : events) stop(e);
  stop(g);
  ASSERT_EQ(runtime.all_to_alls.size(), 1u);
  EXPECT_EQ(runtime.all_to_alls[0].peers, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(runtime.all_to_alls[0].send, (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ(runtime.all_to_alls[0].recv, (std::vector<uint64_t>{7, 8}));
  kTestV5.finalize(context);
}

// A communicator name made to be hard to write as JSON, longer than is kept: payloads stay
// valid and carry its first 63 bytes.
TEST_F(CommunicatorTest, AnyCommunicatorNameGivesValidPayloads) {
  const std::string name = std::string(40, '"') + std::string(40, '\x01') + "tail";
  void* context = nullptr;
  int mask = 0;
  ASSERT_EQ(kTestV5.init(&context, UINT64_MAX, &mask, name.c_str(), 1, 2, 1, nullptr), MOEPROF_NCCL_SUCCESS);
  stop(coll(context, nullptr, "AllReduce", UINT64_MAX));
  void* g = group(context);
  void* s = p2p(context, g, true, 0, 3);
  stop(s);
  stop(g);
  ASSERT_EQ(runtime.ranges.size(), 2u);
  for (const RecordedRange& r : runtime.ranges) {
    ASSERT_TRUE(r.payload.has_value()) << r.name;
    const auto json = parse_flat_json(*r.payload);
    ASSERT_TRUE(json.has_value()) << *r.payload;
    EXPECT_EQ(json->at("comm_name"), name.substr(0, 63));
    EXPECT_EQ(json->at("comm"), "0xffffffffffffffff");
    EXPECT_EQ(json->at("rank"), "1");
  }
  EXPECT_EQ(parse_flat_json(*runtime.ranges[0].payload)->at("bytes"), std::to_string(UINT64_MAX));  // count x 1 byte
  kTestV5.finalize(context);
}

// Four threads drive all-to-alls on one communicator at once, sharing its pools.
TEST_F(CommunicatorTest, ThreadsSharingACommunicatorEachGetTheirAllToAlls) {
  constexpr int kThreads = 4, kCalls = 300, kRanks = 4;
  void* context = init(kRanks, 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      nccl_emulator emu{};
      emu.version = 5;
      emu.v5 = &kTestV5;
      emu.context = context;
      emu.mask = kDefaultEvents;
      emu.nranks = kRanks;
      emu.rank = 1;
      for (int i = 0; i < kCalls; ++i) emu_alltoall(&emu, static_cast<size_t>(t + 1), "ncclInt32");
    });
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(runtime.all_to_alls.size(), size_t{kThreads * kCalls});
  std::map<uint64_t, int> per_size;  // thread t sends (t + 1) * 4 bytes to every peer
  for (const RecordedAllToAll& a : runtime.all_to_alls) {
    ASSERT_EQ(a.peers, (std::vector<int32_t>{0, 1, 2, 3}));
    ASSERT_EQ(a.send, std::vector<uint64_t>(4, a.send[0]));
    ASSERT_EQ(a.recv, a.send);
    ++per_size[a.send[0]];
  }
  EXPECT_EQ(per_size, (std::map<uint64_t, int>{{4, kCalls}, {8, kCalls}, {12, kCalls}, {16, kCalls}}));
  EXPECT_EQ(runtime.dropped, 0u);
  EXPECT_EQ(static_cast<Communicator*>(context)->tasks_in_use(), 0u);
  kTestV5.finalize(context);
}

// The same with a pool too small for all of them: every all-to-all is either recorded whole
// or each of its events is counted as dropped.
TEST_F(CommunicatorTest, ThreadsOnASmallPoolRecordOrCountEveryEvent) {
  constexpr int kThreads = 4, kCalls = 300, kRanks = 4;
  runtime.settings.pools = PoolSizes{12, 64, 4};
  void* context = init(kRanks, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      nccl_emulator emu{};
      emu.version = 5;
      emu.v5 = &kTestV5;
      emu.context = context;
      emu.mask = kDefaultEvents;
      emu.nranks = kRanks;
      for (int i = 0; i < kCalls; ++i) emu_alltoall(&emu, 1, "ncclInt8");
    });
  for (std::thread& t : threads) t.join();
  const uint64_t recorded = runtime.all_to_alls.size();
  EXPECT_EQ(recorded * 2 * kRanks + runtime.dropped, uint64_t{kThreads * kCalls * 2 * kRanks});
  EXPECT_EQ(static_cast<Communicator*>(context)->tasks_in_use(), 0u);
  kTestV5.finalize(context);
}

}  // namespace
}  // namespace moeprof::nccl::testing

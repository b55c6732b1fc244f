// The C API end to end: calls in, frames out to a fake collector, every record checked
// against what the test recorded.
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "agent_test_support.h"
#include "clock.h"
#include "scoped_env.h"
#include "testing.h"

namespace moeprof::agent {
namespace {

using namespace testing;
using wire::RecordType;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_clock_for_testing(&fake_clock);
    g_fake_now = 1000;
  }
  void TearDown() override {
    moeprof_shutdown();
    set_clock_for_testing(nullptr);
  }
  // Shuts the agent down and returns its one, complete stream.
  Stream finish() {
    moeprof_shutdown();
    EXPECT_TRUE(collector.wait_for([](const auto& s) { return s.size() == 1 && s[0].closed; }));
    std::vector<Stream> streams = collector.streams();
    EXPECT_EQ(streams.size(), 1u);
    if (streams.empty()) return {};
    const Stream& s = streams[0];
    EXPECT_EQ(s.error, "");
    EXPECT_GE(s.records.size(), 2u);
    if (!s.records.empty()) {
      EXPECT_EQ(s.records.front().type, RecordType::kHello);
    }
    EXPECT_TRUE(s.has_goodbye());
    return s;
  }
  FakeCollector collector;
};

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST_F(ApiTest, EveryRecordArrivesExactlyAsRecorded) {
  ScopedEnv rank("RANK", "5");
  timespec before;
  clock_gettime(CLOCK_MONOTONIC, &before);
  ASSERT_EQ(start_agent(collector, MOEPROF_ROUTING_FULL), MOEPROF_OK);
  timespec after;
  clock_gettime(CLOCK_MONOTONIC, &after);
  EXPECT_EQ(moeprof_enabled(), 1);

  const moeprof_topology topology{sizeof topology, 3, 1, 8, 4, 2, 4, 2, 1, 64, "tiny-moe"};
  moeprof_set_topology(&topology);
  const int32_t slot_expert[] = {0, 1, 2, 3, 0};
  const int32_t slot_rank[] = {0, 0, 1, 1, 2};
  moeprof_set_placement(1, 5, slot_expert, slot_rank);

  g_fake_now = 1000;
  moeprof_step_begin(7);
  g_fake_now = 1100;
  const uint32_t counts[] = {5, 0, 9, 2};
  moeprof_expert_counts(0, 4, counts);
  g_fake_now = 1200;
  moeprof_span a2a = moeprof_all_to_all_begin(0, MOEPROF_PHASE_DISPATCH);
  g_fake_now = 1300;
  const uint64_t send[] = {10, 20000000000ull}, recv[] = {30, 40};
  const moeprof_peer_bytes dense{sizeof dense, 2, nullptr, send, recv};
  moeprof_all_to_all_end(a2a, &dense);
  g_fake_now = 1400;
  moeprof_span compute = moeprof_compute_begin(1, MOEPROF_COMPUTE_EXPERT);
  g_fake_now = 1900;
  moeprof_compute_end(compute);
  g_fake_now = 2000;
  const int32_t ids[] = {0, 1, 2, 3, 1, 0};
  const float weights[] = {0.5f, 0.25f, 0.75f, 0.125f, 1.0f, 0.0f};
  moeprof_router_decisions(1, 16, 3, 2, ids, weights);
  g_fake_now = 2100;
  moeprof_marker(std::string(300, 'm').c_str());
  g_fake_now = 2200;
  moeprof_span combine = moeprof_all_to_all_begin(1, MOEPROF_PHASE_COMBINE);
  g_fake_now = 2300;
  const int32_t peers[] = {4, 7, 2};
  const uint64_t send3[] = {1, 2, 3}, recv3[] = {4, 5, 6};
  const moeprof_peer_bytes sparse{sizeof sparse, 3, peers, send3, recv3};
  moeprof_all_to_all_end(combine, &sparse);
  g_fake_now = 2400;
  moeprof_step_end(7);
  const uint32_t tid = static_cast<uint32_t>(syscall(SYS_gettid));

  EXPECT_EQ(stats().records_written, 8u);
  const Stream s = finish();
  ASSERT_EQ(s.records.size(), 1 + 2 + 8 + 1 + 1u);  // Hello, metadata, events, Recorded, Goodbye

  const auto hello = s.records[0].as<wire::Hello>();
  EXPECT_EQ(+hello.pid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(+hello.ppid, static_cast<uint32_t>(getppid()));
  EXPECT_EQ(+hello.rank_hint, 5);
  EXPECT_EQ(+hello.agent_version, static_cast<uint32_t>(MOEPROF_API_VERSION));
  EXPECT_GE(+hello.monotonic_ns, before.tv_sec * 1'000'000'000LL + before.tv_nsec);
  EXPECT_LE(+hello.monotonic_ns, after.tv_sec * 1'000'000'000LL + after.tv_nsec);
  EXPECT_NEAR(static_cast<double>(+hello.realtime_ns), static_cast<double>(time(nullptr)) * 1e9, 60e9);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::string command = read_file("/proc/self/cmdline");
  command.pop_back();  // the trailing NUL
  EXPECT_EQ(std::string(s.records[0].var.begin(), s.records[0].var.end()), std::string(host) + command);
  EXPECT_EQ(+hello.host_size, std::strlen(host));

  ASSERT_EQ(s.records[1].type, RecordType::kTopology);
  const auto topo = s.records[1].as<wire::Topology>();
  EXPECT_EQ(+topo.rank, 3);
  EXPECT_EQ(+topo.local_rank, 1);
  EXPECT_EQ(+topo.world_size, 8);
  EXPECT_EQ(+topo.ep_size, 4);
  EXPECT_EQ(+topo.num_layers, 2);
  EXPECT_EQ(+topo.num_experts, 4);
  EXPECT_EQ(+topo.top_k, 2);
  EXPECT_EQ(+topo.num_shared_experts, 1);
  EXPECT_EQ(+topo.hidden_size, 64);
  EXPECT_EQ(std::string(s.records[1].var.begin(), s.records[1].var.end()), "tiny-moe");

  ASSERT_EQ(s.records[2].type, RecordType::kPlacement);
  EXPECT_EQ(+s.records[2].as<wire::Placement>().layer, 1);
  std::vector<wire::PlacementSlot> slots;
  ASSERT_TRUE(wire::decode_placement(s.records[2].var, &slots));
  EXPECT_EQ(slots, (std::vector<wire::PlacementSlot>{{0, 0}, {1, 0}, {2, 1}, {3, 1}, {0, 2}}));

  ASSERT_EQ(s.records[3].type, RecordType::kStepBegin);
  EXPECT_EQ(+s.records[3].as<wire::StepMark>().ts_ns, 1000);
  EXPECT_EQ(+s.records[3].as<wire::StepMark>().step, 7);

  ASSERT_EQ(s.records[4].type, RecordType::kExpertCounts);
  const auto ec = s.records[4].as<wire::ExpertCounts>();
  EXPECT_EQ(+ec.ts_ns, 0);  // counts carry no time
  EXPECT_EQ(+ec.step, 7);
  EXPECT_EQ(+ec.layer, 0);
  std::vector<uint32_t> decoded_counts;
  ASSERT_TRUE(wire::decode_counts(s.records[4].var, &decoded_counts));
  EXPECT_EQ(decoded_counts, std::vector<uint32_t>(std::begin(counts), std::end(counts)));

  ASSERT_EQ(s.records[5].type, RecordType::kAllToAll);
  const auto d = s.records[5].as<wire::AllToAll>();
  EXPECT_EQ(+d.start_ns, 1200);
  EXPECT_EQ(+d.end_ns, 1300);
  EXPECT_EQ(+d.step, 7);
  EXPECT_EQ(+d.layer, 0);
  EXPECT_EQ(+d.tid, tid);
  EXPECT_EQ(+d.phase, static_cast<uint8_t>(wire::Phase::kDispatch));
  EXPECT_EQ(+d.source, static_cast<uint8_t>(wire::Source::kApi));
  std::vector<wire::PeerBytes> peer_bytes;
  ASSERT_TRUE(wire::decode_peer_bytes(s.records[5].var, &peer_bytes));
  EXPECT_EQ(peer_bytes, (std::vector<wire::PeerBytes>{{0, 10, 30}, {1, 20000000000ull, 40}}));

  ASSERT_EQ(s.records[6].type, RecordType::kComputeSpan);
  const auto c = s.records[6].as<wire::ComputeSpan>();
  EXPECT_EQ(+c.start_ns, 1400);
  EXPECT_EQ(+c.end_ns, 1900);
  EXPECT_EQ(+c.step, 7);
  EXPECT_EQ(+c.layer, 1);
  EXPECT_EQ(+c.tid, tid);
  EXPECT_EQ(+c.kind, static_cast<uint8_t>(wire::ComputeKind::kExpert));
  EXPECT_TRUE(s.records[6].var.empty());

  ASSERT_EQ(s.records[7].type, RecordType::kRouterDecisions);
  const auto rd = s.records[7].as<wire::RouterDecisions>();
  EXPECT_EQ(+rd.ts_ns, 2000);
  EXPECT_EQ(+rd.step, 7);
  EXPECT_EQ(+rd.layer, 1);
  EXPECT_EQ(+rd.token_offset, 16u);
  wire::Routing routing;
  ASSERT_TRUE(wire::decode_routing(s.records[7].var, &routing));
  EXPECT_EQ(routing.num_tokens, 3u);
  EXPECT_EQ(routing.top_k, 2u);
  EXPECT_EQ(routing.expert_ids, std::vector<int32_t>(std::begin(ids), std::end(ids)));
  EXPECT_EQ(routing.gate_weights, std::vector<float>(std::begin(weights), std::end(weights)));

  ASSERT_EQ(s.records[8].type, RecordType::kMarker);
  EXPECT_EQ(+s.records[8].as<wire::Marker>().ts_ns, 2100);
  EXPECT_EQ(+s.records[8].as<wire::Marker>().tid, tid);
  EXPECT_EQ(std::string(s.records[8].var.begin(), s.records[8].var.end()), std::string(255, 'm'));

  ASSERT_EQ(s.records[9].type, RecordType::kAllToAll);
  const auto cb = s.records[9].as<wire::AllToAll>();
  EXPECT_EQ(+cb.start_ns, 2200);
  EXPECT_EQ(+cb.end_ns, 2300);
  EXPECT_EQ(+cb.layer, 1);
  EXPECT_EQ(+cb.phase, static_cast<uint8_t>(wire::Phase::kCombine));
  ASSERT_TRUE(wire::decode_peer_bytes(s.records[9].var, &peer_bytes));
  EXPECT_EQ(peer_bytes, (std::vector<wire::PeerBytes>{{4, 1, 4}, {7, 2, 5}, {2, 3, 6}}));

  ASSERT_EQ(s.records[10].type, RecordType::kStepEnd);
  EXPECT_EQ(+s.records[10].as<wire::StepMark>().ts_ns, 2400);
  EXPECT_EQ(+s.records[10].as<wire::StepMark>().step, 7);

  // The frame says how many of its records each source delivered: the 8 events, all api.
  ASSERT_EQ(s.records[11].type, RecordType::kRecorded);
  EXPECT_EQ(+s.records[11].as<wire::Recorded>().source, static_cast<uint8_t>(wire::Source::kApi));
  EXPECT_EQ(+s.records[11].as<wire::Recorded>().count, 8u);
  EXPECT_EQ(s.count(RecordType::kDrops), 0u);
}

TEST_F(ApiTest, ExpertDropsTravelAsTheirOwnRecord) {
  ASSERT_EQ(start_agent(collector, MOEPROF_ROUTING_OFF), MOEPROF_OK);
  g_fake_now = 5000;
  moeprof_step_begin(3);
  const uint32_t routed[] = {40, 2, 0}, dropped[] = {8, 0, 0};
  moeprof_expert_counts(2, 3, routed);
  g_fake_now = 5100;
  moeprof_expert_drops(2, 3, dropped);
  moeprof_expert_drops(2, 0, dropped);  // nothing to report: ignored
  moeprof_expert_drops(2, 3, nullptr);
  const Stream s = finish();
  std::vector<Record> drops;
  for (const auto& r : s.records)
    if (r.type == RecordType::kExpertDrops) drops.push_back(r);
  ASSERT_EQ(drops.size(), 1u);
  const auto d = drops[0].as<wire::ExpertCounts>();
  EXPECT_EQ(+d.ts_ns, 0);
  EXPECT_EQ(+d.step, 3);
  EXPECT_EQ(+d.layer, 2);
  std::vector<uint32_t> decoded;
  ASSERT_TRUE(wire::decode_counts(drops[0].var, &decoded));
  EXPECT_EQ(decoded, std::vector<uint32_t>(std::begin(dropped), std::end(dropped)));
}

TEST_F(ApiTest, RoutingOffRecordsNoDecisions) {
  ASSERT_EQ(start_agent(collector, MOEPROF_ROUTING_OFF), MOEPROF_OK);
  const int32_t ids[] = {1, 2};
  for (int64_t step = 0; step < 4; ++step) {
    moeprof_step_begin(step);
    EXPECT_EQ(moeprof_routing_wanted(), 0);
    moeprof_router_decisions(0, 0, 1, 2, ids, nullptr);
  }
  EXPECT_EQ(finish().count(RecordType::kRouterDecisions), 0u);
}

TEST_F(ApiTest, RoutingSampleRecordsEveryNthStepOnly) {
  ASSERT_EQ(start_agent(collector, MOEPROF_ROUTING_SAMPLE, 3), MOEPROF_OK);
  const int32_t ids[] = {1, 2, 3, 4};
  std::vector<int64_t> expected;
  for (int64_t step = 0; step < 10; ++step) {
    moeprof_step_begin(step);
    EXPECT_EQ(moeprof_routing_wanted(), step % 3 == 0) << step;
    if (step % 3 == 0) expected.push_back(step);
    moeprof_router_decisions(2, 0, 2, 2, ids, nullptr);
  }
  std::vector<int64_t> steps;
  const Stream s = finish();
  for (const Record& r : of_type(s, RecordType::kRouterDecisions)) {
    steps.push_back(+r.as<wire::RouterDecisions>().step);
    wire::Routing routing;
    ASSERT_TRUE(wire::decode_routing(r.var, &routing));
    EXPECT_EQ(routing.expert_ids, std::vector<int32_t>(std::begin(ids), std::end(ids)));
    EXPECT_TRUE(routing.gate_weights.empty());
  }
  EXPECT_EQ(steps, expected);
}

TEST_F(ApiTest, RoutingFromTheEnvironment) {
  ScopedEnv routing("MOEPROF_ROUTING", "sample:2"), socket("MOEPROF_SOCKET", collector.socket_path().c_str());
  ASSERT_EQ(moeprof_init(nullptr), MOEPROF_OK);
  moeprof_step_begin(4);
  EXPECT_EQ(moeprof_routing_wanted(), 1);
  moeprof_step_begin(5);
  EXPECT_EQ(moeprof_routing_wanted(), 0);
}

// Four threads record counts at once; the collector's sums equal the recorded sums exactly.
TEST_F(ApiTest, ThreadsRecordConcurrentlyAndTheTotalsAreExact) {
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  constexpr int kThreads = 4, kIterations = 500, kExperts = 64, kLayers = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      std::vector<uint32_t> counts(kExperts);
      for (int i = 0; i < kIterations; ++i) {
        for (int e = 0; e < kExperts; ++e) counts[e] = static_cast<uint32_t>((t * 7919 + i * 31 + e * 17) % 101);
        moeprof_expert_counts(i % kLayers, kExperts, counts.data());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::map<std::pair<int, int>, uint64_t> expected, got;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kIterations; ++i)
      for (int e = 0; e < kExperts; ++e) expected[{i % kLayers, e}] += (t * 7919 + i * 31 + e * 17) % 101;
  EXPECT_EQ(stats().records_dropped, 0u);
  const Stream s = finish();
  for (const Record& r : of_type(s, RecordType::kExpertCounts)) {
    std::vector<uint32_t> counts;
    ASSERT_TRUE(wire::decode_counts(r.var, &counts));
    ASSERT_EQ(counts.size(), static_cast<size_t>(kExperts));
    for (int e = 0; e < kExperts; ++e) got[{+r.as<wire::ExpertCounts>().layer, e}] += counts[e];
  }
  EXPECT_EQ(s.count(RecordType::kExpertCounts), static_cast<size_t>(kThreads * kIterations));
  EXPECT_EQ(got, expected);
}

// With two rings, six threads one after another all get one: exited threads' rings come back.
TEST_F(ApiTest, RingsOfExitedThreadsAreRecycled) {
  ScopedEnv threads("MOEPROF_MAX_THREADS", "2");
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  std::vector<uint32_t> tids;
  for (int i = 0; i < 6; ++i) {
    std::thread([&tids, i] {
      moeprof_marker(("thread " + std::to_string(i)).c_str());
      tids.push_back(static_cast<uint32_t>(syscall(SYS_gettid)));
    }).join();
    moeprof_flush();
  }
  EXPECT_EQ(stats().records_dropped, 0u);
  const Stream s = finish();
  EXPECT_EQ(marker_names(s), (std::vector<std::string>{"thread 0", "thread 1", "thread 2", "thread 3", "thread 4",
                                                       "thread 5"}));
  std::vector<uint32_t> got;
  for (const Record& r : of_type(s, RecordType::kMarker)) got.push_back(+r.as<wire::Marker>().tid);
  EXPECT_EQ(got, tids);
}

TEST_F(ApiTest, ThreadsBeyondThePoolAreDroppedAsNoRing) {
  ScopedEnv threads("MOEPROF_MAX_THREADS", "1");
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  moeprof_marker("main");  // takes the only ring
  std::thread([] {
    for (int i = 0; i < 10; ++i) moeprof_marker("lost");
  }).join();
  EXPECT_EQ(stats().records_written, 1u);
  EXPECT_EQ(stats().records_dropped, 10u);
  const Stream s = finish();
  EXPECT_EQ(marker_names(s), std::vector<std::string>{"main"});
  EXPECT_EQ(drops(s, wire::DropReason::kNoRing), 10u);
}

TEST_F(ApiTest, RecordsLargerThanHalfARingAreDroppedAsTooLarge) {
  ScopedEnv ring("MOEPROF_RING_KB", "4");
  ASSERT_EQ(start_agent(collector, MOEPROF_ROUTING_FULL), MOEPROF_OK);
  std::vector<uint32_t> counts(1024, 1);  // 4 KiB of counts
  moeprof_expert_counts(0, 1024, counts.data());
  std::vector<int32_t> ids(2 * 300, 1);  // 2.4 KiB of ids
  moeprof_router_decisions(0, 0, 300, 2, ids.data(), nullptr);
  moeprof_expert_counts(0, 8, counts.data());  // small: fits
  EXPECT_EQ(stats().records_dropped, 2u);
  const Stream s = finish();
  EXPECT_EQ(drops(s, wire::DropReason::kTooLarge), 2u);
  EXPECT_EQ(s.count(RecordType::kExpertCounts), 1u);
  EXPECT_EQ(s.count(RecordType::kRouterDecisions), 0u);
}

// A collector that stops reading blocks the flusher; the workload goes on, fills its ring,
// and what does not fit is counted. Once it reads again every accepted record arrives.
TEST_F(ApiTest, AFullRingDropsAndCountsAndLosesNothingElse) {
  ScopedEnv ring("MOEPROF_RING_KB", "64");
  set_send_timeout_for_testing(60'000);
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  set_send_timeout_for_testing(2000);
  collector.pause_reading(true);
  std::vector<uint32_t> counts(64);
  uint32_t calls = 0;
  uint64_t extra = 0;
  while (calls < 10'000'000 && extra < 1000) {
    counts[0] = calls++;
    moeprof_expert_counts(0, 64, counts.data());
    if (extra > 0 || stats().records_dropped > 0) ++extra;
  }
  ASSERT_GT(stats().records_dropped, 0u);
  collector.pause_reading(false);
  const Stream s = finish();
  const auto received = of_type(s, RecordType::kExpertCounts);
  EXPECT_EQ(received.size() + drops(s, wire::DropReason::kRingFull), calls);
  int64_t previous = -1;
  for (const Record& r : received) {  // what arrived is in order, without duplicates
    std::vector<uint32_t> decoded;
    ASSERT_TRUE(wire::decode_counts(r.var, &decoded));
    ASSERT_GT(static_cast<int64_t>(decoded[0]), previous);
    previous = decoded[0];
  }
}

TEST_F(ApiTest, SpansFromAnotherKindOrFromADisabledAgentRecordNothing) {
  const moeprof_span before_init = moeprof_compute_begin(0, MOEPROF_COMPUTE_GATE);
  EXPECT_EQ(before_init.opaque[0], 0u);
  EXPECT_EQ(before_init.opaque[1], 0u);
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  moeprof_compute_end(before_init);
  const moeprof_span compute = moeprof_compute_begin(0, MOEPROF_COMPUTE_GATE);
  moeprof_all_to_all_end(compute, nullptr);  // wrong kind
  const moeprof_span a2a = moeprof_all_to_all_begin(0, MOEPROF_PHASE_DISPATCH);
  moeprof_compute_end(a2a);  // wrong kind
  moeprof_all_to_all_end(a2a, nullptr);  // right: a span without byte counts
  const Stream s = finish();
  EXPECT_EQ(s.count(RecordType::kComputeSpan), 0u);
  ASSERT_EQ(s.count(RecordType::kAllToAll), 1u);
  std::vector<wire::PeerBytes> peers;
  ASSERT_TRUE(wire::decode_peer_bytes(of_type(s, RecordType::kAllToAll)[0].var, &peers));
  EXPECT_TRUE(peers.empty());
}

TEST_F(ApiTest, AdaptersStayOutOfAllToAllsTheEngineReportsItself) {
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  const uint64_t send[] = {8, 16}, recv[] = {24, 32};
  const moeprof_peer_bytes bytes{sizeof bytes, 2, nullptr, send, recv};
  // The engine's dispatch wraps an MPI_Alltoallv: the MPI adapter's span is null inside it.
  const moeprof_span engine = moeprof_all_to_all_begin(3, MOEPROF_PHASE_DISPATCH);
  const moeprof_span inside = moeprof_source_all_to_all_begin(MOEPROF_SOURCE_MPI, -1, MOEPROF_PHASE_OTHER);
  EXPECT_EQ(inside.opaque[1], 0u);
  moeprof_all_to_all_end(inside, &bytes);
  moeprof_all_to_all_end(engine, &bytes);
  // Outside it (and on another thread meanwhile) the adapter records, under its own source.
  std::thread other([&] {
    const moeprof_span s = moeprof_source_all_to_all_begin(MOEPROF_SOURCE_NCCL, -1, MOEPROF_PHASE_OTHER);
    moeprof_all_to_all_end(s, &bytes);
  });
  other.join();
  g_fake_now = 5000;
  const moeprof_span outside = moeprof_source_all_to_all_begin(MOEPROF_SOURCE_MPI, -1, MOEPROF_PHASE_OTHER);
  g_fake_now = 5100;
  moeprof_all_to_all_end(outside, &bytes);
  // A source that is not an adapter's is refused.
  EXPECT_EQ(moeprof_source_all_to_all_begin(MOEPROF_SOURCE_API, 0, MOEPROF_PHASE_OTHER).opaque[1], 0u);
  EXPECT_EQ(moeprof_source_all_to_all_begin(static_cast<moeprof_source>(99), 0, MOEPROF_PHASE_OTHER).opaque[1], 0u);
  const Stream s = finish();
  const auto records = of_type(s, RecordType::kAllToAll);
  ASSERT_EQ(records.size(), 3u);
  std::vector<std::pair<uint8_t, int32_t>> seen;
  for (const auto& r : records) {
    const auto a2a = r.as<wire::AllToAll>();
    seen.push_back({a2a.source, int32_t{a2a.layer}});  // copies: the record is packed
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::pair<uint8_t, int32_t>>{{uint8_t(wire::Source::kApi), 3},
                                                            {uint8_t(wire::Source::kMpi), -1},
                                                            {uint8_t(wire::Source::kNccl), -1}}));
  for (const auto& r : records)
    if (r.as<wire::AllToAll>().source == uint8_t(wire::Source::kMpi)) {
      EXPECT_EQ(+r.as<wire::AllToAll>().end_ns - r.as<wire::AllToAll>().start_ns, 100);
    }
}

TEST_F(ApiTest, InitIsIdempotentAndThreadSafeAndWorksAgainAfterShutdown) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] { ok += start_agent(collector) == MOEPROF_OK; });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  moeprof_marker("first");
  moeprof_shutdown();
  moeprof_shutdown();
  EXPECT_EQ(moeprof_enabled(), 0);
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  moeprof_marker("second");
  moeprof_shutdown();
  ASSERT_TRUE(collector.wait_for([](const auto& s) { return s.size() == 2 && s[0].closed && s[1].closed; }));
  const auto streams = collector.streams();
  for (const Stream& s : streams) {
    EXPECT_EQ(s.error, "");
    EXPECT_EQ(s.count(RecordType::kHello), 1u);
    EXPECT_TRUE(s.has_goodbye());
  }
  EXPECT_EQ(marker_names(streams[0]), std::vector<std::string>{"first"});
  EXPECT_EQ(marker_names(streams[1]), std::vector<std::string>{"second"});
}

TEST_F(ApiTest, StatsHonourTheCallersStructSize) {
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  moeprof_marker("a");
  moeprof_marker("b");
  moeprof_stats old_layout;
  old_layout.struct_size = offsetof(moeprof_stats, records_dropped);
  old_layout.records_written = 0;
  old_layout.records_dropped = 0xDEAD;
  old_layout.frames_sent = 0xBEEF;
  moeprof_get_stats(&old_layout);
  EXPECT_EQ(old_layout.struct_size, offsetof(moeprof_stats, records_dropped));
  EXPECT_EQ(old_layout.records_written, 2u);
  EXPECT_EQ(old_layout.records_dropped, 0xDEADu);
  EXPECT_EQ(old_layout.frames_sent, 0xBEEFu);
  moeprof_flush();
  EXPECT_GE(stats().frames_sent, 2u);  // Hello and the markers
  moeprof_get_stats(nullptr);
}

// The real clocks: span times lie between CLOCK_MONOTONIC readings taken around the calls.
void expect_real_timestamps(FakeCollector& collector, int64_t tolerance_ns) {
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  const int64_t t0 = monotonic_ns();
  const moeprof_span span = moeprof_compute_begin(0, MOEPROF_COMPUTE_ATTENTION);
  moeprof_compute_end(span);
  const int64_t t1 = monotonic_ns();
  moeprof_shutdown();
  ASSERT_TRUE(collector.wait_for([](const auto& s) { return !s.empty() && s.back().closed; }));
  const auto spans = of_type(collector.streams().back(), RecordType::kComputeSpan);
  ASSERT_EQ(spans.size(), 1u);
  const auto c = spans[0].as<wire::ComputeSpan>();
  EXPECT_GE(+c.start_ns, t0 - tolerance_ns);
  EXPECT_LE(+c.start_ns, +c.end_ns);
  EXPECT_LE(+c.end_ns, t1 + tolerance_ns);
}

TEST_F(ApiTest, MonotonicClockTimestampsAreCorrect) {
  set_clock_for_testing(nullptr);
  ScopedEnv clock("MOEPROF_CLOCK", "monotonic");
  expect_real_timestamps(collector, 0);
}

TEST_F(ApiTest, TscTimestampsConvertToTheMonotonicClock) {
  if (!has_invariant_tsc()) GTEST_SKIP() << "no invariant TSC on this CPU";
  set_clock_for_testing(nullptr);
  ScopedEnv clock("MOEPROF_CLOCK", "tsc");
  expect_real_timestamps(collector, 5000);
}

}  // namespace
}  // namespace moeprof::agent

// What the workload sees when there is no agent, no collector, or a collector that dies or
// stops reading: cheap no-ops, counted drops, never a crash or a hang.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "agent_test_support.h"
#include "scoped_env.h"
#include "testing.h"

namespace moeprof::agent {
namespace {

using namespace testing;
using wire::RecordType;

// Calls every entry point, with good and with NULL arguments.
void call_everything() {
  const uint32_t counts[] = {1, 2};
  const int32_t ids[] = {0, 1};
  const float weights[] = {0.5f, 0.5f};
  moeprof_topology topology{sizeof topology, 0, 0, 1, 1, 1, 2, 1, 0, 8, nullptr};
  moeprof_set_topology(&topology);
  moeprof_set_topology(nullptr);
  moeprof_set_placement(0, 2, ids, ids);
  moeprof_set_placement(0, 2, nullptr, nullptr);
  moeprof_step_begin(1);
  moeprof_expert_counts(0, 2, counts);
  moeprof_expert_counts(0, 2, nullptr);
  moeprof_router_decisions(0, 0, 1, 2, ids, weights);
  moeprof_router_decisions(0, 0, 1, 2, nullptr, weights);
  const moeprof_span a = moeprof_all_to_all_begin(0, MOEPROF_PHASE_DISPATCH);
  moeprof_all_to_all_end(a, nullptr);
  const moeprof_span c = moeprof_compute_begin(0, MOEPROF_COMPUTE_GATE);
  moeprof_compute_end(c);
  moeprof_marker("m");
  moeprof_marker(nullptr);
  moeprof_step_end(1);
  moeprof_flush();
  moeprof_get_stats(nullptr);
}

TEST(NotInitialised, EveryEntryPointIsANoOp) {
  ASSERT_EQ(moeprof_enabled(), 0);
  const moeprof_stats before = stats();
  call_everything();
  EXPECT_EQ(moeprof_enabled(), 0);
  EXPECT_EQ(moeprof_routing_wanted(), 0);
  const moeprof_span span = moeprof_compute_begin(0, MOEPROF_COMPUTE_GATE);
  EXPECT_EQ(span.opaque[0] | span.opaque[1], 0u);
  const moeprof_stats after = stats();
  EXPECT_EQ(after.records_written, before.records_written);
  EXPECT_EQ(after.records_dropped, before.records_dropped);
  moeprof_shutdown();
}

TEST(NoCollector, InitReportsItAndTheAgentStaysOff) {
  const moeprof_init_options options{sizeof options, MOEPROF_API_VERSION, "/nonexistent/moeprof.sock", -1, 0};
  EXPECT_EQ(moeprof_init(&options), MOEPROF_ERROR_NO_COLLECTOR);
  EXPECT_EQ(moeprof_enabled(), 0);
  call_everything();
  EXPECT_EQ(moeprof_enabled(), 0);
  {
    ScopedEnv socket("MOEPROF_SOCKET", nullptr);
    EXPECT_EQ(moeprof_init(nullptr), MOEPROF_ERROR_NO_COLLECTOR);
  }
  EXPECT_EQ(moeprof_enabled(), 0);
}

TEST(NoCollector, DisabledAndBadOptionsAreReported) {
  FakeCollector collector;
  {
    ScopedEnv disable("MOEPROF_DISABLE", "1");
    EXPECT_EQ(start_agent(collector), MOEPROF_ERROR_DISABLED);
  }
  const moeprof_init_options newer{sizeof newer, MOEPROF_API_VERSION + 1, collector.socket_path().c_str(), -1, 0};
  EXPECT_EQ(moeprof_init(&newer), MOEPROF_ERROR_VERSION);
  const moeprof_init_options bad{sizeof bad, MOEPROF_API_VERSION, collector.socket_path().c_str(), 9, 0};
  EXPECT_EQ(moeprof_init(&bad), MOEPROF_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(moeprof_enabled(), 0);
  EXPECT_TRUE(collector.streams().empty());
}

TEST(CollectorDies, TheWorkloadGoesOnAndWhatCannotBeSentIsCounted) {
  set_clock_for_testing(nullptr);
  FakeCollector collector;
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  for (int i = 0; i < 100; ++i) moeprof_marker("before");
  moeprof_flush();
  ASSERT_TRUE(collector.wait_for([](const auto& s) { return s.size() == 1 && s[0].records.size() == 102; }));  // Hello, markers, Recorded
  collector.kill();
  for (int i = 0; i < 50; ++i) moeprof_marker("after");
  moeprof_flush();
  call_everything();  // still safe
  EXPECT_EQ(moeprof_enabled(), 1);
  const moeprof_stats s = stats();
  // call_everything() adds 6 records: step begin and end, counts, a2a, compute, marker (routing is off).
  EXPECT_EQ(s.records_written, 100u + 50u + 6u);
  EXPECT_EQ(s.records_dropped, 50u + 6u);
  const auto start = std::chrono::steady_clock::now();
  moeprof_shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(collector.streams()[0].count(RecordType::kMarker), 100u);
}

// A collector that stops reading: the flusher's send times out and it gives up on the
// stream; recording calls never wait for it, and every call is either received or counted.
TEST(CollectorStalls, RecordingNeverWaitsAndEveryEventIsReceivedOrCounted) {
  set_clock_for_testing(nullptr);
  FakeCollector collector;
  ScopedEnv ring("MOEPROF_RING_KB", "256");
  set_send_timeout_for_testing(1000);
  ASSERT_EQ(start_agent(collector), MOEPROF_OK);
  set_send_timeout_for_testing(2000);
  collector.pause_reading(true);
  const std::string name(200, 'x');
  auto slowest = std::chrono::steady_clock::duration::zero();
  uint64_t calls = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(3500);
  while (std::chrono::steady_clock::now() < until) {
    const auto t0 = std::chrono::steady_clock::now();
    moeprof_marker(name.c_str());
    slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
    ++calls;
  }
  const moeprof_stats s = stats();
  moeprof_shutdown();
  collector.pause_reading(false);
  ASSERT_TRUE(collector.wait_for([](const auto& st) { return st.size() == 1 && st[0].closed; }));
  EXPECT_LT(slowest, std::chrono::milliseconds(500));
  const uint64_t received = collector.streams()[0].count(RecordType::kMarker);
  EXPECT_GT(s.records_dropped, 0u);
  EXPECT_EQ(received + stats().records_dropped, calls);
}

}  // namespace
}  // namespace moeprof::agent

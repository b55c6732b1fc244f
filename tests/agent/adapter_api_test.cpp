// The whole-event entry points of API version 3 (moeprof.h): what capture adapters report
// arrives as wire records carrying the adapter's source, times and strings, and every frame
// says how many records each source delivered.
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "agent_test_support.h"
#include "clock.h"

namespace moeprof::agent {
namespace {

using namespace testing;
using wire::RecordType;

class AdapterApiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(start_agent(collector), MOEPROF_OK); }
  void TearDown() override { moeprof_shutdown(); }
  Stream finish() {
    moeprof_shutdown();
    EXPECT_TRUE(collector.wait_for([](const auto& s) { return s.size() == 1 && s[0].closed; }));
    const std::vector<Stream> streams = collector.streams();
    EXPECT_EQ(streams.size(), 1u);
    if (streams.empty()) return {};
    EXPECT_EQ(streams[0].error, "");
    EXPECT_TRUE(streams[0].has_goodbye());
    return streams[0];
  }
  static std::string text(const Record& r, size_t from, size_t n) {
    return std::string(r.var.begin() + static_cast<ptrdiff_t>(from), r.var.begin() + static_cast<ptrdiff_t>(from + n));
  }
  FakeCollector collector;
};

uint32_t this_tid() { return static_cast<uint32_t>(syscall(SYS_gettid)); }

// Sum of the Recorded records of `source`.
uint64_t recorded(const Stream& s, wire::Source source) {
  uint64_t n = 0;
  for (const Record& r : of_type(s, RecordType::kRecorded))
    if (r.as<wire::Recorded>().source == static_cast<uint8_t>(source)) n += r.as<wire::Recorded>().count;
  return n;
}

TEST_F(AdapterApiTest, AllToAllEventsKeepTheirTimesPeersAndSource) {
  moeprof_step_begin(12);
  const int32_t peers[] = {3, 1};
  const uint64_t send[] = {100, 200}, recv[] = {300, 400};
  const moeprof_peer_bytes bytes{sizeof bytes, 2, peers, send, recv};
  const moeprof_all_to_all_event nccl{sizeof nccl, MOEPROF_SOURCE_NCCL, 5000, 7000, MOEPROF_STEP_CURRENT, -1,
                                      MOEPROF_PHASE_OTHER, 0, 0, &bytes};
  moeprof_record_all_to_all(&nccl);
  // Another thread's transfer, stamped with an explicit step and thread, and no peers.
  const moeprof_all_to_all_event other{sizeof other, MOEPROF_SOURCE_NVTX, 9000, 8000, 4, 2, 99, 4242, 0, nullptr};
  moeprof_record_all_to_all(&other);
  // Refused: the engine's own source, an unknown one, a struct too short to hold `source`.
  moeprof_all_to_all_event api = nccl;
  api.source = MOEPROF_SOURCE_API;
  moeprof_record_all_to_all(&api);
  api.source = 77;
  moeprof_record_all_to_all(&api);
  moeprof_all_to_all_event short_struct = nccl;
  short_struct.struct_size = 4;
  moeprof_record_all_to_all(&short_struct);
  moeprof_record_all_to_all(nullptr);

  const Stream s = finish();
  const std::vector<Record> a2a = of_type(s, RecordType::kAllToAll);
  ASSERT_EQ(a2a.size(), 2u);
  const auto first = a2a[0].as<wire::AllToAll>();
  EXPECT_EQ(+first.start_ns, 5000);
  EXPECT_EQ(+first.end_ns, 7000);
  EXPECT_EQ(+first.step, 12);
  EXPECT_EQ(+first.layer, -1);
  EXPECT_EQ(+first.tid, this_tid());
  EXPECT_EQ(+first.phase, static_cast<uint8_t>(wire::Phase::kOther));
  EXPECT_EQ(+first.source, static_cast<uint8_t>(wire::Source::kNccl));
  std::vector<wire::PeerBytes> decoded;
  ASSERT_TRUE(wire::decode_peer_bytes(a2a[0].var, &decoded));
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].peer, 3);
  EXPECT_EQ(decoded[0].send_bytes, 100u);
  EXPECT_EQ(decoded[0].recv_bytes, 300u);
  EXPECT_EQ(decoded[1].peer, 1);
  EXPECT_EQ(decoded[1].send_bytes, 200u);
  EXPECT_EQ(decoded[1].recv_bytes, 400u);

  const auto second = a2a[1].as<wire::AllToAll>();
  EXPECT_EQ(+second.start_ns, 9000);
  EXPECT_EQ(+second.end_ns, 9000);  // an end before the start is clamped, never negative
  EXPECT_EQ(+second.step, 4);
  EXPECT_EQ(+second.layer, 2);
  EXPECT_EQ(+second.tid, 4242u);
  EXPECT_EQ(+second.phase, static_cast<uint8_t>(wire::Phase::kOther));  // 99 is no phase
  ASSERT_TRUE(wire::decode_peer_bytes(a2a[1].var, &decoded));
  EXPECT_TRUE(decoded.empty());

  EXPECT_EQ(recorded(s, wire::Source::kNccl), 1u);
  EXPECT_EQ(recorded(s, wire::Source::kNvtx), 1u);
  EXPECT_EQ(recorded(s, wire::Source::kApi), 1u);  // the step mark
}

TEST_F(AdapterApiTest, RangesCarryDomainNamePayloadAndKind) {
  moeprof_step_begin(3);
  const moeprof_range push{sizeof push, MOEPROF_SOURCE_NVTX, 100, 250, MOEPROF_STEP_CURRENT, 0,
                           MOEPROF_RANGE_PUSH_POP, 7, 0xff112233u, "NCCL", "AllReduce", "{\"bytes\":4096}"};
  moeprof_record_range(&push);
  const moeprof_range mark{sizeof mark, MOEPROF_SOURCE_NVTX, 300, 999, 8, 77, MOEPROF_RANGE_MARK, 0, 0,
                           nullptr, "checkpoint", nullptr};
  moeprof_record_range(&mark);
  // Over-long strings are cut at the documented limits; an unknown kind is a push/pop.
  const std::string long_name(MOEPROF_MAX_NAME_BYTES + 50, 'n');
  const std::string long_payload(MOEPROF_MAX_PAYLOAD_BYTES + 50, 'p');
  const moeprof_range big{sizeof big, MOEPROF_SOURCE_NVTX, 400, 500, 0, 0, 42, 0, 0, long_name.c_str(),
                          long_name.c_str(), long_payload.c_str()};
  moeprof_record_range(&big);

  const Stream s = finish();
  const std::vector<Record> ranges = of_type(s, RecordType::kRange);
  ASSERT_EQ(ranges.size(), 3u);
  const auto r0 = ranges[0].as<wire::Range>();
  EXPECT_EQ(+r0.start_ns, 100);
  EXPECT_EQ(+r0.end_ns, 250);
  EXPECT_EQ(+r0.step, 3);
  EXPECT_EQ(+r0.tid, this_tid());
  EXPECT_EQ(+r0.source, static_cast<uint8_t>(wire::Source::kNvtx));
  EXPECT_EQ(+r0.kind, static_cast<uint8_t>(wire::RangeKind::kPushPop));
  EXPECT_EQ(+r0.category, 7u);
  EXPECT_EQ(+r0.color, 0xff112233u);
  EXPECT_EQ(text(ranges[0], 0, r0.domain_size), "NCCL");
  EXPECT_EQ(text(ranges[0], r0.domain_size, r0.name_size), "AllReduce");
  EXPECT_EQ(text(ranges[0], size_t{r0.domain_size} + r0.name_size, ranges[0].var.size() - r0.domain_size - r0.name_size),
            "{\"bytes\":4096}");

  const auto r1 = ranges[1].as<wire::Range>();
  EXPECT_EQ(+r1.kind, static_cast<uint8_t>(wire::RangeKind::kMark));
  EXPECT_EQ(+r1.end_ns, 300);  // a mark is an instant
  EXPECT_EQ(+r1.step, 8);
  EXPECT_EQ(+r1.tid, 77u);
  EXPECT_EQ(+r1.domain_size, 0u);
  EXPECT_EQ(text(ranges[1], 0, r1.name_size), "checkpoint");
  EXPECT_EQ(ranges[1].var.size(), size_t{r1.name_size});  // no payload

  const auto r2 = ranges[2].as<wire::Range>();
  EXPECT_EQ(+r2.kind, static_cast<uint8_t>(wire::RangeKind::kPushPop));
  EXPECT_EQ(+r2.domain_size, MOEPROF_MAX_NAME_BYTES);
  EXPECT_EQ(+r2.name_size, MOEPROF_MAX_NAME_BYTES);
  EXPECT_EQ(ranges[2].var.size(), 2 * MOEPROF_MAX_NAME_BYTES + MOEPROF_MAX_PAYLOAD_BYTES);
  EXPECT_EQ(recorded(s, wire::Source::kNvtx), 3u);
}

TEST_F(AdapterApiTest, GpuKernelsAndComputeEventsArriveWhole) {
  moeprof_gpu_kernel kernel{};
  kernel.struct_size = sizeof kernel;
  kernel.device = 1;
  kernel.start_ns = 2000;
  kernel.end_ns = 2600;
  kernel.step = 5;
  kernel.launch_ns = 1900;
  kernel.launch_tid = 31;
  kernel.stream = 7;
  kernel.correlation_id = 1234;
  kernel.layer = 2;
  kernel.compute_kind = MOEPROF_COMPUTE_EXPERT;
  kernel.grid[0] = 64;
  kernel.block[0] = 128;
  kernel.block[2] = 1;
  kernel.name = "moe_grouped_gemm";
  moeprof_record_gpu_kernel(&kernel);
  kernel.compute_kind = -1;  // not MoE compute
  kernel.name = nullptr;
  moeprof_record_gpu_kernel(&kernel);
  kernel.struct_size = 8;  // too short to hold the times: ignored
  moeprof_record_gpu_kernel(&kernel);
  const moeprof_compute_event compute{sizeof compute, MOEPROF_SOURCE_NVTX, 10, 90, MOEPROF_STEP_CURRENT, 1,
                                      MOEPROF_COMPUTE_GATE, 0, 0, "router"};
  moeprof_record_compute(&compute);

  const Stream s = finish();
  const std::vector<Record> kernels = of_type(s, RecordType::kGpuKernel);
  ASSERT_EQ(kernels.size(), 2u);
  const auto k = kernels[0].as<wire::GpuKernel>();
  EXPECT_EQ(+k.start_ns, 2000);
  EXPECT_EQ(+k.end_ns, 2600);
  EXPECT_EQ(+k.step, 5);
  EXPECT_EQ(+k.launch_ns, 1900);
  EXPECT_EQ(+k.launch_tid, 31u);
  EXPECT_EQ(+k.device, 1u);
  EXPECT_EQ(+k.stream, 7u);
  EXPECT_EQ(+k.correlation_id, 1234u);
  EXPECT_EQ(+k.layer, 2);
  EXPECT_EQ(+k.compute_kind, static_cast<int8_t>(wire::ComputeKind::kExpert));
  EXPECT_EQ(+k.grid[0], 64u);
  EXPECT_EQ(+k.block[2], 1u);
  EXPECT_EQ(std::string(kernels[0].var.begin(), kernels[0].var.end()), "moe_grouped_gemm");
  EXPECT_EQ(+kernels[1].as<wire::GpuKernel>().compute_kind, wire::kNoComputeKind);
  EXPECT_TRUE(kernels[1].var.empty());

  const std::vector<Record> spans = of_type(s, RecordType::kComputeSpan);
  ASSERT_EQ(spans.size(), 1u);
  const auto c = spans[0].as<wire::ComputeSpan>();
  EXPECT_EQ(+c.start_ns, 10);
  EXPECT_EQ(+c.end_ns, 90);
  EXPECT_EQ(+c.step, 0);
  EXPECT_EQ(+c.layer, 1);
  EXPECT_EQ(+c.kind, static_cast<uint8_t>(wire::ComputeKind::kGate));
  EXPECT_EQ(+c.source, static_cast<uint8_t>(wire::Source::kNvtx));
  EXPECT_EQ(std::string(spans[0].var.begin(), spans[0].var.end()), "router");
  EXPECT_EQ(recorded(s, wire::Source::kCupti), 2u);
  EXPECT_EQ(recorded(s, wire::Source::kNvtx), 1u);
}

TEST_F(AdapterApiTest, SourceCountsAndAdapterDropsAreCountedUnderTheAdapter) {
  const uint32_t counts[] = {4, 0, 6};
  moeprof_source_expert_counts(MOEPROF_SOURCE_NVTX, 2, 3, counts);
  moeprof_source_expert_counts(MOEPROF_SOURCE_API, 2, 3, counts);  // not an adapter's source
  moeprof_source_expert_counts(MOEPROF_SOURCE_NVTX, 2, 3, nullptr);
  EXPECT_EQ(moeprof_routing_wanted(), 0);  // routing is off in this agent: decisions are not kept
  const int32_t ids[] = {0, 2};
  moeprof_source_router_decisions(MOEPROF_SOURCE_NVTX, 2, 0, 1, 2, ids, nullptr);
  moeprof_count_drops(MOEPROF_SOURCE_NCCL, 5);
  moeprof_count_drops(MOEPROF_SOURCE_NCCL, 0);
  moeprof_count_drops(MOEPROF_SOURCE_API, 3);  // the engine has no adapter pool

  const Stream s = finish();
  const std::vector<Record> loads = of_type(s, RecordType::kExpertCounts);
  ASSERT_EQ(loads.size(), 1u);
  std::vector<uint32_t> decoded;
  ASSERT_TRUE(wire::decode_counts(loads[0].var, &decoded));
  EXPECT_EQ(decoded, (std::vector<uint32_t>{4, 0, 6}));
  EXPECT_EQ(recorded(s, wire::Source::kNvtx), 1u);
  EXPECT_EQ(recorded(s, wire::Source::kApi), 0u);
  uint64_t nccl_drops = 0, other_drops = 0;
  for (const Record& r : of_type(s, RecordType::kDrops)) {
    const auto d = r.as<wire::Drops>();
    if (d.source == static_cast<uint8_t>(wire::Source::kNccl) &&
        d.reason == static_cast<uint8_t>(wire::DropReason::kAdapterFull))
      nccl_drops += d.count;
    else
      other_drops += d.count;
  }
  EXPECT_EQ(nccl_drops, 5u);
  EXPECT_EQ(other_drops, 0u);
}

TEST_F(AdapterApiTest, TheHelpersReportClockStepAndEngineAllToAlls) {
  timespec before;
  clock_gettime(CLOCK_MONOTONIC, &before);
  const int64_t now = moeprof_now_ns();
  timespec after;
  clock_gettime(CLOCK_MONOTONIC, &after);
  EXPECT_GE(now, before.tv_sec * 1'000'000'000LL + before.tv_nsec);
  EXPECT_LE(now, after.tv_sec * 1'000'000'000LL + after.tv_nsec);
  moeprof_step_begin(41);
  EXPECT_EQ(moeprof_current_step(), 41);
  EXPECT_EQ(moeprof_in_engine_all_to_all(), 0);
  const moeprof_span engine = moeprof_all_to_all_begin(0, MOEPROF_PHASE_DISPATCH);
  EXPECT_EQ(moeprof_in_engine_all_to_all(), 1);
  moeprof_all_to_all_end(engine, nullptr);
  EXPECT_EQ(moeprof_in_engine_all_to_all(), 0);
}

TEST(AdapterApiDisabled, EveryEntryPointIsANoOpWithoutAnAgent) {
  ASSERT_EQ(moeprof_enabled(), 0);
  const moeprof_stats before = stats();  // what earlier tests' agents left
  const moeprof_range range{sizeof range, MOEPROF_SOURCE_NVTX, 1, 2, 0, 0, 0, 0, 0, "d", "n", "1"};
  moeprof_record_range(&range);
  const moeprof_all_to_all_event a2a{sizeof a2a, MOEPROF_SOURCE_NCCL, 1, 2, 0, 0, 0, 0, 0, nullptr};
  moeprof_record_all_to_all(&a2a);
  moeprof_gpu_kernel kernel{};
  kernel.struct_size = sizeof kernel;
  moeprof_record_gpu_kernel(&kernel);
  moeprof_record_compute(nullptr);
  moeprof_count_drops(MOEPROF_SOURCE_NCCL, 1);
  EXPECT_EQ(stats().records_written, before.records_written);
  EXPECT_EQ(stats().records_dropped, before.records_dropped);
}

}  // namespace
}  // namespace moeprof::agent

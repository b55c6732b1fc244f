// The NVTX capture over a recording sink: what each NVTX call becomes in the trace.
#include "capture.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "moeprof/moeprof_nvtx.h"
#include "recording_sink.h"

namespace moeprof::nvtx {
namespace {

using testing::RecordingSink;

class CaptureTest : public ::testing::Test {
 protected:
  CaptureSettings settings;
  RecordingSink sink;
  std::unique_ptr<NvtxCapture> capture;
  void SetUp() override { capture = std::make_unique<NvtxCapture>(settings, sink); }
  void remake() { capture = std::make_unique<NvtxCapture>(settings, sink); }
  const Domain* plain() { return capture->domain_of(nullptr); }

  static EventView named(const char* name) { return view_of_ascii(name); }
  static EventView with_payloads(const char* name, const nvtxPayloadData_t* p, size_t n) {
    EventView v = view_of_ascii(name);
    v.payloads = p;
    v.payload_count = n;
    return v;
  }
};

TEST_F(CaptureTest, PushPopNestsAndRecordsInnermostFirstWithLevels) {
  EXPECT_EQ(capture->push(plain(), named("outer")), 0);
  EXPECT_EQ(capture->push(plain(), named("inner")), 1);
  EXPECT_EQ(capture->pop(plain(), nullptr, 0), 1);
  EXPECT_EQ(capture->pop(plain(), nullptr, 0), 0);
  EXPECT_EQ(capture->pop(plain(), nullptr, 0), -1);  // nothing open
  ASSERT_EQ(sink.ranges.size(), 2u);
  const auto& inner = sink.ranges[0];
  const auto& outer = sink.ranges[1];
  EXPECT_EQ(inner.name, "inner");
  EXPECT_EQ(outer.name, "outer");
  EXPECT_EQ(inner.kind, MOEPROF_RANGE_PUSH_POP);
  EXPECT_EQ(inner.tid, 0u);  // the calling thread: the agent fills it in
  EXPECT_LT(outer.start_ns, inner.start_ns);
  EXPECT_LT(inner.start_ns, inner.end_ns);
  EXPECT_LT(inner.end_ns, outer.end_ns);
  EXPECT_EQ(sink.dropped, 0u);
}

TEST_F(CaptureTest, EachDomainPopsItsOwnInnermostRange) {
  const Domain* a = capture->domains().create("a");
  const Domain* b = capture->domains().create("b");
  EXPECT_EQ(capture->domains().create("a"), a);  // one handle per name
  EXPECT_EQ(capture->push(a, named("a0")), 0);
  EXPECT_EQ(capture->push(b, named("b0")), 0);  // levels count per domain
  EXPECT_EQ(capture->push(a, named("a1")), 1);
  EXPECT_EQ(capture->pop(b, nullptr, 0), 0);  // b0, under a1
  EXPECT_EQ(capture->pop(a, nullptr, 0), 1);
  EXPECT_EQ(capture->pop(a, nullptr, 0), 0);
  ASSERT_EQ(sink.ranges.size(), 3u);
  EXPECT_EQ(sink.ranges[0].name, "b0");
  EXPECT_EQ(sink.ranges[0].domain, "b");
  EXPECT_EQ(sink.ranges[1].name, "a1");
  EXPECT_EQ(sink.ranges[2].name, "a0");
  EXPECT_EQ(sink.ranges[2].domain, "a");
  // The arena is reclaimed once the stack unwinds: many more pushes still fit.
  for (int i = 0; i < 10000; ++i) {
    capture->push(a, named("again"));
    capture->pop(a, nullptr, 0);
  }
  EXPECT_EQ(sink.dropped, 0u);
}

TEST_F(CaptureTest, StartEndRangeEndedOnAnotherThreadNamesItsOpener) {
  const Domain* d = capture->domains().create("engine");
  const uint32_t opener = sink.tid_of_thread();
  const uint64_t id = capture->start(d, named("load weights"));
  ASSERT_NE(id, 0u);
  uint32_t ender = 0;
  std::thread([&] {
    ender = sink.tid_of_thread();
    capture->end(id, nullptr, 0);
  }).join();
  capture->end(id, nullptr, 0);  // ended twice: the second is ignored
  ASSERT_EQ(sink.ranges.size(), 1u);
  EXPECT_NE(opener, ender);
  EXPECT_EQ(sink.ranges[0].tid, opener);
  EXPECT_EQ(sink.ranges[0].kind, MOEPROF_RANGE_START_END);
  EXPECT_EQ(sink.ranges[0].name, "load weights");
  capture->end(0x12345678u, nullptr, 0);  // never started: nothing
  EXPECT_EQ(sink.ranges.size(), 1u);
}

TEST_F(CaptureTest, MarksCarryScalarPayloadsAsJsonNumbers) {
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = "m";
  a.colorType = NVTX_COLOR_ARGB;
  a.color = 0x80123456;
  a.category = 9;
  char scratch[64];
  struct Case {
    int32_t type;
    void (*set)(nvtxEventAttributes_t&);
    const char* json;
  } cases[] = {
      {NVTX_PAYLOAD_TYPE_UNSIGNED_INT64, [](nvtxEventAttributes_t& e) { e.payload.ullValue = 18446744073709551615ull; },
       "18446744073709551615"},
      {NVTX_PAYLOAD_TYPE_INT64, [](nvtxEventAttributes_t& e) { e.payload.llValue = -9; }, "-9"},
      {NVTX_PAYLOAD_TYPE_DOUBLE, [](nvtxEventAttributes_t& e) { e.payload.dValue = 0.5; }, "0.5"},
      {NVTX_PAYLOAD_TYPE_UNSIGNED_INT32, [](nvtxEventAttributes_t& e) { e.payload.uiValue = 4000000000u; },
       "4000000000"},
      {NVTX_PAYLOAD_TYPE_INT32, [](nvtxEventAttributes_t& e) { e.payload.iValue = -7; }, "-7"},
      {NVTX_PAYLOAD_TYPE_FLOAT, [](nvtxEventAttributes_t& e) { e.payload.fValue = 2.5f; }, "2.5"},
  };
  for (const Case& c : cases) {
    a.payloadType = c.type;
    c.set(a);
    capture->mark(plain(), view_of(&a, scratch, sizeof scratch));
    ASSERT_FALSE(sink.ranges.empty());
    const auto& r = sink.ranges.back();
    EXPECT_EQ(r.payload, c.json) << c.type;
    EXPECT_EQ(r.kind, MOEPROF_RANGE_MARK);
    EXPECT_EQ(r.start_ns, r.end_ns);
    EXPECT_EQ(r.color, 0x80123456u);
    EXPECT_EQ(r.category, 9u);
  }
  // No payload: none recorded (not an empty string).
  a.payloadType = NVTX_PAYLOAD_UNKNOWN;
  capture->mark(plain(), view_of(&a, scratch, sizeof scratch));
  EXPECT_FALSE(sink.ranges.back().has_payload);
}

TEST_F(CaptureTest, ShortAttributeStructsReadOnlyTheirFields) {
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.category = 4;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = "beyond the struct";
  a.size = offsetof(nvtxEventAttributes_t, color);  // ends before color: only category read
  char scratch[64];
  const EventView v = view_of(&a, scratch, sizeof scratch);
  EXPECT_EQ(v.category, 4u);
  EXPECT_TRUE(v.name.empty());
  EXPECT_TRUE(view_of(nullptr, scratch, sizeof scratch).name.empty());
}

TEST_F(CaptureTest, CategoryNamesAreRecordedForTheirDomain) {
  const Domain* d = capture->domains().create("engine");
  capture->name_category(d, 7, "attention");
  ASSERT_EQ(sink.ranges.size(), 1u);
  EXPECT_EQ(sink.ranges[0].kind, MOEPROF_RANGE_CATEGORY_NAME);
  EXPECT_EQ(sink.ranges[0].category, 7u);
  EXPECT_EQ(sink.ranges[0].name, "attention");
  EXPECT_EQ(sink.ranges[0].domain, "engine");
}

TEST_F(CaptureTest, MoeprofDomainEventsBecomeMoeRecords) {
  const Domain* moe = capture->domains().create(MOEPROF_NVTX_DOMAIN);
  const uint32_t counts[3] = {4, 0, 7};
  const moeprof_nvtx_expert_counts c{2, 3, counts};
  const nvtxPayloadData_t cd{MOEPROF_NVTX_SCHEMA_EXPERT_COUNTS, sizeof c, &c};
  capture->mark(moe, with_payloads("expert counts", &cd, 1));
  ASSERT_EQ(sink.counts.size(), 1u);
  EXPECT_EQ(sink.counts[0].layer, 2);
  EXPECT_EQ(sink.counts[0].counts, std::vector<uint32_t>(counts, counts + 3));

  const int32_t ids[4] = {1, 2, 0, 2};
  const float weights[4] = {0.5f, 0.5f, 0.9f, 0.1f};
  const moeprof_nvtx_router_decisions r{2, 64, 2, 2, 4, 0, ids, weights};
  const nvtxPayloadData_t rd{MOEPROF_NVTX_SCHEMA_ROUTER_DECISIONS, sizeof r, &r};
  capture->mark(moe, with_payloads("router decisions", &rd, 1));
  ASSERT_EQ(sink.routing.size(), 1u);
  EXPECT_EQ(sink.routing[0].token_offset, 64u);
  EXPECT_EQ(sink.routing[0].ids, std::vector<int32_t>(ids, ids + 4));
  EXPECT_EQ(sink.routing[0].weights, std::vector<float>(weights, weights + 4));

  const int32_t peers[2] = {3, 5};
  uint64_t send[2] = {10, 20};
  uint64_t recv[2] = {30, 40};
  const moeprof_nvtx_all_to_all a{2, MOEPROF_NVTX_PHASE_DISPATCH, 2, 0, peers, send, recv};
  const nvtxPayloadData_t ad{MOEPROF_NVTX_SCHEMA_ALL_TO_ALL, sizeof a, &a};
  capture->push(moe, with_payloads("all-to-all", &ad, 1));
  send[0] = recv[0] = 999;  // the arrays are read when the range opens
  capture->pop(moe, nullptr, 0);
  ASSERT_EQ(sink.all_to_alls.size(), 1u);
  const auto& e = sink.all_to_alls[0];
  EXPECT_EQ(e.layer, 2);
  EXPECT_EQ(e.phase, MOEPROF_PHASE_DISPATCH);
  EXPECT_EQ(e.peers, (std::vector<int32_t>{3, 5}));
  EXPECT_EQ(e.send, (std::vector<uint64_t>{10, 20}));
  EXPECT_EQ(e.recv, (std::vector<uint64_t>{30, 40}));
  EXPECT_LT(e.start_ns, e.end_ns);
  EXPECT_TRUE(sink.ranges.empty());  // MoE events are not also ranges
  EXPECT_EQ(sink.dropped, 0u);
}

TEST_F(CaptureTest, MalformedMoeprofPayloadsAreCountedAsDrops) {
  const Domain* moe = capture->domains().create(MOEPROF_NVTX_DOMAIN);
  const moeprof_nvtx_expert_counts no_counts{0, 4, nullptr};
  const nvtxPayloadData_t a{MOEPROF_NVTX_SCHEMA_EXPERT_COUNTS, sizeof no_counts, &no_counts};
  capture->mark(moe, with_payloads("", &a, 1));
  const int32_t ids[2] = {0, 1};
  const moeprof_nvtx_router_decisions wrong_length{0, 0, 2, 2, 2, 0, ids, nullptr};  // 2 x 2 != 2
  const nvtxPayloadData_t b{MOEPROF_NVTX_SCHEMA_ROUTER_DECISIONS, sizeof wrong_length, &wrong_length};
  capture->mark(moe, with_payloads("", &b, 1));
  const nvtxPayloadData_t short_payload{MOEPROF_NVTX_SCHEMA_EXPERT_COUNTS, 4, &no_counts};
  capture->mark(moe, with_payloads("", &short_payload, 1));
  EXPECT_EQ(sink.dropped, 3u);
  EXPECT_TRUE(sink.counts.empty());
  EXPECT_TRUE(sink.routing.empty());
  EXPECT_TRUE(sink.ranges.empty());
}

TEST_F(CaptureTest, EngineReportedAllToAllIsNotCountedTwice) {
  const Domain* moe = capture->domains().create(MOEPROF_NVTX_DOMAIN);
  const uint64_t bytes[1] = {8};
  const moeprof_nvtx_all_to_all a{0, 0, 1, 0, nullptr, bytes, bytes};
  const nvtxPayloadData_t ad{MOEPROF_NVTX_SCHEMA_ALL_TO_ALL, sizeof a, &a};
  sink.engine_all_to_all = true;
  capture->push(moe, with_payloads("all-to-all", &ad, 1));
  capture->pop(moe, nullptr, 0);
  EXPECT_TRUE(sink.all_to_alls.empty());
  ASSERT_EQ(sink.ranges.size(), 1u);  // kept as a plain range
}

// NCCL 2.28's schemas, with its entry names.
struct CommInit {
  uint64_t comm;
  int nranks, rank, device;
};
struct AlltoAll {
  uint64_t comm;
  size_t bytes;
};

void register_nccl(NvtxCapture& capture, const Domain* nccl) {
  static const nvtxPayloadSchemaEntry_t init[] = {
      {0, NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "NCCL communicator ID", nullptr, 0, offsetof(CommInit, comm), nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_INT, "No. of ranks", nullptr, 0, offsetof(CommInit, nranks), nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_INT, "Rank", nullptr, 0, offsetof(CommInit, rank), nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_INT, "CUDA device", nullptr, 0, offsetof(CommInit, device), nullptr, nullptr}};
  static const nvtxPayloadSchemaEntry_t a2a[] = {
      {0, NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "NCCL communicator ID", nullptr, 0, 0, nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_SIZE, "Message size [bytes]", nullptr, 0, 8, nullptr, nullptr}};
  nvtxPayloadSchemaAttr_t attr{};
  attr.fieldMask = NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_ENTRIES | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NUM_ENTRIES |
                   NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_SCHEMA_ID;
  attr.entries = init;
  attr.numEntries = 4;
  attr.schemaId = NVTX_PAYLOAD_SCHEMA_ID_STATIC_START;
  ASSERT_EQ(capture.schemas().register_schema(nccl, &attr), NVTX_PAYLOAD_SCHEMA_ID_STATIC_START);
  attr.entries = a2a;
  attr.numEntries = 2;
  attr.schemaId = NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 30;
  ASSERT_EQ(capture.schemas().register_schema(nccl, &attr), NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 30);
}

TEST_F(CaptureTest, NcclAlltoAllRangeBecomesAnAllToAllOverItsCommunicator) {
  const Domain* nccl = capture->domains().create("NCCL");
  register_nccl(*capture, nccl);
  const CommInit shape{77, 8, 3, 0};
  const nvtxPayloadData_t init{NVTX_PAYLOAD_SCHEMA_ID_STATIC_START, sizeof shape, &shape};
  capture->push(nccl, named("ncclCommInitRank"));
  capture->pop(nccl, &init, 1);  // NCCL adds the payload when the communicator exists
  const AlltoAll call{77, 4096};
  const nvtxPayloadData_t data{NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 30, sizeof call, &call};
  capture->push(nccl, with_payloads("ncclAlltoAll", &data, 1));
  capture->pop(nccl, nullptr, 0);
  ASSERT_EQ(sink.all_to_alls.size(), 1u);
  const auto& a = sink.all_to_alls[0];
  EXPECT_EQ(a.layer, -1);
  EXPECT_EQ(a.phase, MOEPROF_PHASE_OTHER);
  EXPECT_EQ(a.peers, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(a.send, std::vector<uint64_t>(8, 4096));
  EXPECT_EQ(a.recv, std::vector<uint64_t>(8, 4096));
  ASSERT_EQ(sink.ranges.size(), 2u);  // both stay ranges of the NCCL domain
  EXPECT_EQ(sink.ranges[1].name, "ncclAlltoAll");
  EXPECT_EQ(sink.ranges[1].start_ns, a.start_ns);
  EXPECT_EQ(sink.ranges[1].end_ns, a.end_ns);
  EXPECT_EQ(sink.ranges[0].payload,
            "{\"NCCL communicator ID\":77,\"No. of ranks\":8,\"Rank\":3,\"CUDA device\":0}");

  // A communicator never seen: an all-to-all without peers.
  const AlltoAll unknown{78, 16};
  const nvtxPayloadData_t unknown_data{NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 30, sizeof unknown, &unknown};
  capture->push(nccl, with_payloads("ncclAlltoAll", &unknown_data, 1));
  capture->pop(nccl, nullptr, 0);
  ASSERT_EQ(sink.all_to_alls.size(), 2u);
  EXPECT_FALSE(sink.all_to_alls[1].has_bytes);
}

TEST_F(CaptureTest, NcclAlltoAllStaysARangeWhenTheNcclPluginRecordsTransfers) {
  const char* env[][2] = {{"NCCL_PROFILER_PLUGIN", "/opt/moeprof/lib/libmoeprof_nccl.so"}};
  static const char* (*lookup)[2] = env;
  settings = capture_settings_from(
      [](const char* name) -> const char* { return std::strcmp(name, lookup[0][0]) == 0 ? lookup[0][1] : nullptr; },
      nullptr);
  EXPECT_FALSE(settings.nccl_all_to_all);
  remake();
  const Domain* nccl = capture->domains().create("NCCL");
  register_nccl(*capture, nccl);
  const AlltoAll call{77, 4096};
  const nvtxPayloadData_t data{NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 30, sizeof call, &call};
  capture->push(nccl, with_payloads("ncclAlltoAll", &data, 1));
  capture->pop(nccl, nullptr, 0);
  EXPECT_TRUE(sink.all_to_alls.empty());
  EXPECT_EQ(sink.ranges.size(), 1u);
}

TEST_F(CaptureTest, OpeningAndClosingPayloadsAreKeptTogether) {
  const Domain* d = capture->domains().create("d");
  const int64_t begin = 5, end = 6;
  const nvtxPayloadData_t b{NVTX_PAYLOAD_ENTRY_TYPE_INT64, sizeof begin, &begin};
  const nvtxPayloadData_t e{NVTX_PAYLOAD_ENTRY_TYPE_INT64, sizeof end, &end};
  capture->push(d, with_payloads("both", &b, 1));
  capture->pop(d, &e, 1);
  capture->push(d, named("closing only"));
  capture->pop(d, &e, 1);
  ASSERT_EQ(sink.ranges.size(), 2u);
  EXPECT_EQ(sink.ranges[0].payload, "[5,6]");
  EXPECT_EQ(sink.ranges[1].payload, "6");
}

TEST_F(CaptureTest, RangesBeyondTheirStorageAreDroppedAndCountedButPopsStayMatched) {
  settings.stack_bytes = 4096;
  settings.open_ranges = 2;
  remake();
  std::string long_name(1000, 'x');
  int pushed = 0;
  for (int i = 0; i < 8; ++i) pushed = capture->push(plain(), named(long_name.c_str()));
  EXPECT_EQ(pushed, 7);  // levels keep counting
  const uint64_t dropped_while_pushing = sink.dropped;
  EXPECT_GT(dropped_while_pushing, 0u);
  for (int i = 7; i >= 0; --i) EXPECT_EQ(capture->pop(plain(), nullptr, 0), i);
  EXPECT_EQ(sink.ranges.size() + dropped_while_pushing, 8u);

  const uint64_t a = capture->start(plain(), named("a"));
  const uint64_t b = capture->start(plain(), named("b"));
  EXPECT_NE(a, 0u);
  EXPECT_NE(b, 0u);
  EXPECT_EQ(capture->start(plain(), named("c")), 0u);  // the pool is full
  EXPECT_EQ(sink.dropped, dropped_while_pushing + 1);
  capture->end(a, nullptr, 0);
  EXPECT_NE(capture->start(plain(), named("d")), 0u);  // a's slot is free again
}

TEST(CaptureSettingsTest, ReadsSizesAndRejectsMalformedValues) {
  static std::map<std::string, std::string> env;
  const GetEnv get = [](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  env = {{"MOEPROF_NVTX_STACK_KB", "128"}, {"MOEPROF_NVTX_OPEN_RANGES", "64"}};
  std::string warnings;
  CaptureSettings s = capture_settings_from(get, &warnings);
  EXPECT_EQ(s.stack_bytes, 128u * 1024);
  EXPECT_EQ(s.open_ranges, 64u);
  EXPECT_TRUE(s.nccl_all_to_all);
  EXPECT_TRUE(warnings.empty());
  env = {{"MOEPROF_NVTX_STACK_KB", "-3"}, {"MOEPROF_NVTX_OPEN_RANGES", "12abc"}};
  s = capture_settings_from(get, &warnings);
  EXPECT_EQ(s.stack_bytes, CaptureSettings{}.stack_bytes);
  EXPECT_EQ(s.open_ranges, CaptureSettings{}.open_ranges);
  EXPECT_NE(warnings.find("MOEPROF_NVTX_STACK_KB='-3'"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("MOEPROF_NVTX_OPEN_RANGES='12abc'"), std::string::npos) << warnings;
}

}  // namespace
}  // namespace moeprof::nvtx

// StreamDecoder: agent streams built with the wire FrameWriter land in a real trace (read
// back with store::Reader), however the bytes are split; broken streams are rejected,
// counted and logged without touching what came before.
#include "moeprof/ingest/stream_decoder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>

#include "fake_agent.h"
#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "temp_dir.h"
#include "trace_dump.h"

namespace moeprof::ingest {
namespace {

using testing::StreamBuilder;
using wire::Bytes;
using wire::ByteSpan;

const store::ModelShape kModel{"tiny-moe", 3, 8, 2, 1, 64};

// A trace being written, with the collector-side context and its log.
struct Sink {
  explicit Sink(const std::string& db) : path(db) {
    std::string error;
    writer = store::Writer::create(path, &error);
    if (!writer) ADD_FAILURE() << error;
    context = std::make_unique<IngestContext>(*writer, [this](const std::string& line) { log.push_back(line); });
  }
  // Finalises the trace and opens it for reading.
  std::unique_ptr<store::Reader> close() {
    std::string error;
    store::RunInfo run;
    run.command = "test";
    run.exit_code = 0;
    EXPECT_TRUE(writer->finalize(run, &error)) << error;
    writer.reset();
    auto reader = store::Reader::open(path, &error);
    EXPECT_TRUE(reader) << error;
    return reader;
  }
  std::string path;
  std::unique_ptr<store::Writer> writer;
  std::unique_ptr<IngestContext> context;
  std::vector<std::string> log;
};

// One stream with every record type; frame 0 holds only Hello.
Bytes full_stream() {
  StreamBuilder s;
  s.hello(4242, 7, "node1",
          std::string("train\0--steps\0"
                      "3",
                      15),
          1000)
      .end_frame();
  s.topology(2, 1, 4, kModel);
  s.placement(0, {{0, 0}, {1, 1}, {0, 2}});
  s.step_mark(true, 5, 2000);
  s.counts(5, 0, {1, 2, 3, 4, 5, 6, 7, 8}, 2100);
  s.counts(5, 0, {8, 0, 0, 0, 0, 0, 0, 1}, 2150);
  s.routing(5, 1, 16, 2, {0, 1, 2, 3, 7, 6}, {0.5f, 0.5f, 0.875f, 0.125f, 0.75f, 0.25f}, 2200);
  s.all_to_all(5, 0, wire::Phase::kDispatch, 2300, 2400, {{0, 100, 50}, {1, 200, 60}, {3, 0, 70}}, 11);
  s.compute(5, 0, wire::ComputeKind::kExpert, 2400, 2500, "ffn", 11);
  s.compute(5, 1, wire::ComputeKind::kGate, 2500, 2550, "", 12);
  s.marker(5, 2600, "checkpoint", 12);
  s.drops(wire::Source::kApi, wire::DropReason::kRingFull, 3);
  s.end_frame();
  s.drops(wire::Source::kApi, wire::DropReason::kRingFull, 2);
  s.step_mark(false, 5, 2700);
  s.goodbye(2800);
  return s.bytes();
}

TEST(StreamDecoder, EveryRecordTypeLandsInTheTrace) {
  testing::TempDir dir;
  Sink sink(dir.file("t.db"));
  StreamDecoder decoder(*sink.context, "test stream");
  ASSERT_TRUE(decoder.feed(full_stream()));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  decoder.finish();
  EXPECT_TRUE(decoder.said_goodbye());
  const IngestTotals totals = sink.context->totals;
  auto reader = sink.close();
  ASSERT_TRUE(reader);
  EXPECT_TRUE(sink.log.empty());

  const auto processes = reader->processes();
  ASSERT_EQ(processes.size(), 1u);
  const store::ProcessInfo& p = processes[0];
  EXPECT_EQ(p.pid, 4242u);
  EXPECT_EQ(p.host, "node1");
  EXPECT_EQ(p.command, "train --steps 3");
  EXPECT_EQ(p.rank, 2);
  EXPECT_EQ(p.local_rank, 1);
  EXPECT_EQ(p.world_size, 4);
  EXPECT_EQ(p.ep_size, 4);
  EXPECT_EQ(p.monotonic_ns, 1000);
  EXPECT_EQ(p.end_ns, 2800);
  EXPECT_TRUE(p.clean_exit);

  ASSERT_TRUE(reader->model());
  EXPECT_EQ(*reader->model(), kModel);

  const auto placements = reader->placements();
  ASSERT_EQ(placements.size(), 1u);
  EXPECT_EQ(placements[0].rank, 2);
  EXPECT_EQ(placements[0].layer, 0);
  EXPECT_EQ(placements[0].slots, (std::vector<wire::PlacementSlot>{{0, 0}, {1, 1}, {0, 2}}));

  const auto steps = reader->steps();
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].rank, 2);
  EXPECT_EQ(steps[0].step, 5);
  EXPECT_EQ(steps[0].start_ns, 2000);
  EXPECT_EQ(steps[0].end_ns, 2700);

  std::vector<std::vector<uint32_t>> loads;
  reader->for_each_expert_load({}, [&](const store::ExpertLoad& l) {
    EXPECT_EQ(l.rank, 2);
    EXPECT_EQ(l.step, 5);
    EXPECT_EQ(l.layer, 0);
    loads.push_back(l.counts);
  });
  std::sort(loads.begin(), loads.end());
  EXPECT_EQ(loads, (std::vector<std::vector<uint32_t>>{{1, 2, 3, 4, 5, 6, 7, 8}, {8, 0, 0, 0, 0, 0, 0, 1}}));

  int batches = 0;
  reader->for_each_router_decisions({}, [&](const store::RouterDecisionBatch& b) {
    ++batches;
    EXPECT_EQ(b.rank, 2);
    EXPECT_EQ(b.step, 5);
    EXPECT_EQ(b.layer, 1);
    EXPECT_EQ(b.token_offset, 16u);
    EXPECT_EQ(b.routing.num_tokens, 3u);
    EXPECT_EQ(b.routing.top_k, 2u);
    EXPECT_EQ(b.routing.expert_ids, (std::vector<int32_t>{0, 1, 2, 3, 7, 6}));
    EXPECT_EQ(b.routing.gate_weights, (std::vector<float>{0.5f, 0.5f, 0.875f, 0.125f, 0.75f, 0.25f}));
  });
  EXPECT_EQ(batches, 1);

  int events = 0;
  reader->for_each_all_to_all({}, [&](const store::AllToAllEvent& e) {
    ++events;
    EXPECT_EQ(e.rank, 2);
    EXPECT_EQ(e.step, 5);
    EXPECT_EQ(e.layer, 0);
    EXPECT_EQ(e.phase, wire::Phase::kDispatch);
    EXPECT_EQ(e.source, wire::Source::kApi);
    EXPECT_EQ(e.tid, 11u);
    EXPECT_EQ(e.start_ns, 2300);
    EXPECT_EQ(e.end_ns, 2400);
    EXPECT_EQ(e.peers, (std::vector<wire::PeerBytes>{{0, 100, 50}, {1, 200, 60}, {3, 0, 70}}));
  });
  EXPECT_EQ(events, 1);

  std::vector<std::string> spans;
  reader->for_each_compute_span({}, [&](const store::ComputeSpan& s) {
    spans.push_back(std::to_string(s.rank) + "/" + std::to_string(s.layer) + "/" + std::to_string(int(s.kind)) + "/" +
                    std::to_string(s.tid) + "/" + std::to_string(s.start_ns) + "-" + std::to_string(s.end_ns) + "/" +
                    s.name);
  });
  std::sort(spans.begin(), spans.end());
  EXPECT_EQ(spans, (std::vector<std::string>{"2/0/1/11/2400-2500/ffn", "2/1/0/12/2500-2550/"}));

  const auto markers = reader->markers();
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(markers[0].rank, 2);
  EXPECT_EQ(markers[0].ts_ns, 2600);
  EXPECT_EQ(markers[0].tid, 12u);
  EXPECT_EQ(markers[0].name, "checkpoint");

  const auto drops = reader->drops();
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].process_id, p.id);
  EXPECT_EQ(drops[0].rank, 2);
  EXPECT_EQ(drops[0].source, wire::Source::kApi);
  EXPECT_EQ(drops[0].reason, wire::DropReason::kRingFull);
  EXPECT_EQ(drops[0].count, 5u);

  EXPECT_EQ(totals.streams, 1u);
  EXPECT_EQ(totals.frames, 3u);
  EXPECT_EQ(totals.bad_frames, 0u);
  EXPECT_EQ(totals.agent_dropped, 5u);
  EXPECT_EQ(totals.records[uint8_t(wire::RecordType::kExpertCounts)], 2u);
  EXPECT_EQ(totals.record_total(), 15u);
}

// What capture adapters send (moeprof.h, API version 3): ranges with their payload, GPU
// kernels (a classified one is also a compute span), and the per-source Recorded counts.
TEST(StreamDecoder, CaptureSourceRecordsLandInTheTrace) {
  testing::TempDir dir;
  Sink sink(dir.file("t.db"));
  store::Range push;
  push.rank = 3;
  push.tid = 21;
  push.start_ns = 5000;
  push.end_ns = 5600;
  push.source = wire::Source::kNccl;
  push.domain = "NCCL";
  push.name = "AllReduce";
  push.category = 4;
  push.color = 0xff00ff00u;
  push.step = 9;
  push.payload = "{\"bytes\":1048576}";
  store::Range mark = push;
  mark.source = wire::Source::kNvtx;
  mark.domain = "";
  mark.name = "checkpoint";
  mark.kind = wire::RangeKind::kMark;
  mark.end_ns = mark.start_ns = 5700;
  mark.payload = "";
  store::GpuKernel expert;
  expert.rank = 3;
  expert.device = 1;
  expert.stream = 7;
  expert.correlation_id = 99;
  expert.start_ns = 6000;
  expert.end_ns = 6900;
  expert.name = "moe_grouped_gemm";
  expert.grid[0] = 132;
  expert.block[0] = 256;
  expert.step = 9;
  expert.launch_ns = 5900;
  expert.launch_tid = 21;
  expert.layer = 2;
  expert.compute_kind = static_cast<int32_t>(wire::ComputeKind::kExpert);
  store::GpuKernel copy = expert;
  copy.name = "memcpy_kernel";
  copy.compute_kind = -1;
  copy.layer = -1;
  copy.start_ns = 7000;
  copy.end_ns = 7100;

  StreamBuilder s;
  s.hello(77, 3, "node", std::string("app\0", 4)).topology(3, 0, 4, kModel);
  s.range(push).range(mark).gpu_kernel(expert).gpu_kernel(copy);
  s.recorded(wire::Source::kNccl, 1).recorded(wire::Source::kNvtx, 1).recorded(wire::Source::kCupti, 2).end_frame();
  s.recorded(wire::Source::kCupti, 5).goodbye(8000);
  StreamDecoder decoder(*sink.context, "test stream");
  ASSERT_TRUE(decoder.feed(s.bytes()));
  decoder.finish();
  auto reader = sink.close();
  ASSERT_TRUE(reader);
  EXPECT_TRUE(sink.log.empty());

  EXPECT_EQ(reader->ranges(), (std::vector<store::Range>{push, mark}));
  EXPECT_EQ(reader->gpu_kernels(), (std::vector<store::GpuKernel>{expert, copy}));
  std::vector<store::ComputeSpan> spans;
  reader->for_each_compute_span({}, [&](const store::ComputeSpan& span) { spans.push_back(span); });
  ASSERT_EQ(spans.size(), 1u);  // the classified kernel only
  EXPECT_EQ(spans[0], (store::ComputeSpan{3, 9, 2, wire::ComputeKind::kExpert, wire::Source::kCupti, 21, 6000, 6900,
                                          "moe_grouped_gemm"}));
  const auto recorded = reader->recorded();
  ASSERT_TRUE(recorded);
  const int64_t id = reader->processes().at(0).id;
  EXPECT_EQ(*recorded, (std::vector<store::RecordedCount>{{id, 3, wire::Source::kNccl, 1},
                                                          {id, 3, wire::Source::kNvtx, 1},
                                                          {id, 3, wire::Source::kCupti, 7}}));
}

TEST(StreamDecoder, MalformedCaptureRecordsBreakTheStream) {
  testing::TempDir dir;
  store::Range range;
  range.domain = "NCCL";
  range.name = "x";
  store::GpuKernel kernel;
  kernel.compute_kind = 9;  // no such kind
  const std::vector<std::pair<std::function<void(StreamBuilder&)>, std::string>> cases = {
      {[&](StreamBuilder& s) { s.range(range, 40); }, "overrun its record"},
      {[&](StreamBuilder& s) {
         store::Range bad = range;
         bad.kind = static_cast<wire::RangeKind>(7);
         s.range(bad);
       },
       "unknown kind 7"},
      {[&](StreamBuilder& s) { s.gpu_kernel(kernel); }, "unknown compute kind 9"},
  };
  int index = 0;
  for (const auto& [build, logged] : cases) {
    SCOPED_TRACE(logged);
    Sink sink(dir.file("bad" + std::to_string(index++) + ".db"));
    StreamBuilder s;
    s.hello(1, 0, "h", "c").end_frame();
    build(s);
    StreamDecoder decoder(*sink.context, "connection");
    EXPECT_FALSE(decoder.feed(s.bytes()));
    decoder.finish();
    ASSERT_EQ(sink.log.size(), 1u);
    EXPECT_NE(sink.log[0].find(logged), std::string::npos) << sink.log[0];
    auto reader = sink.close();
    ASSERT_TRUE(reader);
    EXPECT_TRUE(reader->ranges().empty());
    EXPECT_TRUE(reader->gpu_kernels().empty());
  }
}

TEST(StreamDecoder, HowTheBytesAreSplitChangesNothing) {
  testing::TempDir dir;
  const Bytes stream = full_stream();
  std::string whole_dump;
  {
    Sink sink(dir.file("whole.db"));
    StreamDecoder decoder(*sink.context, "whole");
    ASSERT_TRUE(decoder.feed(stream));
    decoder.finish();
    whole_dump = testing::dump_trace(*sink.close());
  }
  ASSERT_FALSE(whole_dump.empty());
  std::mt19937 random(7);
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{31}, size_t{32}, size_t{33}, size_t{0}}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    Sink sink(dir.file("split" + std::to_string(chunk) + ".db"));
    StreamDecoder decoder(*sink.context, "split");
    for (size_t at = 0; at < stream.size();) {
      // chunk 0: random sizes
      const size_t n = std::min(stream.size() - at, chunk != 0 ? chunk : 1 + random() % 97);
      ASSERT_TRUE(decoder.feed(ByteSpan(stream).subspan(at, n)));
      at += n;
    }
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
    decoder.finish();
    EXPECT_EQ(testing::dump_trace(*sink.close()), whole_dump);
  }
}

TEST(StreamDecoder, RankComesFromHelloUntilTopologyNamesIt) {
  testing::TempDir dir;
  Sink sink(dir.file("t.db"));
  StreamBuilder s;
  s.hello(10, 3, "h", "a");
  s.counts(0, 0, {1, 1}, 1100);
  s.topology(5, 0, 8, kModel);
  s.counts(1, 0, {2, 2}, 1200);
  s.goodbye(1300);
  StreamDecoder decoder(*sink.context, "s");
  ASSERT_TRUE(decoder.feed(s.bytes()));
  decoder.finish();
  auto reader = sink.close();
  std::vector<std::pair<int32_t, int64_t>> rank_step;
  reader->for_each_expert_load({}, [&](const store::ExpertLoad& l) { rank_step.emplace_back(l.rank, l.step); });
  std::sort(rank_step.begin(), rank_step.end(), [](auto a, auto b) { return a.second < b.second; });
  EXPECT_EQ(rank_step, (std::vector<std::pair<int32_t, int64_t>>{{3, 0}, {5, 1}}));
  EXPECT_EQ(reader->processes().at(0).rank, 5);
}

TEST(StreamDecoder, TheFirstProcessWithAModelShapeKeepsReportingIt) {
  // Rank 0 discovers its layers one at a time (the Python adapter builds fairscale layers
  // so); rank 1 reports a shape too, later: the trace keeps rank 0's last report.
  testing::TempDir dir;
  Sink sink(dir.file("t.db"));
  store::ModelShape one_layer = kModel, two_layers = kModel, other = kModel;
  one_layer.num_layers = 1;
  two_layers.num_layers = 2;
  other.num_layers = 9;
  StreamBuilder first, second;
  first.hello(10, 0, "h", "a");
  first.topology(0, 0, 2, one_layer);
  second.hello(11, 1, "h", "a");
  second.topology(1, 1, 2, other);
  first.topology(0, 0, 2, two_layers);
  first.goodbye(1300);
  second.goodbye(1300);
  StreamDecoder a(*sink.context, "a"), b(*sink.context, "b");
  ASSERT_TRUE(a.feed(first.bytes()));
  ASSERT_TRUE(b.feed(second.bytes()));
  a.finish();
  b.finish();
  auto reader = sink.close();
  ASSERT_TRUE(reader->model());
  EXPECT_EQ(*reader->model(), two_layers);
}

TEST(StreamDecoder, ExpertDropsLandBesideTheLoad) {
  testing::TempDir dir;
  Sink sink(dir.file("t.db"));
  StreamBuilder s;
  s.hello(10, 1, "h", "a");
  s.counts(4, 2, {9, 0, 7}, 1100);
  s.counts(4, 2, {3, 0, 1}, 1150, wire::RecordType::kExpertDrops);
  s.goodbye(1300);
  StreamDecoder decoder(*sink.context, "s");
  ASSERT_TRUE(decoder.feed(s.bytes()));
  decoder.finish();
  auto reader = sink.close();
  std::vector<store::ExpertLoad> loads, drops;
  reader->for_each_expert_load({}, [&](const store::ExpertLoad& l) { loads.push_back(l); });
  reader->for_each_expert_drops({}, [&](const store::ExpertLoad& d) { drops.push_back(d); });
  EXPECT_EQ(loads, (std::vector<store::ExpertLoad>{{1, 4, 2, {9, 0, 7}}}));
  EXPECT_EQ(drops, (std::vector<store::ExpertLoad>{{1, 4, 2, {3, 0, 1}}}));
}

TEST(StreamDecoder, StepsPairInEitherOrderAndUnfinishedOnesStillShow) {
  testing::TempDir dir;
  Sink sink(dir.file("t.db"));
  StreamBuilder s;
  s.hello(10, 0, "h", "a", 500);
  s.step_mark(false, 1, 1900);  // the end of step 1 arrives before its begin (another thread's ring)
  s.step_mark(true, 1, 1000);
  s.step_mark(true, 2, 2000);
  s.marker(2, 2500, "last event");
  // no end of step 2, no Goodbye: the process died inside step 2
  StreamDecoder decoder(*sink.context, "s");
  ASSERT_TRUE(decoder.feed(s.bytes()));
  decoder.finish();
  EXPECT_FALSE(decoder.said_goodbye());
  auto reader = sink.close();
  auto steps = reader->steps();
  std::sort(steps.begin(), steps.end(), [](auto& a, auto& b) { return a.step < b.step; });
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].start_ns, 1000);
  EXPECT_EQ(steps[0].end_ns, 1900);
  EXPECT_EQ(steps[1].start_ns, 2000);
  EXPECT_EQ(steps[1].end_ns, 2500);  // bounded by the stream's last event
  const auto process = reader->processes().at(0);
  EXPECT_FALSE(process.clean_exit);
  EXPECT_EQ(process.end_ns, 2500);
}

TEST(StreamDecoder, TheFirstReportedModelWins) {
  testing::TempDir dir;
  Sink sink(dir.file("t.db"));
  store::ModelShape other = kModel;
  other.name = "other";
  other.num_experts = 64;
  StreamBuilder a, b;
  a.hello(1, 0, "h", "a").topology(0, 0, 2, kModel).goodbye(2000);
  b.hello(2, 1, "h", "b").topology(1, 1, 2, other).goodbye(2000);
  StreamDecoder first(*sink.context, "a"), second(*sink.context, "b");
  ASSERT_TRUE(first.feed(a.bytes()));
  ASSERT_TRUE(second.feed(b.bytes()));
  first.finish();
  second.finish();
  auto reader = sink.close();
  ASSERT_TRUE(reader->model());
  EXPECT_EQ(*reader->model(), kModel);
  EXPECT_EQ(reader->processes().size(), 2u);
}

// ---- broken streams ---------------------------------------------------------------------

// frame 0: Hello, Topology, counts of step 0; frame 1: counts of step 1 + an all-to-all;
// frame 2: Goodbye. Cases break frame 1 (or the stream around it).
struct Frames {
  Bytes f0, f1, f2;
};

Frames good_frames() {
  Frames frames;
  StreamBuilder s;
  s.hello(77, 0, "h", "a").topology(0, 0, 1, kModel).counts(0, 0, std::vector<uint32_t>(8, 4), 1100).end_frame();
  frames.f0 = s.bytes();
  s.counts(1, 0, std::vector<uint32_t>(8, 5), 1200)
      .all_to_all(1, 0, wire::Phase::kCombine, 1200, 1300, {{0, 1, 1}})
      .end_frame();
  frames.f1 = Bytes(s.bytes().begin() + static_cast<std::ptrdiff_t>(frames.f0.size()), s.bytes().end());
  s.goodbye(1400).end_frame();
  frames.f2 =
      Bytes(s.bytes().begin() + static_cast<std::ptrdiff_t>(frames.f0.size() + frames.f1.size()), s.bytes().end());
  return frames;
}

wire::FrameHeader header_of(const Bytes& frame) {
  wire::FrameHeader h;
  std::memcpy(&h, frame.data(), sizeof h);
  return h;
}
void set_header(Bytes& frame, const wire::FrameHeader& h) { std::memcpy(frame.data(), &h, sizeof h); }

// A frame with sequence 1 holding `payload` as one record (checksum correct).
Bytes frame_with_payload(const Bytes& payload) {
  wire::FrameWriter w;
  w.begin(1);
  w.append_raw(payload.data(), payload.size(), {});
  const ByteSpan frame = w.finish();
  return Bytes(frame.begin(), frame.end());
}

struct BrokenCase {
  const char* name;
  std::function<void(Frames&)> breaks;
  const char* logged;        // part of the log line
  bool frame0_lands = true;  // the records of frame 0 are stored
};

const BrokenCase kBrokenCases[] = {
    {"bad magic", [](Frames& f) { f.f1[0] ^= 0xFF; }, "magic"},
    {"unsupported version",
     [](Frames& f) {
       auto h = header_of(f.f1);
       h.version = 99;
       set_header(f.f1, h);
     },
     "version"},
    {"bad checksum", [](Frames& f) { f.f1.back() ^= 0x01; }, "checksum"},
    {"oversized",
     [](Frames& f) {
       auto h = header_of(f.f1);
       h.payload_size = wire::kMaxPayloadSize + 1;
       set_header(f.f1, h);
     },
     "exceeds"},
    {"sequence gap",
     [](Frames& f) {
       auto h = header_of(f.f1);
       h.sequence = 5;
       set_header(f.f1, h);
     },
     "sequence"},
    {"record count mismatch",
     [](Frames& f) {
       auto h = header_of(f.f1);
       h.record_count += 1;
       set_header(f.f1, h);
     },
     "records"},
    {"unknown record type",
     [](Frames& f) {
       f.f1 = frame_with_payload({200, 1, 2, 3});
     },
     "unknown record type"},
    {"record overruns its frame",
     [](Frames& f) {
       wire::ExpertCounts c{};
       c.tag = static_cast<uint8_t>(wire::RecordType::kExpertCounts);
       c.var_size = 1000;  // but nothing follows
       Bytes payload(sizeof c);
       std::memcpy(payload.data(), &c, sizeof c);
       f.f1 = frame_with_payload(payload);
     },
     "overruns"},
    {"malformed counts",
     [](Frames& f) {
       wire::ExpertCounts c{};
       c.tag = static_cast<uint8_t>(wire::RecordType::kExpertCounts);
       c.var_size = 1;
       Bytes payload(sizeof c + 1);
       std::memcpy(payload.data(), &c, sizeof c);
       payload[sizeof c] = 0xFF;  // a varint that never ends
       f.f1 = frame_with_payload(payload);
     },
     "malformed expert counts"},
    {"second Hello",
     [](Frames& f) {
       StreamBuilder s;
       s.hello(77, 0, "h", "a").end_frame();
       const size_t first = s.bytes().size();
       s.hello(78, 0, "h", "again").end_frame();
       f.f1 = Bytes(s.bytes().begin() + static_cast<std::ptrdiff_t>(first), s.bytes().end());
     },
     "second Hello"},
    {"no Hello first",
     [](Frames& f) {
       StreamBuilder s;
       s.counts(0, 0, {1}, 1).end_frame();
       f.f0 = s.bytes();
     },
     "Hello", /*frame0_lands=*/false},
};

TEST(StreamDecoder, BrokenFramesAreRejectedCountedAndLogged) {
  testing::TempDir dir;
  int index = 0;
  for (const BrokenCase& c : kBrokenCases) {
    SCOPED_TRACE(c.name);
    Frames frames = good_frames();
    c.breaks(frames);
    Bytes stream = frames.f0;
    stream.insert(stream.end(), frames.f1.begin(), frames.f1.end());
    stream.insert(stream.end(), frames.f2.begin(), frames.f2.end());

    Sink sink(dir.file("broken" + std::to_string(index++) + ".db"));
    StreamDecoder decoder(*sink.context, "connection 1");
    EXPECT_FALSE(decoder.feed(stream));
    EXPECT_TRUE(decoder.failed());
    EXPECT_FALSE(decoder.feed(frames.f2)) << "a broken stream stays broken";
    decoder.finish();
    EXPECT_EQ(sink.context->totals.bad_frames, 1u);
    ASSERT_EQ(sink.log.size(), 1u);
    EXPECT_NE(sink.log[0].find(c.logged), std::string::npos) << sink.log[0];

    auto reader = sink.close();
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->check(), std::vector<std::string>{});
    const auto drops = reader->drops();
    ASSERT_EQ(drops.size(), 1u);
    EXPECT_EQ(drops[0].source, wire::Source::kAgent);
    EXPECT_EQ(drops[0].reason, wire::DropReason::kBadFrame);
    EXPECT_EQ(drops[0].count, 1u);
    // Frame 0 is stored, nothing of frame 1 or after it is.
    std::vector<int64_t> steps;
    reader->for_each_expert_load({}, [&](const store::ExpertLoad& l) { steps.push_back(l.step); });
    EXPECT_EQ(steps, c.frame0_lands ? std::vector<int64_t>{0} : std::vector<int64_t>{});
    EXPECT_EQ(reader->counts().all_to_all, 0);
    const auto processes = reader->processes();
    ASSERT_EQ(processes.size(), c.frame0_lands ? 1u : 0u);
    if (c.frame0_lands) {
      EXPECT_FALSE(processes[0].clean_exit);
    }
  }
}

TEST(StreamDecoder, AStreamThatEndsInsideAFrameCountsIt) {
  testing::TempDir dir;
  Frames frames = good_frames();
  Sink sink(dir.file("t.db"));
  StreamDecoder decoder(*sink.context, "connection 1");
  ASSERT_TRUE(decoder.feed(frames.f0));
  ASSERT_TRUE(decoder.feed(ByteSpan(frames.f1).first(frames.f1.size() - 3)));
  EXPECT_EQ(decoder.buffered_bytes(), frames.f1.size() - 3);
  decoder.finish();
  EXPECT_EQ(sink.context->totals.bad_frames, 1u);
  ASSERT_EQ(sink.log.size(), 1u);
  EXPECT_NE(sink.log[0].find("ended inside a frame"), std::string::npos);
  EXPECT_NE(sink.log[0].find("pid 77"), std::string::npos) << "names the process once Hello was seen";
  auto reader = sink.close();
  EXPECT_EQ(reader->counts().expert_load, 1);
  EXPECT_EQ(reader->counts().dropped, 1u);
}

}  // namespace
}  // namespace moeprof::ingest

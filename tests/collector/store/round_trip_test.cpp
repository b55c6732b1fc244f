// Every row type written and read back, whole and through filters (rank, layer, step range,
// time range). The expectation is computed here from the rows written: filtered with the
// documented semantics and sorted in the documented order.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>

#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "test_files.h"

namespace moeprof::store {
namespace {

using wire::ComputeKind;
using wire::Phase;
using wire::Source;

constexpr int kRanks = 2, kSteps = 4, kLayers = 2, kExperts = 8;

struct Trace {
  RunInfo run{"python train.py --moe", "node7", "0.1.0", "full", 1'700'000'000'000'000'000, 0, -1, false};
  ModelShape model{"toy", kLayers, kExperts, 2, 1, 32};
  std::vector<ProcessInfo> processes;
  std::vector<LayerPlacement> placements;
  std::vector<StepSpan> steps;
  std::vector<ExpertLoad> loads;
  std::vector<ExpertLoad> drops;  // tokens dropped over capacity
  std::vector<RouterDecisionBatch> routing;
  std::vector<AllToAllEvent> a2a;
  std::vector<ComputeSpan> spans;
  std::vector<Marker> markers;
  std::vector<Range> ranges;
  std::vector<GpuKernel> kernels;
};

// Deterministic, irregular rows; ranks written in reverse so that read order is the reader's doing.
Trace make_trace() {
  Trace t;
  for (int r = 0; r < kRanks; ++r) {
    ProcessInfo p;
    p.pid = 100 + r;
    p.ppid = 99;
    p.host = "node7";
    p.command = "python train.py";
    p.rank = r;
    p.local_rank = r;
    p.world_size = kRanks;
    p.ep_size = kRanks;
    p.realtime_ns = 1'700'000'000'000'000'000;
    p.monotonic_ns = 5000 + r;
    p.end_ns = 900'000;
    p.agent_version = 1;
    p.clean_exit = r == 0;
    t.processes.push_back(p);
  }
  for (int reporter = 0; reporter < kRanks; ++reporter)
    for (int layer = 0; layer < kLayers; ++layer) {
      LayerPlacement pl{reporter, layer, {}};
      for (int e = 0; e < kExperts; ++e) pl.slots.push_back({e, (e + layer) % kRanks});
      pl.slots.push_back({layer, 1});  // a replica
      t.placements.push_back(pl);
    }
  for (int step = 0; step < kSteps; ++step)
    for (int r = kRanks - 1; r >= 0; --r) {
      const int64_t base = 10'000 + step * 100'000;
      t.steps.push_back({r, step, base, base + 90'000});
      for (int layer = 0; layer < kLayers; ++layer) {
        const int64_t at = base + layer * 40'000 + r * 7;
        ExpertLoad load{r, step, layer, {}};
        for (int e = 0; e < kExperts; ++e) load.counts.push_back(static_cast<uint32_t>((e * 37 + step * 11 + r * 5 + layer) % 300));
        t.loads.push_back(load);
        if ((step + layer) % 3 == 0) {
          ExpertLoad dropped{r, step, layer, {}};
          for (uint32_t c : load.counts) dropped.counts.push_back(c > 250 ? c - 250 : 0);
          t.drops.push_back(dropped);
        }
        if (r == 1 && step == 2 && layer == 1) {  // a second micro-batch for the same key
          load.counts.assign(kExperts, 3);
          t.loads.push_back(load);
        }
        for (uint32_t offset : {0u, 3u}) {
          RouterDecisionBatch b{r, step, layer, offset, {}};
          b.routing.num_tokens = 3;
          b.routing.top_k = 2;
          for (int i = 0; i < 6; ++i) b.routing.expert_ids.push_back((i * 3 + step + r + static_cast<int>(offset)) % kExperts);
          if (offset == 0) b.routing.gate_weights = {0.7f, 0.3f, 0.6f, 0.4f, 0.5f, 0.5f};
          t.routing.push_back(b);
        }
        for (Phase phase : {Phase::kDispatch, Phase::kCombine}) {
          const int64_t start = at + (phase == Phase::kDispatch ? 1000 : 20'000);
          AllToAllEvent ev{r, step, layer, phase, Source::kMpi, 7, start, start + 5000 + r * 100, {}};
          for (int p = 0; p < kRanks; ++p)
            ev.peers.push_back({p, static_cast<uint64_t>(1000 * (p + 1) + step), static_cast<uint64_t>(2000 * (r + 1) + layer)});
          t.a2a.push_back(ev);
        }
        t.spans.push_back({r, step, layer, ComputeKind::kGate, Source::kApi, 7, at, at + 900, "gate"});
        t.spans.push_back({r, step, layer, ComputeKind::kExpert, Source::kApi, 7, at + 6000, at + 19'000, "experts"});
      }
      t.markers.push_back({r, step, 8, base + 50, Source::kApi, "step " + std::to_string(step)});
      Range range;
      range.rank = r;
      range.tid = 9;
      range.start_ns = base + 10;
      range.end_ns = base + 80'000;
      range.domain = step % 2 ? "" : "nccl";
      range.name = "fwd";
      range.category = 2;
      range.color = 0xff00ffu;
      range.step = step;
      range.kind = step % 3 == 0 ? wire::RangeKind::kMark : wire::RangeKind::kPushPop;
      if (range.kind == wire::RangeKind::kMark) range.end_ns = range.start_ns;
      range.payload = step % 2 ? "" : "{\"bytes\":" + std::to_string(step * 1024) + "}";
      t.ranges.push_back(range);
      GpuKernel k;
      k.rank = r;
      k.device = static_cast<uint32_t>(r);
      k.stream = 3;
      k.correlation_id = static_cast<uint32_t>(step);
      k.start_ns = base + 100;
      k.end_ns = base + 300;
      k.name = "moe_ffn";
      k.grid[0] = 128;
      k.block[0] = 256;
      k.block[2] = 1;
      k.step = step;
      k.launch_ns = base + 40;
      k.launch_tid = 9;
      k.layer = step % 2 ? -1 : 1;
      k.compute_kind = step % 2 ? -1 : static_cast<int32_t>(ComputeKind::kExpert);
      t.kernels.push_back(k);
    }
  // A long span starting early, and zero-length spans: edge cases of time filtering.
  t.spans.push_back({0, 0, 0, ComputeKind::kOther, Source::kApi, 7, 0, 500'000, "long"});
  t.spans.push_back({1, 1, 0, ComputeKind::kAttention, Source::kApi, 7, 150'000, 150'000, ""});
  t.spans.push_back({1, 2, 0, ComputeKind::kAttention, Source::kApi, 7, 250'000, 250'000, ""});
  return t;
}

void write(const Trace& t, Writer& w) {
  w.set_run(t.run);
  w.set_model(ModelShape{"an earlier report is replaced", 1, 1, 1, 0, 1});
  w.set_model(t.model);
  for (const auto& p : t.processes) ASSERT_EQ(w.add_process(p), static_cast<int64_t>(&p - t.processes.data()) + 1);
  for (const auto& p : t.placements) w.add_placement(p);
  for (const auto& s : t.steps) w.add_step(s);
  for (const auto& l : t.loads) w.add_expert_load(l);
  for (const auto& d : t.drops) w.add_expert_drops(d);
  for (const auto& b : t.routing) w.add_router_decisions(b);
  for (const auto& a : t.a2a) w.add_all_to_all(a);
  for (const auto& s : t.spans) w.add_compute_span(s);
  for (const auto& m : t.markers) w.add_marker(m);
  for (const auto& r : t.ranges) w.add_range(r);
  for (const auto& k : t.kernels) w.add_gpu_kernel(k);
}

// What a Filter keeps, by the documented semantics.
bool keep_rank(const Filter& f, int32_t rank) { return !f.rank || *f.rank == rank; }
bool keep_layer(const Filter& f, int32_t layer) { return !f.layer || *f.layer == layer; }
bool keep_step(const Filter& f, int64_t step) {
  return (!f.step_begin || step >= *f.step_begin) && (!f.step_end || step < *f.step_end);
}
// Spans overlapping [begin, end); a zero-length span when it lies inside.
bool keep_span(const Filter& f, int64_t start, int64_t end) {
  const int64_t b = f.time_begin_ns.value_or(INT64_MIN), e = f.time_end_ns.value_or(INT64_MAX);
  return start == end ? start >= b && start < e : start < e && end > b;
}

template <class T, class Keep, class Key>
std::vector<T> expect_rows(const std::vector<T>& rows, Keep keep, Key key) {
  std::vector<T> out;
  std::copy_if(rows.begin(), rows.end(), std::back_inserter(out), keep);
  std::stable_sort(out.begin(), out.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  return out;
}

auto routing_tuple(const RouterDecisionBatch& b) {
  return std::make_tuple(b.rank, b.step, b.layer, b.token_offset, b.routing.num_tokens, b.routing.top_k,
                         b.routing.expert_ids, b.routing.gate_weights);
}

class RoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    trace_ = make_trace();
    path_ = dir_.file("round_trip.db");
    std::string error;
    auto w = Writer::create(path_, &error);
    ASSERT_TRUE(w) << error;
    write(trace_, *w);
    RunInfo done = trace_.run;
    done.end_realtime_ns = trace_.run.start_realtime_ns + 1'000'000;
    done.exit_code = 0;
    ASSERT_TRUE(w->finalize(done, &error)) << error;
    reader_ = Reader::open(path_, &error);
    ASSERT_TRUE(reader_) << error;
  }

  void check_filter(const Filter& f) {
    SCOPED_TRACE(::testing::Message() << "rank " << f.rank.value_or(-9) << " layer " << f.layer.value_or(-9)
                                      << " steps [" << f.step_begin.value_or(-9) << ", " << f.step_end.value_or(-9)
                                      << ") time [" << f.time_begin_ns.value_or(-9) << ", "
                                      << f.time_end_ns.value_or(-9) << ")");
    const Trace& t = trace_;
    const auto keyed = [&](int32_t rank, int64_t step, int32_t layer) {
      return keep_rank(f, rank) && keep_step(f, step) && keep_layer(f, layer);
    };

    EXPECT_EQ(reader_->steps(f),
              expect_rows(
                  t.steps, [&](const StepSpan& s) { return keep_rank(f, s.rank) && keep_step(f, s.step) && keep_span(f, s.start_ns, s.end_ns); },
                  [](const StepSpan& s) { return std::tuple(s.rank, s.step); }));

    std::vector<ExpertLoad> loads;
    reader_->for_each_expert_load(f, [&](const ExpertLoad& l) { loads.push_back(l); });
    EXPECT_EQ(loads, expect_rows(
                         t.loads, [&](const ExpertLoad& l) { return keyed(l.rank, l.step, l.layer); },
                         [](const ExpertLoad& l) { return std::tuple(l.step, l.layer, l.rank); }));
    // The steps holding load: every layer's (the filter's layer is not looked at).
    std::set<int64_t> load_steps;
    for (const ExpertLoad& l : t.loads)
      if (keep_rank(f, l.rank) && keep_step(f, l.step)) load_steps.insert(l.step);
    EXPECT_EQ(reader_->expert_load_steps(f), std::vector<int64_t>(load_steps.begin(), load_steps.end()));

    std::vector<ExpertLoad> drops;
    reader_->for_each_expert_drops(f, [&](const ExpertLoad& d) { drops.push_back(d); });
    EXPECT_EQ(drops, expect_rows(
                         t.drops, [&](const ExpertLoad& d) { return keyed(d.rank, d.step, d.layer); },
                         [](const ExpertLoad& d) { return std::tuple(d.step, d.layer, d.rank); }));

    std::vector<RouterDecisionBatch> batches;
    reader_->for_each_router_decisions(f, [&](const RouterDecisionBatch& b) { batches.push_back(b); });
    const auto expected_batches = expect_rows(
        t.routing, [&](const RouterDecisionBatch& b) { return keyed(b.rank, b.step, b.layer); },
        [](const RouterDecisionBatch& b) { return std::tuple(b.step, b.layer, b.rank, b.token_offset); });
    ASSERT_EQ(batches.size(), expected_batches.size());
    for (size_t i = 0; i < batches.size(); ++i) EXPECT_EQ(routing_tuple(batches[i]), routing_tuple(expected_batches[i]));

    std::vector<AllToAllEvent> a2a;
    reader_->for_each_all_to_all(f, [&](const AllToAllEvent& e) { a2a.push_back(e); });
    EXPECT_EQ(a2a, expect_rows(
                       t.a2a,
                       [&](const AllToAllEvent& e) { return keyed(e.rank, e.step, e.layer) && keep_span(f, e.start_ns, e.end_ns); },
                       [](const AllToAllEvent& e) { return std::tuple(e.rank, e.start_ns); }));

    std::vector<ComputeSpan> spans;
    reader_->for_each_compute_span(f, [&](const ComputeSpan& s) { spans.push_back(s); });
    EXPECT_EQ(spans, expect_rows(
                         t.spans,
                         [&](const ComputeSpan& s) { return keyed(s.rank, s.step, s.layer) && keep_span(f, s.start_ns, s.end_ns); },
                         [](const ComputeSpan& s) { return std::tuple(s.rank, s.start_ns); }));

    EXPECT_EQ(reader_->markers(f),
              expect_rows(
                  t.markers,
                  [&](const Marker& m) { return keep_rank(f, m.rank) && keep_step(f, m.step) && keep_span(f, m.ts_ns, m.ts_ns); },
                  [](const Marker& m) { return std::tuple(m.rank, m.ts_ns); }));
    EXPECT_EQ(reader_->ranges(f), expect_rows(
                                      t.ranges,
                                      [&](const Range& r) {
                                        return keep_rank(f, r.rank) && keep_step(f, r.step) && keep_span(f, r.start_ns, r.end_ns);
                                      },
                                      [](const Range& r) { return std::tuple(r.rank, r.start_ns); }));
    EXPECT_EQ(reader_->gpu_kernels(f),
              expect_rows(
                  t.kernels,
                  [&](const GpuKernel& k) {
                    return keep_rank(f, k.rank) && keep_step(f, k.step) && keep_layer(f, k.layer) &&
                           keep_span(f, k.start_ns, k.end_ns);
                  },
                  [](const GpuKernel& k) { return std::tuple(k.rank, k.start_ns); }));
  }

  testing::TempDir dir_;
  std::string path_;
  Trace trace_;
  std::unique_ptr<Reader> reader_;
};

TEST_F(RoundTrip, MetadataRowsComeBackAsWritten) {
  RunInfo run = trace_.run;
  run.end_realtime_ns = run.start_realtime_ns + 1'000'000;
  run.exit_code = 0;
  run.finalized = true;
  EXPECT_EQ(reader_->run(), run);
  std::vector<ProcessInfo> processes = trace_.processes;
  for (size_t i = 0; i < processes.size(); ++i) processes[i].id = static_cast<int64_t>(i) + 1;
  EXPECT_EQ(reader_->processes(), processes);
  EXPECT_EQ(reader_->model(), trace_.model);  // the first report won
  EXPECT_EQ(reader_->placements(), trace_.placements);
  EXPECT_EQ(reader_->ranks(), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(reader_->step_range(), std::make_pair(int64_t{0}, int64_t{kSteps - 1}));
  EXPECT_TRUE(reader_->drops().empty());

  const TableCounts c = reader_->counts();
  EXPECT_EQ(c.processes, kRanks);
  EXPECT_EQ(c.steps, static_cast<int64_t>(trace_.steps.size()));
  EXPECT_EQ(c.expert_load, static_cast<int64_t>(trace_.loads.size()));
  EXPECT_EQ(c.expert_drops, static_cast<int64_t>(trace_.drops.size()));
  EXPECT_EQ(c.router_decisions, static_cast<int64_t>(trace_.routing.size()));
  EXPECT_EQ(c.all_to_all, static_cast<int64_t>(trace_.a2a.size()));
  EXPECT_EQ(c.compute_spans, static_cast<int64_t>(trace_.spans.size()));
  EXPECT_EQ(c.markers, static_cast<int64_t>(trace_.markers.size()));
  EXPECT_EQ(c.ranges, static_cast<int64_t>(trace_.ranges.size()));
  EXPECT_EQ(c.gpu_kernels, static_cast<int64_t>(trace_.kernels.size()));
  EXPECT_EQ(c.placements, static_cast<int64_t>(kRanks * kLayers * (kExperts + 1)));
  EXPECT_EQ(c.dropped, 0u);
  EXPECT_TRUE(reader_->check().empty());
}

TEST_F(RoundTrip, WholeTrace) { check_filter({}); }

TEST_F(RoundTrip, ByRank) {
  for (int32_t r = 0; r < kRanks; ++r) check_filter(Filter{.rank = r});
}

TEST_F(RoundTrip, ByLayer) {
  for (int32_t l = 0; l < kLayers; ++l) check_filter(Filter{.layer = l});
}

TEST_F(RoundTrip, ByStepRange) {
  check_filter(Filter{.step_begin = 1, .step_end = 3});
  check_filter(Filter{.step_begin = 2});
  check_filter(Filter{.step_end = 1});
  check_filter(Filter{.step_begin = 100});
}

TEST_F(RoundTrip, ByTimeRange) {
  check_filter(Filter{.time_begin_ns = 150'000, .time_end_ns = 260'000});  // the long span, zero-length ones
  check_filter(Filter{.time_begin_ns = 250'000, .time_end_ns = 250'001});
  check_filter(Filter{.time_begin_ns = 600'000});
  check_filter(Filter{.time_end_ns = 10'001});
}

TEST_F(RoundTrip, Combined) {
  check_filter(Filter{.rank = 1, .layer = 1, .step_begin = 1, .step_end = 4, .time_begin_ns = 200'000,
                      .time_end_ns = 400'000});
}

TEST_F(RoundTrip, MultipleRowsPerKeyArePreserved) {
  std::vector<ExpertLoad> rows;
  reader_->for_each_expert_load(Filter{.rank = 1, .layer = 1, .step_begin = 2, .step_end = 3},
                                [&](const ExpertLoad& l) { rows.push_back(l); });
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].counts, std::vector<uint32_t>(kExperts, 3));  // in write order
}

TEST_F(RoundTrip, StoresEntryCountsAndTokenAndByteTotalsNextToTheChunks) {
  uint64_t tokens = 0, send = 0, recv = 0;
  for (const auto& l : trace_.loads)
    for (uint32_t c : l.counts) tokens += c;
  for (const auto& e : trace_.a2a)
    for (const auto& p : e.peers) {
      send += p.send_bytes;
      recv += p.recv_bytes;
    }
  EXPECT_EQ(testing::raw_query(path_, "SELECT sum(tokens) FROM expert_load"), std::to_string(tokens));
  EXPECT_EQ(testing::raw_query(path_, "SELECT sum(send_bytes) FROM all_to_all"), std::to_string(send));
  EXPECT_EQ(testing::raw_query(path_, "SELECT sum(recv_bytes) FROM all_to_all"), std::to_string(recv));
  EXPECT_EQ(testing::raw_query(path_, "SELECT sum(entries) FROM expert_load"), std::to_string(trace_.loads.size()));
  EXPECT_EQ(testing::raw_query(path_, "SELECT sum(entries) FROM all_to_all"), std::to_string(trace_.a2a.size()));
}

TEST_F(RoundTrip, VisitorExceptionsPropagateAndLeaveTheReaderUsable) {
  struct Stop {};
  EXPECT_THROW(reader_->for_each_expert_load({}, [](const ExpertLoad&) { throw Stop{}; }), Stop);
  EXPECT_EQ(reader_->counts().expert_load, static_cast<int64_t>(trace_.loads.size()));
}

}  // namespace
}  // namespace moeprof::store

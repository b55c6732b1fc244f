// Window summaries: the codec of every kind, when the summariser closes windows, that
// summaries of rows add up to what the analysis computes from the same rows directly, and
// that the load matrix read from summaries equals the one read row by row.
#include "moeprof/analysis/window_summary.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <random>
#include <set>

#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/analysis/load_over_time.h"
#include "moeprof/analysis/window_summariser.h"
#include "../small_synth.h"
#include "moeprof/synth/synth.h"
#include "trace_fixture.h"

namespace moeprof::analysis {
namespace {

using store::SummaryKind;
using store::SummaryRow;
namespace codec = summary_codec;

TEST(WindowSummary, WindowOfRoundsDown) {
  EXPECT_EQ(window_of(0, 32), 0);
  EXPECT_EQ(window_of(31, 32), 0);
  EXPECT_EQ(window_of(32, 32), 1);
  EXPECT_EQ(window_of(-1, 32), -1);
  EXPECT_EQ(window_of(-32, 32), -1);
  EXPECT_EQ(window_of(-33, 32), -2);
}

// A small job: ranks x steps x layers of expert load (and drops every 5th step), a dispatch
// and a combine per layer, gate and expert compute between them, and step spans; every
// rank's clock runs on, with jitter, so that stragglers and overlap are not trivial.
struct Rows {
  std::vector<store::ExpertLoad> loads, drops;
  std::vector<store::AllToAllEvent> all_to_alls;
  std::vector<store::ComputeSpan> compute;
  std::vector<store::StepSpan> steps;
};

Rows make_rows(int32_t ranks, int64_t steps, int32_t layers, int32_t experts, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<uint32_t> count(0, 40), jitter(0, 30);
  Rows rows;
  std::vector<int64_t> clock(static_cast<size_t>(ranks), 1000);
  for (int64_t step = 0; step < steps; ++step)
    for (int32_t rank = 0; rank < ranks; ++rank) {
      int64_t& t = clock[static_cast<size_t>(rank)];
      const int64_t step_start = t;
      for (int32_t layer = 0; layer < layers; ++layer) {
        store::ExpertLoad load{rank, step, layer, {}};
        for (int32_t e = 0; e < experts; ++e) load.counts.push_back(e == layer ? 5 * count(rng) : count(rng));
        rows.loads.push_back(load);
        if (step % 5 == 0) rows.drops.push_back({rank, step, layer, std::vector<uint32_t>(experts, layer + 1)});
        rows.compute.push_back({rank, step, layer, wire::ComputeKind::kGate, wire::Source::kApi, 1, t, t + 20, "gate"});
        for (wire::Phase phase : {wire::Phase::kDispatch, wire::Phase::kCombine}) {
          t += 10 + jitter(rng);
          store::AllToAllEvent e{rank, step, layer, phase, wire::Source::kApi, 2, t, t + 40, {}};
          for (int32_t peer = 0; peer < ranks; ++peer) e.peers.push_back({peer, 100u + peer, 200u + peer});
          rows.all_to_alls.push_back(e);
          // Expert compute overlaps the dispatch's tail.
          if (phase == wire::Phase::kDispatch)
            rows.compute.push_back({rank, step, layer, wire::ComputeKind::kExpert, wire::Source::kApi, 1, t + 30, t + 70, ""});
          t += 80;
        }
      }
      rows.steps.push_back({rank, step, step_start, t});
      t += 5;
    }
  return rows;
}

// Feeds rows to a summariser step by step (ranks interleaved, as a collector sees them),
// taking completed windows every few steps; returns every row it made.
std::vector<SummaryRow> summarise(const Rows& rows, int64_t window_steps, std::vector<int64_t>* watermarks = nullptr) {
  auto summariser = make_window_summariser(window_steps);
  std::vector<SummaryRow> out;
  std::multimap<int64_t, std::function<void()>> by_step;  // the rows of each step, in order
  for (const auto& l : rows.loads) by_step.emplace(l.step, [&, l] { summariser->add_expert_load(l); });
  for (const auto& l : rows.drops) by_step.emplace(l.step, [&, l] { summariser->add_expert_drops(l); });
  for (const auto& e : rows.all_to_alls) by_step.emplace(e.step, [&, e] { summariser->add_all_to_all(e); });
  for (const auto& s : rows.compute) by_step.emplace(s.step, [&, s] { summariser->add_compute_span(s); });
  for (const auto& s : rows.steps) by_step.emplace(s.step, [&, s] { summariser->add_step(s); });
  int64_t last_step = -1;
  for (const auto& [step, add] : by_step) {
    if (step != last_step && step % 3 == 0) {
      const int64_t open = summariser->take(false, &out);
      if (watermarks) watermarks->push_back(open);
    }
    last_step = step;
    add();
  }
  EXPECT_EQ(summariser->take(true, &out), std::numeric_limits<int64_t>::max());
  return out;
}

TEST(WindowSummariser, SummariesAddUpToTheAnalysisOfTheRows) {
  const Rows rows = make_rows(3, 50, 4, 16, 7);
  std::vector<int64_t> watermarks;
  const std::vector<SummaryRow> summaries = summarise(rows, 8, &watermarks);

  ExpertLoadMatrix load, drops;
  CapacityCurve capacity;
  std::map<int32_t, CapacityCurve> layer_capacity;
  AllToAllStatsAccumulator all_to_all;
  std::map<int32_t, RankOverlap> overlap;
  Stragglers stragglers;
  VolumeMatrixAccumulator dispatch_volume(wire::Phase::kDispatch);
  std::set<std::tuple<SummaryKind, int32_t, int64_t>> seen;
  for (const SummaryRow& row : summaries) {
    EXPECT_TRUE(seen.insert({row.kind, row.rank, row.window}).second) << "one row per kind, rank and window";
    std::vector<LayerCounts> counts;
    WindowOverlap part;
    PeerVolume volume;
    switch (row.kind) {
      case SummaryKind::kExpertLoad:
      case SummaryKind::kExpertDrops:
        ASSERT_TRUE(codec::decode_counts(row.data, &counts));
        for (const LayerCounts& l : counts) (row.kind == SummaryKind::kExpertLoad ? load : drops).add(l.layer, l.counts);
        break;
      case SummaryKind::kCapacity:
        EXPECT_EQ(row.rank, -1);
        ASSERT_TRUE(codec::decode_capacity(row.data, &layer_capacity));
        break;
      case SummaryKind::kAllToAll:
        ASSERT_TRUE(codec::decode_all_to_all(row.data, &all_to_all));
        break;
      case SummaryKind::kOverlap:
        ASSERT_TRUE(codec::decode_overlap(row.data, &part));
        part.overlap.rank = row.rank;
        if (auto [it, inserted] = overlap.try_emplace(row.rank, part.overlap); !inserted) it->second.merge(part.overlap);
        break;
      case SummaryKind::kVolume:
        ASSERT_TRUE(codec::decode_volume(row.data, &volume));
        for (const auto& [key, bytes] : volume)
          dispatch_volume.add(row.rank, std::get<2>(key), std::get<1>(key), bytes);
        break;
      case SummaryKind::kStragglers:
        EXPECT_EQ(row.rank, -1);
        ASSERT_TRUE(codec::decode_stragglers(row.data, &stragglers));
        break;
    }
  }
  // 50 steps in windows of 8: 7 windows, every kind present in each but drops in the last
  // (steps 48 and 49 drop nothing).
  EXPECT_EQ(seen.size(), 7u * (3 * 5 + 2) - 3);

  ExpertLoadMatrix direct_load, direct_drops;
  CapacityCurve direct_capacity;
  for (const auto& l : rows.loads) {
    direct_load.add(l.layer, l.counts);
    direct_capacity.add_batch(l.counts);
  }
  for (const auto& l : rows.drops) direct_drops.add(l.layer, l.counts);
  EXPECT_EQ(load.tokens, direct_load.tokens);
  EXPECT_EQ(drops.tokens, direct_drops.tokens);
  for (const auto& [layer, curve] : layer_capacity) capacity.merge(curve);
  EXPECT_DOUBLE_EQ(capacity.assignments(), direct_capacity.assignments());
  for (double c : {0.5, 1.0, 1.25, 2.0, 3.0, 5.0})
    EXPECT_NEAR(capacity.dropped_at(c), direct_capacity.dropped_at(c), 1e-9 * direct_capacity.assignments()) << c;
  for (double f : {0.0, 0.01, 0.1, 0.3})
    EXPECT_DOUBLE_EQ(capacity.factor_for_drop_fraction(f), direct_capacity.factor_for_drop_fraction(f)) << f;

  EXPECT_EQ(all_to_all.finish(), all_to_all_stats(rows.all_to_alls));
  const VolumeMatrix direct_volume = volume_matrix(rows.all_to_alls, wire::Phase::kDispatch);
  EXPECT_EQ(dispatch_volume.finish().size, direct_volume.size);
  EXPECT_EQ(dispatch_volume.finish().bytes, direct_volume.bytes);
  std::vector<RankOverlap> merged;
  for (auto& [rank, r] : overlap) merged.push_back(r);
  const std::vector<RankOverlap> direct = compute_overlap(rows.all_to_alls, rows.compute, rows.steps);
  ASSERT_EQ(merged.size(), direct.size());
  for (size_t i = 0; i < direct.size(); ++i) {
    EXPECT_EQ(merged[i].rank, direct[i].rank);
    EXPECT_EQ(merged[i].total, direct[i].total);
    ASSERT_EQ(merged[i].layers.size(), direct[i].layers.size());
    for (size_t l = 0; l < direct[i].layers.size(); ++l) {
      EXPECT_EQ(merged[i].layers[l].layer, direct[i].layers[l].layer);
      EXPECT_EQ(merged[i].layers[l].stats, direct[i].layers[l].stats);
    }
  }
  EXPECT_GT(direct.front().total.overlapped_ns, 0);  // the test means something
  const Stragglers direct_stragglers = find_stragglers(rows.all_to_alls);
  EXPECT_GT(direct_stragglers.instances, 0);
  EXPECT_EQ(stragglers, direct_stragglers);

  // While rows came in, the lowest open window only moved forward (after the first take,
  // before any row: nothing open).
  ASSERT_GT(watermarks.size(), 2u);
  EXPECT_EQ(watermarks.front(), std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(std::is_sorted(watermarks.begin() + 1, watermarks.end()));
  EXPECT_LT(watermarks.back(), 6);
}

TEST(WindowSummariser, ClosesARankWindowTwoWindowsLaterAndTakesLateRowsAsASecondRow) {
  auto summariser = make_window_summariser(4);
  std::vector<SummaryRow> out;
  const auto load = [&](int32_t rank, int64_t step) { summariser->add_expert_load({rank, step, 0, {1, 2, 3}}); };
  for (int64_t step = 0; step < 8; ++step) load(0, step);  // windows 0 and 1
  EXPECT_EQ(summariser->take(false, &out), 0);
  EXPECT_TRUE(out.empty());
  load(0, 8);  // window 2: window 0 of rank 0 (the only rank) is complete
  EXPECT_EQ(summariser->take(false, &out), 1);
  ASSERT_EQ(out.size(), 2u);  // its expert load and the capacity of all ranks
  EXPECT_EQ(out[0].kind, SummaryKind::kExpertLoad);
  EXPECT_EQ(out[0].rank, 0);
  EXPECT_EQ(out[0].window, 0);
  EXPECT_EQ(out[1].kind, SummaryKind::kCapacity);
  EXPECT_EQ(out[1].window, 0);

  out.clear();
  load(1, 2);  // a new rank, late in window 0: window 0 is open again
  EXPECT_EQ(summariser->take(false, &out), 0);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(summariser->take(true, &out), std::numeric_limits<int64_t>::max());
  std::vector<LayerCounts> late;
  for (const SummaryRow& r : out) {
    if (r.kind == SummaryKind::kExpertLoad && r.window == 0) {
      ASSERT_TRUE(codec::decode_counts(r.data, &late));
    }
  }
  ASSERT_EQ(late.size(), 1u);  // rank 1's one entry
  EXPECT_EQ(late[0].counts, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(WindowSummariser, ARankThatStopsDoesNotHoldEveryWindowOpen) {
  auto summariser = make_window_summariser(1);
  std::vector<SummaryRow> out;
  summariser->add_expert_load({0, 0, 0, {1}});  // rank 0 stops after step 0
  for (int64_t step = 0; step < 3 * kMaxOpenWindows; ++step) summariser->add_expert_load({1, step, 0, {1}});
  summariser->take(false, &out);
  std::set<int64_t> capacity_windows;
  for (const SummaryRow& r : out)
    if (r.kind == SummaryKind::kCapacity) capacity_windows.insert(r.window);
  // At most kMaxOpenWindows windows of all ranks stay open.
  EXPECT_GE(static_cast<int64_t>(capacity_windows.size()), 3 * kMaxOpenWindows - kMaxOpenWindows);
}

TEST(SummaryCodec, RoundTripsEveryKind) {
  const std::vector<LayerCounts> counts{{0, {1, 0, 300, uint64_t{1} << 40}}, {-1, {}}, {60, {7}}};
  std::vector<LayerCounts> counts_back;
  ASSERT_TRUE(codec::decode_counts(codec::encode_counts(counts), &counts_back));
  EXPECT_EQ(counts_back, counts);

  std::map<int32_t, CapacityCurve> curves;
  curves[3].add_batch(std::vector<uint32_t>{100, 3, 0, 1, 40});
  curves[5].add_batch(std::vector<uint32_t>{1, 1, 1, 1000});
  std::map<int32_t, CapacityCurve> curves_back;
  ASSERT_TRUE(codec::decode_capacity(codec::encode_capacity(curves), &curves_back));
  ASSERT_EQ(curves_back.size(), 2u);
  for (const auto& [layer, curve] : curves) {
    EXPECT_DOUBLE_EQ(curves_back[layer].assignments(), curve.assignments());
    for (double f : {0.0, 0.05, 0.2}) EXPECT_DOUBLE_EQ(curves_back[layer].factor_for_drop_fraction(f), curve.factor_for_drop_fraction(f));
  }

  const std::vector<AllToAllStats> stats{{2, wire::Phase::kCombine, 8, 1234, 5000, 4000}, {7, wire::Phase::kDispatch, 1, 0, 0, 0}};
  AllToAllStatsAccumulator stats_back;
  ASSERT_TRUE(codec::decode_all_to_all(codec::encode_all_to_all(stats), &stats_back));
  EXPECT_EQ(stats_back.finish(), (std::vector<AllToAllStats>{stats[0], stats[1]}));

  WindowOverlap overlap;
  overlap.first_start_ns = -5;
  overlap.last_end_ns = 1'000'000'000'000;
  overlap.overlap.total = {100, 80, 30, 70, 500};
  overlap.overlap.layers = {{0, {60, 40, 20, 40, 500}}, {3, {40, 40, 10, 30, 500}}};
  WindowOverlap overlap_back;
  ASSERT_TRUE(codec::decode_overlap(codec::encode_overlap(overlap), &overlap_back));
  EXPECT_EQ(overlap_back.first_start_ns, overlap.first_start_ns);
  EXPECT_EQ(overlap_back.last_end_ns, overlap.last_end_ns);
  EXPECT_EQ(overlap_back.overlap.total, overlap.overlap.total);
  ASSERT_EQ(overlap_back.overlap.layers.size(), 2u);
  EXPECT_EQ(overlap_back.overlap.layers[1].layer, 3);
  EXPECT_EQ(overlap_back.overlap.layers[1].stats, overlap.overlap.layers[1].stats);

  const PeerVolume volume{{{0, wire::Phase::kDispatch, 3}, 1000}, {{-1, wire::Phase::kCombine, 0}, 0}};
  PeerVolume volume_back;
  ASSERT_TRUE(codec::decode_volume(codec::encode_volume(volume), &volume_back));
  EXPECT_EQ(volume_back, volume);

  const Stragglers stragglers{5, {{0, 5, 1, 10}, {2, 5, 4, 300}}};
  Stragglers stragglers_back;
  ASSERT_TRUE(codec::decode_stragglers(codec::encode_stragglers(stragglers), &stragglers_back));
  EXPECT_EQ(stragglers_back, stragglers);
}

TEST(SummaryCodec, RejectsCutAndMalformedData) {
  const auto cut = [](wire::Bytes data) {
    data.pop_back();
    return data;
  };
  std::vector<LayerCounts> counts;
  EXPECT_FALSE(codec::decode_counts(cut(codec::encode_counts({{1, {5, 6, 7}}})), &counts));
  EXPECT_FALSE(codec::decode_counts(wire::Bytes{0x02, 0xff, 0xff, 0xff, 0xff, 0x0f}, &counts));  // 2^32 experts
  std::map<int32_t, CapacityCurve> curves;
  curves[0].add_batch(std::vector<uint32_t>{4, 0});
  std::map<int32_t, CapacityCurve> curves_back;
  EXPECT_FALSE(codec::decode_capacity(cut(codec::encode_capacity(curves)), &curves_back));
  AllToAllStatsAccumulator stats;
  EXPECT_FALSE(codec::decode_all_to_all(cut(codec::encode_all_to_all({{1, wire::Phase::kDispatch, 1, 2, 3, 4}})), &stats));
  WindowOverlap overlap;
  EXPECT_FALSE(codec::decode_overlap(wire::Bytes{}, &overlap));
  overlap.overlap.total = {10, 0, 20, 0, 0};  // more overlapped than communicating: impossible
  WindowOverlap back;
  EXPECT_FALSE(codec::decode_overlap(codec::encode_overlap(overlap), &back));
  Stragglers stragglers;
  EXPECT_FALSE(codec::decode_stragglers(wire::Bytes{}, &stragglers));
  EXPECT_FALSE(codec::decode_stragglers(cut(codec::encode_stragglers({1, {{0, 1, 1, 5}}})), &stragglers));
}

}  // namespace
}  // namespace moeprof::analysis

namespace moeprof::analysis {
namespace {

TEST(SummarisedLoadMatrix, EqualsTheRowsForEveryFilter) {
  testing::TempDir dir;
  synth::Options o = moeprof::testing::small_mixtral(4, 3, 100, 64, 1.0);
  o.all_to_all = o.compute = false;
  std::string error;
  const std::string with = dir.file("with.db"), without = dir.file("without.db");
  ASSERT_TRUE(synth::generate(o, with, &error)) << error;
  o.summaries = false;
  ASSERT_TRUE(synth::generate(o, without, &error)) << error;
  auto summarised = store::Reader::open(with, &error), rows = store::Reader::open(without, &error);
  ASSERT_TRUE(summarised && rows) << error;
  ASSERT_TRUE(summarised->summaries());
  for (const store::Filter& f : {store::Filter{}, store::Filter{.rank = 1}, store::Filter{.layer = 2},
                                 store::Filter{.step_begin = 10, .step_end = 90}, store::Filter{.step_begin = 64},
                                 store::Filter{.rank = 2, .layer = 0, .step_begin = 0, .step_end = 64}}) {
    const ExpertLoadMatrix a = expert_load_matrix(*summarised, f), b = expert_load_matrix(*rows, f);
    EXPECT_EQ(a.tokens, b.tokens) << f.rank.value_or(-1) << " " << f.layer.value_or(-1) << " "
                                  << f.step_begin.value_or(-1) << ":" << f.step_end.value_or(-1);
    EXPECT_GT(sum_over_layers(a).size(), 0u);
  }
}

}  // namespace
}  // namespace moeprof::analysis

namespace moeprof::analysis {
namespace {

TEST(CheckSummaries, ASoundTraceAgreesAndATamperedSummaryIsFound) {
  testing::TempDir dir;
  const synth::Options o = moeprof::testing::small_mixtral(3, 2, 70, 64, 1.0);
  const std::string path = dir.file("t.db");
  std::string error;
  ASSERT_TRUE(synth::generate(o, path, &error)) << error;
  {
    auto reader = store::Reader::open(path, &error);
    ASSERT_TRUE(reader) << error;
    EXPECT_EQ(check_summaries(*reader), std::vector<std::string>{});
  }
  // Rank 1's expert load of window 1 with one token more on one expert: still decodes, but
  // no longer what the rows hold.
  const wire::Bytes tampered = summary_codec::encode_counts({{0, {1, 2, 3, 4, 5, 6, 7, 8}}});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE summary SET data = ? WHERE kind = 0 AND rank = 1 AND window_index = 1", -1,
                               &stmt, nullptr),
            SQLITE_OK);
  sqlite3_bind_blob(stmt, 1, tampered.data(), static_cast<int>(tampered.size()), SQLITE_STATIC);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  auto reader = store::Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(check_summaries(*reader),
            std::vector<std::string>{"summary of window 1 (steps 32 to 63), kind 0, rank 1, disagrees with the rows"});
}

}  // namespace
}  // namespace moeprof::analysis

namespace moeprof::analysis {
namespace {

TEST(LoadOverTime, RunsOfStepsOrWindowsHoldTheRowsOfTheirSteps) {
  testing::TempDir dir;
  synth::Options o = moeprof::testing::small_mixtral(3, 2, 150, 64, 1.0);
  o.all_to_all = o.compute = false;
  const std::string path = dir.file("t.db");
  std::string error;
  ASSERT_TRUE(synth::generate(o, path, &error)) << error;
  auto reader = store::Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  struct Case {
    store::Filter filter;
    size_t max_runs;
    size_t expected_runs;
  };
  // 150 steps in 32-step windows: windows 0..4. Up to max_runs steps: a run per step.
  for (const Case& c : {Case{{}, 200, 150}, Case{{}, 3, 3}, Case{{.rank = 1, .step_begin = 10, .step_end = 140}, 4, 4},
                        Case{{.layer = 2, .step_begin = 40, .step_end = 60}, 100, 20}}) {
    const store::Filter filters[] = {c.filter};
    const LoadOverTime over = load_over_time(*reader, filters, c.max_runs);
    ASSERT_EQ(over.runs.size(), c.expected_runs);
    ASSERT_EQ(over.load.size(), c.expected_runs);
    int64_t next = c.filter.step_begin.value_or(0);
    for (size_t r = 0; r < over.runs.size(); ++r) {
      const auto [first, last] = over.runs[r];
      EXPECT_EQ(first, next) << "runs cover the steps without gaps";
      next = last + 1;
      // Each run's load is the matrix of its own steps, read row by row.
      store::Filter f = c.filter;
      f.step_begin = first;
      f.step_end = last + 1;
      ExpertLoadMatrix rows;
      reader->for_each_expert_load(f, [&](const store::ExpertLoad& l) { rows.add(l.layer, l.counts); });
      rows.resize(over.load[r].num_layers, over.load[r].num_experts);
      EXPECT_EQ(over.load[r].tokens, rows.tokens) << "run " << r;
      const int64_t steps = c.filter.step_end.value_or(150) - c.filter.step_begin.value_or(0);
      if (static_cast<int64_t>(c.max_runs) < steps && r + 1 < over.runs.size()) {
        EXPECT_EQ((last + 1) % kSummaryWindowSteps, 0) << "runs of whole windows";
      }
    }
    EXPECT_EQ(next, c.filter.step_end.value_or(150));
  }
}

}  // namespace
}  // namespace moeprof::analysis

namespace moeprof::analysis {
namespace {

TEST(SummarisedVolumeMatrix, EqualsTheRowsForEveryFilter) {
  testing::TempDir dir;
  const synth::Options o = moeprof::testing::small_mixtral(3, 3, 100, 64, 1.0);
  const std::string path = dir.file("t.db");
  std::string error;
  ASSERT_TRUE(synth::generate(o, path, &error)) << error;
  auto reader = store::Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  for (const store::Filter& f : {store::Filter{}, store::Filter{.rank = 2}, store::Filter{.layer = 1},
                                 store::Filter{.step_begin = 10, .step_end = 90}, store::Filter{.step_begin = 64},
                                 store::Filter{.time_begin_ns = 0}}) {
    std::vector<store::AllToAllEvent> events;
    reader->for_each_all_to_all(f, [&](const store::AllToAllEvent& e) { events.push_back(e); });
    for (const auto phase : {std::optional<wire::Phase>{}, std::optional<wire::Phase>{wire::Phase::kDispatch}}) {
      const VolumeMatrix from_summaries = volume_matrix(*reader, f, phase), from_rows = volume_matrix(events, phase);
      EXPECT_EQ(from_summaries.size, from_rows.size);
      EXPECT_EQ(from_summaries.bytes, from_rows.bytes)
          << f.rank.value_or(-1) << " " << f.layer.value_or(-1) << " " << f.step_begin.value_or(-1);
    }
  }
}

}  // namespace
}  // namespace moeprof::analysis

// A report read from window summaries equals the report of the same rows read one by one:
// the same trace written with and without summaries gives byte-identical JSON, for whole
// traces, step windows that cut windows, layer and rank selections, and for traces where
// summaries cannot add up (rows that came late, windows that overlap in time).
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <functional>

#include "../small_synth.h"
#include "../temp_dir.h"
#include "moeprof/analysis/window_summariser.h"
#include "moeprof/report/report.h"
#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "moeprof/synth/synth.h"

namespace moeprof::report {
namespace {

using moeprof::testing::TempDir;

std::string report_json(const std::string& path, const Options& options) {
  std::string error;
  auto reader = store::Reader::open(path, &error);
  EXPECT_TRUE(reader) << error;
  return reader ? render_json(build_report(*reader, options)) : std::string();
}

std::vector<Options> option_sets() {
  std::vector<Options> sets(1);
  const auto with = [&](const std::function<void(Options&)>& set) { set(sets.emplace_back()); };
  with([](Options& o) { o.step_begin = 10, o.step_end = 140; });   // cuts windows at both ends
  with([](Options& o) { o.step_begin = 32, o.step_end = 64; });    // exactly one window
  with([](Options& o) { o.step_begin = 0, o.step_end = 50; });     // one step per point
  with([](Options& o) { o.step_begin = 100; });                    // open end
  with([](Options& o) { o.layers = {3, 5}; });                     // comm from rows
  with([](Options& o) { o.ranks = {1, 2}; });                      // everything from rows
  return sets;
}

TEST(SummarisedReport, EqualsTheReportOfTheRowsOnASynthTrace) {
  TempDir dir;
  synth::Options o;
  o.shape = *synth::find_shape("gemma-4");
  o.shape.num_layers = 6;
  o.ranks = 4;
  o.steps = 150;  // several windows, more steps than points
  o.tokens_per_rank = 256;
  o.zipf_skew = 1.1;
  std::string error;
  const std::string with = dir.file("with.db"), without = dir.file("without.db");
  ASSERT_TRUE(synth::generate(o, with, &error)) << error;
  o.summaries = false;
  ASSERT_TRUE(synth::generate(o, without, &error)) << error;
  {
    auto reader = store::Reader::open(with, &error);
    ASSERT_TRUE(reader && reader->summaries()) << error;
    ASSERT_FALSE(store::Reader::open(without, &error)->summaries());
  }
  for (const Options& options : option_sets()) {
    const std::string from_summaries = report_json(with, options), from_rows = report_json(without, options);
    EXPECT_EQ(from_summaries, from_rows) << "steps " << options.step_begin.value_or(-1) << ":"
                                         << options.step_end.value_or(-1) << " layers " << options.layers.size()
                                         << " ranks " << options.ranks.size();
    EXPECT_NE(from_rows.find("\"over_time\""), std::string::npos);
  }
}

// A hand-written job of 2 ranks x 80 steps x 2 layers, written by `write(writer)` in a
// chosen order; the same rows go to a trace with and one without summaries.
struct Job {
  bool late_rows = false;         // rank 1's step 5 comes after everything else
  bool windows_overlap = false;   // step 63's last all-to-all ends after step 64 (the next window) began
};

void write_job(store::Writer& w, const Job& job) {
  w.set_model({"hand", 2, 4, 2, 0, 64});
  std::vector<std::function<void()>> late;
  for (int64_t step = 0; step < 80; ++step)
    for (int32_t rank = 0; rank < 2; ++rank) {
      std::vector<std::function<void()>> rows;
      const int64_t t0 = step * 1000 + rank * 3;
      rows.push_back([&w, rank, step, t0] { w.add_step({rank, step, t0, t0 + 900}); });
      for (int32_t layer = 0; layer < 2; ++layer) {
        const int64_t t = t0 + layer * 400;
        const uint32_t hot = static_cast<uint32_t>(step % 7 + 10 * rank);
        rows.push_back([&w, rank, step, layer, hot] { w.add_expert_load({rank, step, layer, {hot, 3, 1, 0}}); });
        const int64_t end = (job.windows_overlap && step == 63 && layer == 1) ? t0 + 1500 : t + 150;
        rows.push_back([&w, rank, step, layer, t, end] {
          w.add_all_to_all({rank, step, layer, wire::Phase::kDispatch, wire::Source::kApi, 1, t, end,
                            {{0, 64, 64}, {1, 128, 128}}});
        });
        rows.push_back([&w, rank, step, layer, t] {
          w.add_compute_span({rank, step, layer, wire::ComputeKind::kExpert, wire::Source::kApi, 2, t + 100, t + 300, ""});
        });
      }
      const bool hold = job.late_rows && rank == 1 && step == 5;
      for (auto& r : rows) {
        if (hold)
          late.push_back(r);
        else
          r();
      }
    }
  for (auto& r : late) r();
}

void expect_same_report(const Job& job) {
  TempDir dir;
  std::string error;
  const std::string with = dir.file("with.db"), without = dir.file("without.db");
  for (const auto& [path, summarised] : {std::pair{with, true}, std::pair{without, false}}) {
    auto writer = store::Writer::create(path, &error, summarised ? analysis::make_window_summariser() : nullptr);
    ASSERT_TRUE(writer) << error;
    write_job(*writer, job);
    ASSERT_TRUE(writer->finalize({}, &error)) << error;
  }
  for (const Options& options : option_sets()) EXPECT_EQ(report_json(with, options), report_json(without, options));
}

TEST(SummarisedReport, EqualsTheRowsWhenRowsCameLate) { expect_same_report({.late_rows = true}); }
TEST(SummarisedReport, EqualsTheRowsWhenWindowsOverlapInTime) { expect_same_report({.windows_overlap = true}); }
TEST(SummarisedReport, EqualsTheRowsOnAPlainJob) { expect_same_report({}); }

}  // namespace
}  // namespace moeprof::report

namespace moeprof::report {
namespace {

TEST(SummarisedReport, ACorruptSummaryRowIsAnErrorNamingTheFile) {
  moeprof::testing::TempDir dir;
  const synth::Options o = moeprof::testing::small_mixtral(2, 2, 120, 64);
  const std::string path = dir.file("t.db");
  std::string error;
  ASSERT_TRUE(synth::generate(o, path, &error)) << error;
  // Cut one expert-load summary short, behind the store's back.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE summary SET data = x'0208' WHERE kind = 0 AND window_index = 1 AND rank = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto reader = store::Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  try {
    build_report(*reader, {});
    ADD_FAILURE() << "no error";
  } catch (const store::Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path + ": corrupt summary row (kind 0, rank 1, window 1)", 0), 0u) << what;
  }
}

}  // namespace
}  // namespace moeprof::report

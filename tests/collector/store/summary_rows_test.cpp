// Summary rows: the writer stores what its summariser hands back, with meta saying how far
// the summaries reach; the reader returns them by kind and window, in order.
#include <gtest/gtest.h>

#include <limits>

#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "test_files.h"

namespace moeprof::store {
namespace {

using testing::TempDir;

// Counts the rows it sees and makes one expert-load summary row per (rank, step) of expert
// load, whose data is the row's first count; windows are single steps, complete once a newer
// step has been seen.
class CountingSummariser final : public Summariser {
 public:
  explicit CountingSummariser(int* rows_seen) : rows_seen_(rows_seen) {}
  int64_t window_steps() const override { return 1; }
  void add_expert_load(const ExpertLoad& load) override {
    ++*rows_seen_;
    pending_.push_back({SummaryKind::kExpertLoad, load.rank, load.step, {static_cast<uint8_t>(load.counts.at(0))}});
    newest_ = std::max(newest_, load.step);
  }
  void add_expert_drops(const ExpertLoad&) override { ++*rows_seen_; }
  void add_all_to_all(const AllToAllEvent&) override { ++*rows_seen_; }
  void add_compute_span(const ComputeSpan&) override { ++*rows_seen_; }
  void add_step(const StepSpan&) override { ++*rows_seen_; }
  int64_t take(bool all, std::vector<SummaryRow>* out) override {
    int64_t open = std::numeric_limits<int64_t>::max();
    std::vector<SummaryRow> keep;
    for (SummaryRow& r : pending_) {
      if (all || r.window < newest_) {
        out->push_back(std::move(r));
      } else {
        open = std::min(open, r.window);
        keep.push_back(std::move(r));
      }
    }
    pending_ = std::move(keep);
    return open;
  }

 private:
  int* rows_seen_;
  std::vector<SummaryRow> pending_;
  int64_t newest_ = std::numeric_limits<int64_t>::min();
};

std::vector<SummaryRow> summary_rows(const Reader& reader, int64_t begin, int64_t end) {
  std::vector<SummaryRow> out;
  reader.for_each_summary(SummaryKind::kExpertLoad, begin, end, [&](const SummaryRow& r) { out.push_back(r); });
  return out;
}

TEST(SummaryRows, WriterStoresWhatTheSummariserMakesAndHowFarItReaches) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  std::string error;
  int rows_seen = 0;
  auto writer = Writer::create(path, &error, std::make_unique<CountingSummariser>(&rows_seen));
  ASSERT_TRUE(writer) << error;
  for (int64_t step = 0; step < 3; ++step)
    for (int32_t rank : {1, 0}) writer->add_expert_load({rank, step, 0, {static_cast<uint32_t>(10 * step + rank)}});
  writer->add_step({0, 0, 5, 9});
  writer->add_all_to_all({0, 0, 0, wire::Phase::kDispatch, wire::Source::kApi, 1, 5, 6, {}});
  writer->add_compute_span({0, 0, 0, wire::ComputeKind::kExpert, wire::Source::kApi, 1, 6, 7, ""});
  writer->add_expert_drops({0, 0, 0, {1}});
  EXPECT_EQ(rows_seen, 10);
  ASSERT_TRUE(writer->commit(&error)) << error;

  {  // Live: steps 0 and 1 are summarised, step 2 is still open.
    auto reader = Reader::open(path, &error);
    ASSERT_TRUE(reader) << error;
    const auto info = reader->summaries();
    ASSERT_TRUE(info);
    EXPECT_EQ(info->window_steps, 1);
    EXPECT_EQ(info->complete_below, 2);
    const std::vector<SummaryRow> rows = summary_rows(*reader, 0, 10);
    ASSERT_EQ(rows.size(), 4u);
    // In (window, rank) order, whatever order they were written in.
    EXPECT_EQ(rows[0], (SummaryRow{SummaryKind::kExpertLoad, 0, 0, {0}}));
    EXPECT_EQ(rows[1], (SummaryRow{SummaryKind::kExpertLoad, 1, 0, {1}}));
    EXPECT_EQ(rows[3], (SummaryRow{SummaryKind::kExpertLoad, 1, 1, {11}}));
  }
  ASSERT_TRUE(writer->finalize({}, &error)) << error;
  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->summaries()->complete_below, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(summary_rows(*reader, 0, 10).size(), 6u);
  EXPECT_EQ(summary_rows(*reader, 1, 2).size(), 2u);  // windows [1, 2)
  std::vector<SummaryRow> others;
  reader->for_each_summary(SummaryKind::kCapacity, 0, 10, [&](const SummaryRow& r) { others.push_back(r); });
  EXPECT_TRUE(others.empty());
  EXPECT_TRUE(reader->check().empty());
}

TEST(SummaryRows, ATraceWithoutSummariesSaysSo) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  std::string error;
  auto writer = Writer::create(path, &error);
  ASSERT_TRUE(writer) << error;
  writer->add_expert_load({0, 0, 0, {1}});
  ASSERT_TRUE(writer->finalize({}, &error)) << error;
  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_FALSE(reader->summaries());
  EXPECT_TRUE(summary_rows(*reader, 0, 10).empty());
}

TEST(SummaryRows, ASchemaTwoTraceStillReadsWithoutSummaries) {
  // Schema 3 only added the summary table: a file of schema 2 is read, without summaries.
  TempDir dir;
  const std::string path = dir.file("v2.db");
  std::string error;
  int rows_seen = 0;
  auto writer = Writer::create(path, &error, std::make_unique<CountingSummariser>(&rows_seen));
  ASSERT_TRUE(writer) << error;
  writer->add_expert_load({0, 4, 0, {7}});
  ASSERT_TRUE(writer->finalize({}, &error)) << error;
  writer.reset();
  testing::raw_exec(path, "DROP TABLE summary; DELETE FROM meta WHERE key LIKE 'summar%'; PRAGMA user_version = 2;");
  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->schema_version(), 2);
  EXPECT_FALSE(reader->summaries());
  EXPECT_TRUE(summary_rows(*reader, 0, 10).empty());
  int rows = 0;
  reader->for_each_expert_load({}, [&](const ExpertLoad& l) { rows += l.counts.at(0) == 7; });
  EXPECT_EQ(rows, 1);
}

}  // namespace
}  // namespace moeprof::store

namespace moeprof::store {
namespace {

// Writes down every call, to compare what reached it with what was given.
class RecordingSummariser final : public Summariser {
 public:
  explicit RecordingSummariser(std::vector<std::string>* calls) : calls_(calls) {}
  int64_t window_steps() const override { return 7; }
  void add_expert_load(const ExpertLoad& l) override { note("load", l.step, l.counts.size()); }
  void add_expert_drops(const ExpertLoad& l) override { note("drops", l.step, l.counts.size()); }
  void add_all_to_all(const AllToAllEvent& e) override { note("a2a", e.step, e.peers.size()); }
  void add_compute_span(const ComputeSpan& s) override { note("span " + s.name, s.step, 0); }
  void add_step(const StepSpan& s) override { note("step", s.step, 0); }
  int64_t take(bool all, std::vector<SummaryRow>* out) override {
    calls_->push_back(all ? "take all" : "take");
    out->push_back({SummaryKind::kOverlap, 0, static_cast<int64_t>(calls_->size()), {}});
    return 42;
  }

 private:
  void note(const std::string& what, int64_t step, size_t size) {
    calls_->push_back(what + " " + std::to_string(step) + " " + std::to_string(size));
  }
  std::vector<std::string>* calls_;
};

TEST(BackgroundSummariser, EveryRowReachesTheSummariserInOrderBeforeATake) {
  std::vector<std::string> calls, expected;
  auto background = in_background(std::make_unique<RecordingSummariser>(&calls));
  EXPECT_EQ(background->window_steps(), 7);
  // Enough rows to fill the hand-over queue several times over.
  for (int64_t step = 0; step < 20000; ++step) {
    const size_t experts = static_cast<size_t>(step % 5);
    background->add_expert_load({0, step, 0, std::vector<uint32_t>(experts, 1)});
    expected.push_back("load " + std::to_string(step) + " " + std::to_string(experts));
    if (step % 3 == 0) {
      background->add_expert_drops({0, step, 0, {1}});
      expected.push_back("drops " + std::to_string(step) + " 1");
    }
    background->add_all_to_all({0, step, 0, wire::Phase::kDispatch, wire::Source::kApi, 1, 0, 1, {{1, 2, 3}}});
    expected.push_back("a2a " + std::to_string(step) + " 1");
    background->add_compute_span({0, step, 0, wire::ComputeKind::kGate, wire::Source::kApi, 1, 0, 1, "g" + std::to_string(step % 2)});
    expected.push_back("span g" + std::to_string(step % 2) + " " + std::to_string(step) + " 0");
    background->add_step({0, step, 0, 1});
    expected.push_back("step " + std::to_string(step) + " 0");
    if (step == 9999) {
      std::vector<SummaryRow> out;
      EXPECT_EQ(background->take(false, &out), 42);
      expected.push_back("take");
      EXPECT_EQ(calls, expected);  // the take came after every row before it
      ASSERT_EQ(out.size(), 1u);
    }
  }
  std::vector<SummaryRow> out;
  EXPECT_EQ(background->take(true, &out), 42);
  expected.push_back("take all");
  EXPECT_EQ(calls, expected);
}

TEST(BackgroundSummariser, StopsCleanlyWithRowsNotTaken) {
  std::vector<std::string> calls;
  {
    auto background = in_background(std::make_unique<RecordingSummariser>(&calls));
    for (int64_t step = 0; step < 5000; ++step) background->add_step({0, step, 0, 1});
  }  // no take: the thread ends, nothing hangs
  EXPECT_LE(calls.size(), 5000u);
}

}  // namespace
}  // namespace moeprof::store

// The notes of a trace: what an empty or MoE-less trace means, and the capture sources' notes
// (marks in the note domain), by rank and time, whatever else the trace holds.
#include "moeprof/analysis/trace_notes.h"

#include <gtest/gtest.h>

#include "moeprof/store/writer.h"
#include "trace_fixture.h"

namespace moeprof::analysis {
namespace {

store::Range mark(int32_t rank, int64_t at, std::string domain, std::string text) {
  store::Range r;
  r.rank = rank;
  r.source = wire::Source::kPython;
  r.start_ns = r.end_ns = at;
  r.kind = wire::RangeKind::kMark;
  r.domain = std::move(domain);
  r.name = std::move(text);
  return r;
}

class TraceNotesTest : public ::testing::Test {
 protected:
  std::vector<TraceNote> notes_of(const std::function<void(store::Writer&)>& fill) {
    const std::string path = dir_.file("t" + std::to_string(++n_) + ".db");
    std::string error;
    auto writer = store::Writer::create(path, &error);
    EXPECT_TRUE(writer) << error;
    fill(*writer);
    store::RunInfo run;
    run.command = "test";
    EXPECT_TRUE(writer->finalize(run, &error)) << error;
    auto reader = store::Reader::open(path, &error);
    EXPECT_TRUE(reader) << error;
    return trace_notes(*reader);
  }
  static void process(store::Writer& w, int32_t rank) {
    store::ProcessInfo p;
    p.pid = 100 + rank;
    p.rank = rank;
    w.add_process(p);
  }
  testing::TempDir dir_;
  int n_ = 0;
};

TEST_F(TraceNotesTest, NoProcessMeansTheAgentNeverReported) {
  const std::vector<TraceNote> notes = notes_of([](store::Writer&) {});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_FALSE(notes[0].rank);
  EXPECT_NE(notes[0].text.find("no process reported"), std::string::npos) << notes[0].text;
}

TEST_F(TraceNotesTest, ProcessesWithoutMoEEventsSaySo) {
  const std::vector<TraceNote> notes = notes_of([](store::Writer& w) {
    process(w, 0);
    w.add_range(mark(0, 5, "app", "an ordinary mark"));  // not a note, not an MoE event
  });
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].text.find("no MoE events were recorded"), std::string::npos) << notes[0].text;
}

TEST_F(TraceNotesTest, SourcesNotesByRankAndTimeAfterTheTracesOwn) {
  const std::vector<TraceNote> notes = notes_of([](store::Writer& w) {
    process(w, 0);
    process(w, 1);
    w.add_range(mark(1, 10, std::string(wire::kNoteDomain), "rank 1 first"));
    w.add_range(mark(0, 30, std::string(wire::kNoteDomain), "rank 0 later"));
    w.add_range(mark(0, 20, std::string(wire::kNoteDomain), "rank 0 first"));
    w.add_range(mark(0, 25, "moeprof", "not a note: another domain"));
    store::Range range = mark(0, 26, std::string(wire::kNoteDomain), "not a note: a range");
    range.kind = wire::RangeKind::kPushPop;
    range.end_ns = 40;
    w.add_range(range);
    w.add_expert_load(store::ExpertLoad{0, 0, 0, {1, 2}});
  });
  const std::vector<TraceNote> expected = {{0, wire::Source::kPython, "rank 0 first"},
                                           {0, wire::Source::kPython, "rank 0 later"},
                                           {1, wire::Source::kPython, "rank 1 first"}};
  EXPECT_EQ(notes, expected);
}

}  // namespace
}  // namespace moeprof::analysis

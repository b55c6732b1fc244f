// Reader::check() on a sound trace and on traces broken on purpose behind the store's back.
#include <gtest/gtest.h>

#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "moeprof/synth/synth.h"
#include "test_files.h"

namespace moeprof::store {
namespace {

class Check : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("t.db");
    std::string error;
    ASSERT_TRUE(synth::generate(testing::small_synth_options(), path_, &error)) << error;
  }

  // Applies `sql` to the file, then returns check()'s problems.
  std::vector<std::string> problems_after(const std::string& sql) {
    testing::raw_exec(path_, sql);
    std::string error;
    auto reader = Reader::open(path_, &error);
    EXPECT_TRUE(reader) << error;
    return reader ? reader->check() : std::vector<std::string>{"cannot open"};
  }

  static bool mentions(const std::vector<std::string>& problems, const std::string& a, const std::string& b) {
    for (const auto& p : problems)
      if (p.find(a) != std::string::npos && p.find(b) != std::string::npos) return true;
    return false;
  }

  testing::TempDir dir_;
  std::string path_;
};

TEST_F(Check, ASoundTraceHasNoProblems) {
  std::string error;
  auto reader = Reader::open(path_, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->check(), std::vector<std::string>{});
}

TEST_F(Check, FindsEventCountsInMetaThatDisagreeWithTheRows) {
  std::string error;
  const int64_t held = Reader::open(path_, &error)->counts().all_to_all;
  ASSERT_GT(held, 0);
  const auto problems = problems_after("UPDATE meta SET value = '7' WHERE key = 'entries.all_to_all'");
  EXPECT_TRUE(mentions(problems, "entries.all_to_all says 7", "holds " + std::to_string(held)))
      << ::testing::PrintToString(problems);
  EXPECT_EQ(Reader::open(path_, &error)->counts().all_to_all, 7);  // counts() trusts meta
}

TEST_F(Check, FindsABrokenCountsBlobAndQueriesThrow) {
  const auto problems = problems_after("UPDATE expert_load SET counts = x'ffffffff' WHERE rowid = 3");
  EXPECT_TRUE(mentions(problems, "expert_load row 3", "does not decode")) << ::testing::PrintToString(problems);
  std::string error;
  auto reader = Reader::open(path_, &error);
  ASSERT_TRUE(reader) << error;
  try {
    reader->for_each_expert_load({}, [](const ExpertLoad&) {});
    ADD_FAILURE() << "no Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path_ + ": ", 0), 0u) << what;
    EXPECT_NE(what.find("row 3"), std::string::npos) << what;
  }
}

TEST_F(Check, FindsATokensMismatch) {
  const auto problems = problems_after("UPDATE expert_load SET tokens = tokens + 1 WHERE rowid = 5");
  EXPECT_TRUE(mentions(problems, "expert_load row 5", "tokens")) << ::testing::PrintToString(problems);
  EXPECT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
}

TEST_F(Check, FindsAnEntriesMismatchAndQueriesThrow) {
  const auto problems = problems_after("UPDATE expert_load SET entries = entries + 1 WHERE rowid = 2");
  EXPECT_TRUE(mentions(problems, "expert_load row 2", "entries")) << ::testing::PrintToString(problems);
  std::string error;
  auto reader = Reader::open(path_, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_THROW(reader->for_each_expert_load({}, [](const ExpertLoad&) {}), Error);
}

TEST_F(Check, FindsCountsThatDoNotFitTheModel) {
  const auto problems = problems_after("UPDATE model SET num_experts = num_experts + 1");
  EXPECT_TRUE(mentions(problems, "expert_load row 1", "the model has")) << ::testing::PrintToString(problems);
}

TEST_F(Check, FindsAllToAllTotalsThatDisagreeWithPeers) {
  const auto problems = problems_after("UPDATE all_to_all SET recv_bytes = recv_bytes * 2 + 1 WHERE rowid = 4");
  EXPECT_TRUE(mentions(problems, "all_to_all row 4", "recv_bytes")) << ::testing::PrintToString(problems);
}

TEST_F(Check, FindsABrokenSpansBlobAndQueriesThrow) {
  const auto problems = problems_after("UPDATE all_to_all SET spans = substr(spans, 1, length(spans) - 3) WHERE rowid = 2");
  EXPECT_TRUE(mentions(problems, "all_to_all row 2", "does not decode")) << ::testing::PrintToString(problems);
  std::string error;
  auto reader = Reader::open(path_, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_THROW(reader->for_each_all_to_all({}, [](const AllToAllEvent&) {}), Error);
}

TEST_F(Check, FindsEntriesOutsideTheirChunksBounds) {
  // Entries before the chunk's start would break the reader's time ordering.
  const auto problems = problems_after("UPDATE compute_span SET start_ns = start_ns + 1 WHERE rowid = 1");
  EXPECT_TRUE(mentions(problems, "compute_span row 1", "outside")) << ::testing::PrintToString(problems);
}

TEST_F(Check, FindsABrokenRoutingBlob) {
  const auto problems = problems_after("UPDATE router_decision SET routing = substr(routing, 1, 10) WHERE rowid = 1");
  EXPECT_TRUE(mentions(problems, "router_decision row 1", "does not decode")) << ::testing::PrintToString(problems);
}

TEST_F(Check, FindsRoutingToExpertsTheModelDoesNotHave) {
  // 1 token, top-1, 1-byte ids, no gate weights, expert 200 (the model has 16).
  const auto problems = problems_after(
      "UPDATE router_decision SET routing = x'01010100C8', num_tokens = 1, top_k = 1 WHERE rowid = 2");
  EXPECT_TRUE(mentions(problems, "router_decision row 2", "expert id 200")) << ::testing::PrintToString(problems);
  EXPECT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
}

TEST_F(Check, FindsSpansEndingBeforeTheyStart) {
  const auto problems = problems_after("UPDATE step SET end_ns = start_ns - 1 WHERE rowid IN (1, 2)");
  EXPECT_TRUE(mentions(problems, "2 step rows", "end before")) << ::testing::PrintToString(problems);
}

TEST(CheckSpans, FindsChunkEntriesEndingBeforeTheyStart) {
  testing::TempDir dir;
  const std::string path = dir.file("t.db");
  auto w = Writer::create(path, nullptr);
  ASSERT_TRUE(w);
  for (int64_t end : {5, 20, 3}) {
    ComputeSpan span;
    span.rank = 0;
    span.start_ns = 10;
    span.end_ns = end;
    w->add_compute_span(span);
  }
  ASSERT_TRUE(w->finalize(RunInfo{})) << w->error();
  std::string error;
  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  const auto problems = reader->check();
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_NE(problems[0].find("2 compute_span entries end before they start"), std::string::npos) << problems[0];
}

TEST_F(Check, FindsDanglingStringReferences) {
  const auto problems = problems_after("DELETE FROM string");
  EXPECT_TRUE(mentions(problems, "compute_span", "missing string")) << ::testing::PrintToString(problems);
}

}  // namespace
}  // namespace moeprof::store

// Writer: file creation, schema and meta, refusals, string interning, drops, batching and
// the life cycle (live reading, finalisation, writes after errors).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "test_files.h"

namespace moeprof::store {
namespace {

using testing::raw_exec;
using testing::raw_query;
using testing::TempDir;

// The schema version, read by SQLite itself from the embedded SQL.
int user_version_of_embedded_schema() {
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  const std::string sql(schema_sql());
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  sqlite3_step(stmt);
  const int version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return version;
}

TEST(Schema, VersionIsTheEmbeddedSchemasUserVersion) {
  EXPECT_GE(user_version_of_embedded_schema(), 1);
  EXPECT_EQ(schema_version(), user_version_of_embedded_schema());
}

TEST(Writer, CreatesASchemaVersionedTraceWithMeta) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  std::string error;
  auto writer = Writer::create(path, &error);
  ASSERT_TRUE(writer) << error;
  EXPECT_EQ(raw_query(path, "PRAGMA journal_mode"), "wal");
  ASSERT_TRUE(writer->finalize(RunInfo{}, &error)) << error;
  writer.reset();

  EXPECT_EQ(raw_query(path, "PRAGMA user_version"), std::to_string(schema_version()));
  EXPECT_EQ(raw_query(path, "SELECT value FROM meta WHERE key = 'format'"), "moeprof-trace");
  EXPECT_EQ(raw_query(path, "SELECT value FROM meta WHERE key = 'schema_version'"), std::to_string(schema_version()));
  EXPECT_EQ(raw_query(path, "SELECT value FROM meta WHERE key = 'created_by'").rfind("moeprof ", 0), 0u);
  EXPECT_GE(std::stoi(raw_query(path, "PRAGMA page_size")), 8192);
  // Finalised: one self-contained file.
  EXPECT_EQ(raw_query(path, "PRAGMA journal_mode"), "delete");
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path + "-shm"));

  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->schema_version(), schema_version());
  EXPECT_TRUE(reader->run().finalized);
}

TEST(Writer, RefusesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.file("precious.db");
  testing::write_file(path, "keep me");
  std::string error;
  EXPECT_FALSE(Writer::create(path, &error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("exists"), std::string::npos) << error;
  EXPECT_EQ(testing::read_file(path), "keep me");

  // Also an existing trace.
  const std::string trace = dir.file("trace.db");
  ASSERT_TRUE(Writer::create(trace, &error)) << error;
  EXPECT_FALSE(Writer::create(trace, &error));
}

TEST(Writer, ReportsAnUncreatablePathWithItsName) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/t.db");
  std::string error;
  EXPECT_FALSE(Writer::create(path, &error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST(Writer, InternsEveryStringOnce) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  auto w = Writer::create(path, nullptr);
  ASSERT_TRUE(w);
  const char* names[] = {"attn", "gate", "attn", "", "gate", "attn"};
  for (int i = 0; i < 6; ++i) {
    ComputeSpan span;
    span.rank = 0;
    span.start_ns = i;
    span.end_ns = i + 1;
    span.name = names[i];
    w->add_compute_span(span);
  }
  w->add_marker(Marker{0, 0, 1, 5, wire::Source::kApi, "attn"});
  Range range;
  range.domain = "nccl";
  range.name = "gate";
  w->add_range(range);
  GpuKernel kernel;
  kernel.name = "nccl";
  w->add_gpu_kernel(kernel);
  ASSERT_TRUE(w->finalize(RunInfo{})) << w->error();
  w.reset();

  EXPECT_EQ(raw_query(path, "SELECT count(*) FROM string"), "3");  // attn, gate, nccl
  std::string error;
  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  std::vector<std::string> read_names;
  reader->for_each_compute_span({}, [&](const ComputeSpan& s) { read_names.push_back(s.name); });
  EXPECT_EQ(read_names, std::vector<std::string>(std::begin(names), std::end(names)));
  ASSERT_EQ(reader->ranges().size(), 1u);
  EXPECT_EQ(reader->ranges()[0].domain, "nccl");
  EXPECT_EQ(reader->ranges()[0].name, "gate");
  EXPECT_EQ(reader->gpu_kernels()[0].name, "nccl");
  EXPECT_EQ(reader->markers()[0].name, "attn");
}

TEST(Writer, DropsAccumulatePerProcessSourceAndReason) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  auto w = Writer::create(path, nullptr);
  ASSERT_TRUE(w);
  const int64_t p1 = w->add_process(ProcessInfo{});
  const int64_t p2 = w->add_process(ProcessInfo{});
  ASSERT_NE(p1, p2);
  using wire::DropReason;
  using wire::Source;
  w->add_drops({p1, 0, Source::kAgent, DropReason::kRingFull, 5});
  w->add_drops({p1, 0, Source::kAgent, DropReason::kRingFull, 7});
  w->add_drops({p1, 0, Source::kAgent, DropReason::kSendFailed, 1});
  w->add_drops({p2, 1, Source::kAgent, DropReason::kRingFull, 100});
  ASSERT_TRUE(w->commit());
  w->add_drops({p1, 0, Source::kAgent, DropReason::kRingFull, 30});  // across a commit
  ASSERT_TRUE(w->finalize(RunInfo{})) << w->error();

  std::string error;
  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  const std::vector<DropCount> expected = {{p1, 0, Source::kAgent, DropReason::kRingFull, 42},
                                           {p1, 0, Source::kAgent, DropReason::kSendFailed, 1},
                                           {p2, 1, Source::kAgent, DropReason::kRingFull, 100}};
  EXPECT_EQ(reader->drops(), expected);
  EXPECT_EQ(reader->counts().dropped, 143u);
}

TEST(Writer, NotesTheCaptureSourcesOfItsEvents) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  auto w = Writer::create(path, nullptr);
  ASSERT_TRUE(w);
  using wire::Source;
  w->add_compute_span({.rank = 0, .step = 0, .layer = 0, .kind = wire::ComputeKind::kGate, .source = Source::kApi,
                       .tid = 1, .start_ns = 0, .end_ns = 5, .name = "gate"});
  ASSERT_TRUE(w->commit());
  {
    auto live = Reader::open(path, nullptr);
    ASSERT_TRUE(live);
    EXPECT_EQ(live->capture_sources(), std::vector<Source>{Source::kApi});  // a live trace shows what came so far
  }
  AllToAllEvent a2a;
  a2a.source = Source::kNccl;
  a2a.end_ns = 10;
  w->add_all_to_all(a2a);
  w->add_marker({.rank = 0, .step = 0, .tid = 1, .ts_ns = 3, .source = Source::kNvtx, .name = "m"});
  w->add_gpu_kernel(GpuKernel{});
  ASSERT_TRUE(w->finalize(RunInfo{})) << w->error();
  auto reader = Reader::open(path, nullptr);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->capture_sources(), (std::vector<Source>{Source::kApi, Source::kNccl, Source::kNvtx, Source::kCupti}));
  reader.reset();
  raw_exec(path, "DELETE FROM meta WHERE key = 'capture_sources'");  // as written by an older moeprof
  EXPECT_EQ(Reader::open(path, nullptr)->capture_sources(), std::nullopt);
}

TEST(Writer, RecordedCountsAddUpAndTallyWithDropsPerSource) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  auto w = Writer::create(path, nullptr);
  ASSERT_TRUE(w);
  using wire::Source;
  const int64_t p1 = w->add_process(ProcessInfo{});
  const int64_t p2 = w->add_process(ProcessInfo{});
  w->add_marker({.rank = 0, .step = 0, .tid = 1, .ts_ns = 3, .source = Source::kApi, .name = "m"});  // notes api
  w->add_recorded({p1, 0, Source::kMpi, 10});
  w->add_recorded({p1, 0, Source::kMpi, 5});  // frames' counts add up
  w->add_recorded({p2, 1, Source::kMpi, 7});
  w->add_recorded({p2, 1, Source::kNccl, 3});
  w->add_drops({p2, 1, Source::kNccl, wire::DropReason::kAdapterFull, 4});
  w->add_drops({p1, 0, Source::kCupti, wire::DropReason::kRingFull, 2});
  ASSERT_TRUE(w->finalize(RunInfo{})) << w->error();
  auto reader = Reader::open(path, nullptr);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->recorded(), (std::vector<RecordedCount>{{p1, 0, Source::kMpi, 15}, {p2, 1, Source::kMpi, 7},
                                                            {p2, 1, Source::kNccl, 3}}));
  // api was noted but no agent delivered it (the marker came straight into the writer): 0.
  EXPECT_EQ(reader->source_tallies(), (std::vector<SourceTally>{{Source::kApi, 0, 0},
                                                                {Source::kMpi, 22, 0},
                                                                {Source::kNccl, 3, 4},
                                                                {Source::kCupti, 0, 2}}));
  reader.reset();
  raw_exec(path, "DELETE FROM recorded");  // as a synthetic trace: nothing says how many
  EXPECT_EQ(Reader::open(path, nullptr)->source_tallies(),
            (std::vector<SourceTally>{{Source::kApi, std::nullopt, 0}, {Source::kNccl, std::nullopt, 4},
                                      {Source::kCupti, std::nullopt, 2}}));
}

TEST(Writer, ALiveTraceIsReadableAndCommittedBatchesAppear) {
  TempDir dir;
  const std::string path = dir.file("live.db");
  auto w = Writer::create(path, nullptr);
  ASSERT_TRUE(w);
  std::string error;
  auto reader = Reader::open(path, &error);  // opened before anything was written
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->counts().steps, 0);

  // More rows than one batch: the first batches commit by themselves.
  const int64_t rows = 120'000;
  for (int64_t i = 0; i < rows; ++i) w->add_step({static_cast<int32_t>(i % 8), i / 8, i, i + 1});
  const int64_t seen_before_commit = reader->counts().steps;
  EXPECT_GT(seen_before_commit, 0);
  EXPECT_LT(seen_before_commit, rows);
  ASSERT_TRUE(w->commit(&error)) << error;
  EXPECT_EQ(reader->counts().steps, rows);
  EXPECT_FALSE(reader->run().finalized);

  // A second reader opened mid-run, while the WAL holds the data.
  auto second = Reader::open(path, &error);
  ASSERT_TRUE(second) << error;
  EXPECT_EQ(second->counts().steps, rows);
  EXPECT_TRUE(second->check().empty());

  RunInfo run;
  run.command = "train.py";
  run.exit_code = 3;
  run.end_realtime_ns = 99;
  ASSERT_TRUE(w->finalize(run, &error)) << error;
  const RunInfo read = reader->run();
  EXPECT_TRUE(read.finalized);
  EXPECT_EQ(read.exit_code, 3);
  EXPECT_EQ(read.end_realtime_ns, 99);
  EXPECT_EQ(read.command, "train.py");
}

TEST(Writer, RunStaysOpenUntilFinalised) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  auto w = Writer::create(path, nullptr);
  ASSERT_TRUE(w);
  RunInfo run{"python train.py", "node1", "", "sample:4", 1000, 0, -1, false};
  w->set_run(run);
  ASSERT_TRUE(w->commit());
  std::string error;
  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  RunInfo open = reader->run();
  EXPECT_EQ(open.command, run.command);
  EXPECT_EQ(open.host, run.host);
  EXPECT_FALSE(open.moeprof_version.empty());  // the writer's own version when not given
  EXPECT_EQ(open.routing_mode, "sample:4");
  EXPECT_EQ(open.start_realtime_ns, 1000);
  EXPECT_EQ(open.exit_code, -1);
  EXPECT_FALSE(open.finalized);

  run.end_realtime_ns = 5000;
  run.exit_code = 0;
  ASSERT_TRUE(w->finalize(run));
  const RunInfo done = reader->run();
  EXPECT_EQ(done.end_realtime_ns, 5000);
  EXPECT_EQ(done.exit_code, 0);
  EXPECT_TRUE(done.finalized);
}

TEST(Writer, KeepsCommittedRowsWhenDroppedWithoutFinalize) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  {
    auto w = Writer::create(path, nullptr);
    ASSERT_TRUE(w);
    for (int i = 0; i < 10; ++i) w->add_step({0, i, i, i + 1});
  }
  std::string error;
  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->counts().steps, 10);
  EXPECT_FALSE(reader->run().finalized);
}

TEST(Writer, FirstErrorStopsTheWriterAndIsReported) {
  TempDir dir;
  const std::string path = dir.file("t.db");
  auto w = Writer::create(path, nullptr);
  ASSERT_TRUE(w);
  w->add_step({0, 0, 0, 1});
  RouterDecisionBatch bad;
  bad.routing.num_tokens = 4;
  bad.routing.top_k = 2;
  bad.routing.expert_ids = {1, 2, 3};  // 8 expected
  w->add_router_decisions(bad);
  const std::string first = w->error();
  EXPECT_NE(first.find(path), std::string::npos) << first;
  EXPECT_EQ(first.find('\n'), std::string::npos);
  w->add_step({0, 1, 1, 2});
  EXPECT_EQ(w->error(), first);
  std::string error;
  EXPECT_FALSE(w->commit(&error));
  EXPECT_EQ(error, first);
  EXPECT_FALSE(w->finalize(RunInfo{}, &error));
}

TEST(Writer, WritesAfterFinalizeAreErrors) {
  TempDir dir;
  auto w = Writer::create(dir.file("t.db"), nullptr);
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->finalize(RunInfo{}));
  EXPECT_TRUE(w->error().empty());
  w->add_step({0, 0, 0, 1});
  EXPECT_NE(w->error().find("finalised"), std::string::npos) << w->error();
}

}  // namespace
}  // namespace moeprof::store

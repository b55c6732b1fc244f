// Reader::open on files that are not (readable) traces: one clean line naming the file, or for
// damage SQLite only meets later a store::Error, never a crash or another exception.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>

#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "moeprof/synth/synth.h"
#include "test_files.h"

namespace moeprof::store {
namespace {

using testing::TempDir;

// Opening must fail with one line that names the file and contains `expected`.
void expect_refused(const std::string& path, const std::string& expected) {
  std::string error;
  EXPECT_FALSE(Reader::open(path, &error)) << path;
  EXPECT_EQ(error.rfind(path + ": ", 0), 0u) << error;
  EXPECT_NE(error.find(expected), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

std::string make_trace(const TempDir& dir, const std::string& name, bool routing = true) {
  const std::string path = dir.file(name);
  synth::Options options = testing::small_synth_options();
  options.routing = routing;
  std::string error;
  EXPECT_TRUE(synth::generate(options, path, &error)) << error;
  return path;
}

// Every query of the reader; each may throw store::Error, nothing else.
void exercise(const Reader& reader) {
  const auto guarded = [](const char* what, const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(": "), std::string::npos) << what;
    }
  };
  guarded("run", [&] { reader.run(); });
  guarded("processes", [&] { reader.processes(); });
  guarded("model", [&] { reader.model(); });
  guarded("placements", [&] { reader.placements(); });
  guarded("counts", [&] { reader.counts(); });
  guarded("ranks", [&] { reader.ranks(); });
  guarded("step_range", [&] { reader.step_range(); });
  guarded("steps", [&] { reader.steps(); });
  guarded("expert_load", [&] { reader.for_each_expert_load({}, [](const ExpertLoad&) {}); });
  guarded("router", [&] { reader.for_each_router_decisions({}, [](const RouterDecisionBatch&) {}); });
  guarded("a2a", [&] { reader.for_each_all_to_all({}, [](const AllToAllEvent&) {}); });
  guarded("spans", [&] { reader.for_each_compute_span({}, [](const ComputeSpan&) {}); });
  guarded("markers", [&] { reader.markers(); });
  guarded("drops", [&] { reader.drops(); });
}

TEST(ReaderRefuses, AMissingFile) {
  TempDir dir;
  expect_refused(dir.file("nope.db"), "no such file");
  EXPECT_FALSE(std::filesystem::exists(dir.file("nope.db")));  // and creates nothing
}

TEST(ReaderRefuses, ADirectory) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("d.db"));
  expect_refused(dir.file("d.db"), "directory");
}

TEST(ReaderRefuses, ATextFile) {
  TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "this is a text file, not a database\n";
  testing::write_file(path, text);
  expect_refused(path, "file is not a database");
  EXPECT_EQ(testing::read_file(path), text);
}

TEST(ReaderRefuses, AnEmptyFile) {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  testing::write_file(path, "");
  expect_refused(path, "not a moeprof trace");
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
}

TEST(ReaderRefuses, AForeignSqliteDatabase) {
  TempDir dir;
  const std::string path = dir.file("foreign.db");
  testing::raw_exec(path, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'a');");
  expect_refused(path, "not a moeprof trace");

  const std::string lookalike = dir.file("lookalike.db");
  testing::raw_exec(lookalike, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('format', 'other-tool');");
  expect_refused(lookalike, "not a moeprof trace");
}

TEST(ReaderRefuses, ANewerSchemaVersion) {
  TempDir dir;
  const std::string path = make_trace(dir, "newer.db");
  testing::raw_exec(path, "PRAGMA user_version = " + std::to_string(schema_version() + 1));
  expect_refused(path, "was written by a newer moeprof (schema " + std::to_string(schema_version() + 1) +
                           "; this build reads " + std::to_string(schema_version()) + ")");
}

TEST(ReaderRefuses, AnOlderUnsupportedSchemaVersion) {
  TempDir dir;
  const std::string path = make_trace(dir, "older.db");
  testing::raw_exec(path, "PRAGMA user_version = 0");
  expect_refused(path, "schema version 0");
}

TEST(ReaderRefuses, ATruncatedTrace) {
  TempDir dir;
  const std::string path = make_trace(dir, "whole.db");
  const std::string bytes = testing::read_file(path);
  ASSERT_GT(bytes.size(), 64u * 1024);
  const std::string cut = dir.file("cut.db");
  testing::write_file(cut, bytes.substr(0, bytes.size() / 2));
  expect_refused(cut, "truncated");
  // Cut inside the first page too.
  testing::write_file(cut, bytes.substr(0, 1000));
  std::string error;
  EXPECT_FALSE(Reader::open(cut, &error));
  EXPECT_EQ(error.rfind(cut + ": ", 0), 0u) << error;
}

// Damage to structure or to rows is found; damage inside raw routing data (gate weights are
// any float) need not be, so this trace has none. It is long enough that its pages are full
// of rows (the empty tables' pages are at the start), so the damage hits data.
TEST(ReaderRefuses, OrReportsACorruptedTrace) {
  TempDir dir;
  const std::string path = dir.file("whole.db");
  synth::Options options = testing::small_synth_options();
  options.shape.num_experts = 64;
  options.steps = 2000;
  options.routing = false;
  std::string error;
  ASSERT_TRUE(synth::generate(options, path, &error)) << error;
  const std::string bytes = testing::read_file(path);
  for (double where : {0.25, 0.5, 0.75, 0.9}) {
    SCOPED_TRACE(where);
    std::string damaged = bytes;
    const size_t at = static_cast<size_t>(static_cast<double>(bytes.size()) * where);
    for (size_t i = 0; i < 4096 && at + i < damaged.size(); ++i) damaged[at + i] = static_cast<char>(0xA5 ^ (i * 31));
    const std::string copy = dir.file("damaged.db");
    testing::write_file(copy, damaged);
    std::string error;
    auto reader = Reader::open(copy, &error);
    if (!reader) {
      EXPECT_EQ(error.rfind(copy + ": ", 0), 0u) << error;
      continue;
    }
    exercise(*reader);
    EXPECT_FALSE(reader->check().empty()) << "the damage went unnoticed";
  }
}

TEST(Reader, NeverWritesTheTrace) {
  TempDir dir;
  const std::string path = make_trace(dir, "t.db");
  const std::string before = testing::read_file(path);
  const auto mtime = std::filesystem::last_write_time(path);
  {
    std::string error;
    auto reader = Reader::open(path, &error);
    ASSERT_TRUE(reader) << error;
    exercise(*reader);
    EXPECT_TRUE(reader->check().empty());
  }
  EXPECT_EQ(testing::read_file(path), before);
  EXPECT_EQ(std::filesystem::last_write_time(path), mtime);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path + "-shm"));
}

TEST(Reader, OpensATraceOnReadOnlyFiles) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  TempDir dir;
  const std::string path = make_trace(dir, "t.db");
  std::filesystem::permissions(path, std::filesystem::perms::owner_read);
  std::string error;
  auto reader = Reader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_GT(reader->counts().expert_load, 0);
}

}  // namespace
}  // namespace moeprof::store

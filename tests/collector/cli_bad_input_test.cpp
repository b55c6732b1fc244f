// info, check and export on files that are not good traces: one line on stderr naming the
// file, a non-zero exit, nothing on stdout, no output file left behind.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "moeprof/cli/cli.h"
#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "temp_dir.h"

namespace moeprof::cli {
namespace {

void sql(const std::string& path, const std::string& statements) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &message), SQLITE_OK) << message;
  sqlite3_free(message);
  sqlite3_close(db);
}

// A finalised trace with enough rows to span many pages.
void write_trace(const std::string& path) {
  std::string error;
  auto writer = store::Writer::create(path, &error);
  ASSERT_TRUE(writer) << error;
  store::ProcessInfo process;
  process.pid = 1;
  process.rank = 0;
  writer->add_process(process);
  for (int step = 0; step < 400; ++step) {
    store::ExpertLoad load;
    load.rank = 0;
    load.step = step;
    load.counts.assign(64, uint32_t(step));
    writer->add_expert_load(load);
  }
  store::RunInfo run;
  run.command = "test";
  ASSERT_TRUE(writer->finalize(run, &error)) << error;
}

struct BadFile {
  const char* name;
  const char* expected;  // in the error line
};

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.file("text.db")) << "just some text, not a database\n";
    std::ofstream(dir_.file("empty.db"));
    sql(dir_.file("foreign.db"), "CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x');");
    write_trace(dir_.file("newer.db"));
    sql(dir_.file("newer.db"), "PRAGMA user_version = 999;");
    write_trace(dir_.file("good.db"));
    const auto size = std::filesystem::file_size(dir_.file("good.db"));
    std::filesystem::copy_file(dir_.file("good.db"), dir_.file("truncated.db"));
    ASSERT_EQ(::truncate(dir_.file("truncated.db").c_str(), off_t(size / 2)), 0);
  }
  testing::TempDir dir_;
};

TEST_F(BadInput, EveryCommandSaysWhatIsWrongInOneLine) {
  const std::vector<std::string> files = {"missing.db", "text.db",  "empty.db",
                                          "foreign.db", "newer.db", "truncated.db"};
  const std::vector<std::vector<std::string>> commands = {{"info"},
                                                          {"info", "--json"},
                                                          {"check"},
                                                          {"export", "--what", "expert-load"},
                                                          {"export", "--what", "a2a"},
                                                          {"export", "--what", "expert-load", "-o", "OUT"}};
  for (const std::string& file : files) {
    for (std::vector<std::string> args : commands) {
      const std::string path = dir_.file(file);
      args.insert(args.begin() + 1, path);
      for (auto& a : args)
        if (a == "OUT") a = dir_.file("out.csv");
      std::string joined;
      for (const auto& a : args) joined += a + " ";
      SCOPED_TRACE(joined);
      std::ostringstream out, err;
      const int code = main_entry(args, Io{out, err});
      EXPECT_NE(code, 0);
      const std::string e = err.str();
      EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 1) << e;
      EXPECT_EQ(e.rfind("moeprof: ", 0), 0u) << e;
      EXPECT_NE(e.find(path), std::string::npos) << "names the file: " << e;
      EXPECT_EQ(out.str().find("rank,"), std::string::npos) << "no CSV for a bad trace";
      struct stat st;
      EXPECT_NE(::stat(dir_.file("out.csv").c_str(), &st), 0) << "nothing written";
    }
  }
  // Nothing left behind by export -o (no temporary files either).
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_EQ(entry.path().filename().string().find("out.csv"), std::string::npos) << entry.path();
}

TEST_F(BadInput, ANewerTraceNamesItsVersion) {
  const auto error_of = [&](const std::string& file) {
    std::ostringstream out, err;
    main_entry(std::vector<std::string>{"info", dir_.file(file)}, Io{out, err});
    return err.str();
  };
  EXPECT_NE(error_of("newer.db").find("999"), std::string::npos) << error_of("newer.db");
}

TEST_F(BadInput, AGoodTraceChecksOk) {
  std::ostringstream out, err;
  EXPECT_EQ(main_entry(std::vector<std::string>{"check", dir_.file("good.db")}, Io{out, err}), 0) << err.str();
  EXPECT_EQ(out.str(), "OK: " + dir_.file("good.db") + " (schema v" + std::to_string(store::schema_version()) +
                           ", 401 rows)\n");
  EXPECT_TRUE(err.str().empty());
}

}  // namespace
}  // namespace moeprof::cli

// Scratch files for store tests: a private temporary directory, raw SQLite access for making
// files the store itself would never write, and small synth traces.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "../temp_dir.h"
#include "moeprof/synth/synth.h"

namespace moeprof::store::testing {

using moeprof::testing::TempDir;

// Runs SQL on a file with plain SQLite (read-write), outside the store.
inline void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr), SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  const std::string text = message ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << text;
}

// The first column of the first row of a query, as text ("" for no row or NULL).
inline std::string raw_query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW &&
        sqlite3_column_text(stmt, 0) != nullptr)
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// A small but complete synthetic trace: every row type synth writes.
inline synth::Options small_synth_options() {
  synth::Options o;
  o.shape = store::ModelShape{"tiny", 4, 16, 2, 1, 64};
  o.ranks = 4;
  o.steps = 6;
  o.tokens_per_rank = 64;
  o.zipf_skew = 1.0;
  o.seed = 7;
  o.routing = true;
  return o;
}

}  // namespace moeprof::store::testing

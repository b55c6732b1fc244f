// Reader internals shared by the queries (reader.cpp) and the integrity check (reader_check.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "moeprof/store/reader.h"
#include "moeprof/wire/codec.h"
#include "sqlite_handles.h"

namespace moeprof::store {

struct Reader::Impl {
  std::string path;
  detail::Db db;
  int version = 0;

  // Opens and validates the file; an empty string when it is a trace this build reads,
  // otherwise what is wrong (without the path).
  std::string open();

  // Throws Error "<path>: <what>: <SQLite's message>".
  [[noreturn]] void fail(std::string_view what) const;
  // Throws Error "<path>: <what>" for data that SQLite read but that makes no sense.
  [[noreturn]] void corrupt(std::string_view what) const;
  detail::Stmt prepare(const std::string& sql) const;
  // Advances `stmt`: true with a row, false when done; throws on an SQLite error.
  bool next(sqlite3_stmt* stmt, std::string_view what) const;
  // Runs a query that yields one integer (NULL gives nullopt).
  std::optional<int64_t> scalar(const std::string& sql) const;
};

namespace detail {

inline wire::ByteSpan column_blob(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  const int size = sqlite3_column_bytes(stmt, column);
  return {static_cast<const uint8_t*>(data), static_cast<size_t>(size)};
}

inline std::string column_text(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  return text ? std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, column)) : std::string();
}

}  // namespace detail
}  // namespace moeprof::store

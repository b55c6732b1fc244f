// Owning handles for SQLite connections and statements, shared by the writer and reader.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string_view>

namespace moeprof::store::detail {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

struct FinalizeStmt {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

// The meta row that marks a file as a moeprof trace.
inline constexpr std::string_view kFormatKey = "format";
inline constexpr std::string_view kFormatValue = "moeprof-trace";
// Meta rows `max_duration_ns.<table>` hold the longest span of that table, so a time-range
// query can bound its index scan from below (start_ns >= begin - max duration).
inline constexpr std::string_view kMaxDurationKeyPrefix = "max_duration_ns.";
// Meta rows `max_step_span.<table>` of the chunk tables hold the most steps one chunk spans
// (step_max - step_min), so a step-range query can bound its step_min index scan from below.
inline constexpr std::string_view kMaxStepSpanKeyPrefix = "max_step_span.";
// Meta rows `entries.<table>` of the chunk tables hold the events they hold (the sum of
// `entries`), so counting them reads no chunk.
inline constexpr std::string_view kEntriesKeyPrefix = "entries.";
// The capture sources events came from, as a bit mask (bit = wire::Source value).
inline constexpr std::string_view kCaptureSourcesKey = "capture_sources";
// Window summaries (schemas/trace.sql, "Summaries"): steps per window, and the window below
// which every window is summarised. Traces written without summaries have neither.
inline constexpr std::string_view kSummaryWindowStepsKey = "summary_window_steps";
inline constexpr std::string_view kSummariesCompleteBelowKey = "summaries_complete_below";

}  // namespace moeprof::store::detail

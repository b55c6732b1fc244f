// Reads a trace DB, always read-only. Every consumer (CLI, reports, GUI) goes through here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "moeprof/store/rows.h"

namespace moeprof::store {

// Restricts a query; unset fields mean "all". Fields a table does not have are ignored:
// markers have no layer, ranges and GPU kernels no step or layer, expert load and router
// decisions no time. (The {} initialisers let callers write Filter{.rank = 3} under
// -Wmissing-field-initializers.)
struct Filter {
  std::optional<int32_t> rank{};
  std::optional<int32_t> layer{};
  std::optional<int64_t> step_begin{};  // inclusive
  std::optional<int64_t> step_end{};    // exclusive
  std::optional<int64_t> time_begin_ns{};  // spans overlapping [time_begin, time_end)
  std::optional<int64_t> time_end_ns{};
};

struct TableCounts {
  int64_t processes = 0, steps = 0, expert_load = 0, expert_drops = 0, router_decisions = 0, all_to_all = 0,
          compute_spans = 0, markers = 0, ranges = 0, gpu_kernels = 0, placements = 0;
  uint64_t dropped = 0;  // sum of drop counts
};

// Thrown by Reader queries when SQLite fails or a stored blob does not decode (a corrupt
// file); what() is one line naming the file and the problem.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Window summaries of a trace (schemas/trace.sql, "Summaries").
struct SummaryInfo {
  int64_t window_steps = 0;    // steps per window
  int64_t complete_below = 0;  // every window below this one is summarised
};

class Reader {
 public:
  // Opens read-only and checks that this is a moeprof trace of a schema version this build
  // reads. nullptr and a one-line `error` naming the file and the problem otherwise.
  static std::unique_ptr<Reader> open(const std::string& path, std::string* error);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  int schema_version() const;
  const std::string& path() const;
  // Full integrity check (SQLite's integrity_check plus blob decoding); empty when fine.
  std::vector<std::string> check() const;

  RunInfo run() const;
  std::vector<ProcessInfo> processes() const;
  std::optional<ModelShape> model() const;
  std::vector<LayerPlacement> placements() const;
  TableCounts counts() const;
  std::vector<int32_t> ranks() const;
  std::optional<std::pair<int64_t, int64_t>> step_range() const;  // [min, max]

  std::vector<StepSpan> steps(const Filter& filter = {}) const;
  // The steps that hold expert load, ascending, once each. The filter's layer is not looked
  // at: one stored row holds every layer of a rank's step.
  std::vector<int64_t> expert_load_steps(const Filter& filter = {}) const;
  // Visitors stream rows without building big vectors: expert load and router decisions in
  // (step, layer, rank) order (the order of their step index), all-to-alls and compute spans
  // in (rank, start time) order; rows with equal keys in the order they were written.
  void for_each_expert_load(const Filter& filter, const std::function<void(const ExpertLoad&)>& fn) const;
  // Tokens dropped over capacity, same shape and order as expert load.
  void for_each_expert_drops(const Filter& filter, const std::function<void(const ExpertLoad&)>& fn) const;
  void for_each_router_decisions(const Filter& filter,
                                 const std::function<void(const RouterDecisionBatch&)>& fn) const;
  void for_each_all_to_all(const Filter& filter, const std::function<void(const AllToAllEvent&)>& fn) const;
  void for_each_compute_span(const Filter& filter, const std::function<void(const ComputeSpan&)>& fn) const;
  std::vector<Marker> markers(const Filter& filter = {}) const;
  std::vector<Range> ranges(const Filter& filter = {}) const;
  std::vector<GpuKernel> gpu_kernels(const Filter& filter = {}) const;
  std::vector<DropCount> drops() const;
  // The notes capture sources left (marks in wire::kNoteDomain), by rank, then time.
  std::vector<Note> notes() const;
  // Records per (process, capture source); nullopt for traces older than schema 4.
  std::optional<std::vector<RecordedCount>> recorded() const;
  // Per source, in source order: every source the trace noted (capture_sources), recorded
  // or dropped anything for, with its records and drops summed over the processes (records
  // unknown when no agent delivered any: older or synthetic traces).
  std::vector<SourceTally> source_tallies() const;
  // The capture sources the trace's events came from (api, mpi, nccl, ...), ascending;
  // nullopt for a trace written before they were noted.
  std::optional<std::vector<wire::Source>> capture_sources() const;
  // The trace's window summaries; nullopt when it was written without them.
  std::optional<SummaryInfo> summaries() const;
  // Summary rows of one kind for windows [window_begin, window_end), in (window, rank,
  // written) order.
  void for_each_summary(SummaryKind kind, int64_t window_begin, int64_t window_end,
                        const std::function<void(const SummaryRow&)>& fn) const;

  struct Impl;

 private:
  explicit Reader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The schema version this build writes and reads (PRAGMA user_version of trace.sql).
int schema_version();
// The embedded schemas/trace.sql.
std::string_view schema_sql();

}  // namespace moeprof::store

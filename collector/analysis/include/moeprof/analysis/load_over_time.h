// Expert load over time: a window's steps cut into at most N runs, each run's tokens per
// [layer][expert]. Up to N steps a run is one step (read from the rows); beyond, a run is a
// group of whole summary windows, read from their summaries (window_summary.h). The report's
// load-over-time chart and the viewer's expert x step heatmap are both this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/store/reader.h"

namespace moeprof::analysis {

// Where each step (with expert load) of a window falls: its run, and the earlier or later half
// of the window (the middle step of an odd count is in neither, as load_trend has it).
class StepRuns {
 public:
  StepRuns(std::vector<int64_t> steps, int64_t window_steps, size_t max_runs);

  const std::vector<int64_t>& steps() const { return steps_; }
  int64_t window_steps() const { return window_steps_; }
  size_t runs() const { return runs_; }
  bool per_step() const { return per_step_; }
  // Index of the first step at or after `step`.
  size_t index(int64_t step) const;
  size_t run_of_step(int64_t step) const;
  size_t run_of_window(int64_t window) const;
  bool earlier(size_t index) const { return index < half_; }
  bool later(size_t index) const { return index >= steps_.size() - half_; }
  // The steps [first, last] of a run.
  std::pair<int64_t, int64_t> run_steps(size_t run) const;

 private:
  std::vector<int64_t> steps_;
  int64_t window_steps_;
  std::vector<int64_t> windows_;  // distinct windows of the steps, ascending
  size_t half_ = 0, runs_ = 0;
  bool per_step_ = true;
};

struct LoadOverTime {
  std::vector<std::pair<int64_t, int64_t>> runs;  // [first, last] step of each run
  std::vector<ExpertLoadMatrix> load;             // per run, sized like expert_load_matrix
};

// The steps with expert load of all `filters`, ascending, once each. Throws store::Error.
std::vector<int64_t> expert_load_steps(const store::Reader& reader, std::span<const store::Filter> filters);

// Over the rows of all `filters` (one per rank of a selection, or one for all; they share their
// step bounds and layer), in at most `max_runs` runs, or in the given runs of those filters'
// steps (whose windows must be the trace's to read summaries). Throws store::Error.
LoadOverTime load_over_time(const store::Reader& reader, std::span<const store::Filter> filters, size_t max_runs);
LoadOverTime load_over_time(const store::Reader& reader, std::span<const store::Filter> filters, const StepRuns& runs);

}  // namespace moeprof::analysis

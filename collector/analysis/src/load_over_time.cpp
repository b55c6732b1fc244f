#include "moeprof/analysis/load_over_time.h"

#include <algorithm>
#include <set>

#include "moeprof/analysis/window_summary.h"

namespace moeprof::analysis {

StepRuns::StepRuns(std::vector<int64_t> steps, int64_t window_steps, size_t max_runs)
    : steps_(std::move(steps)), window_steps_(window_steps) {
  half_ = steps_.size() / 2;
  per_step_ = steps_.size() <= max_runs;
  for (int64_t step : steps_) {
    const int64_t w = window_of(step, window_steps_);
    if (windows_.empty() || windows_.back() != w) windows_.push_back(w);
  }
  runs_ = per_step_ ? steps_.size() : std::min(windows_.size(), max_runs);
}

size_t StepRuns::index(int64_t step) const {
  return static_cast<size_t>(std::lower_bound(steps_.begin(), steps_.end(), step) - steps_.begin());
}

size_t StepRuns::run_of_step(int64_t step) const {
  return per_step_ ? index(step) : run_of_window(window_of(step, window_steps_));
}

size_t StepRuns::run_of_window(int64_t window) const {
  const auto i = static_cast<size_t>(std::lower_bound(windows_.begin(), windows_.end(), window) - windows_.begin());
  return i * runs_ / windows_.size();
}

std::pair<int64_t, int64_t> StepRuns::run_steps(size_t run) const {
  if (per_step_) return {steps_[run], steps_[run]};
  const size_t first_window = (run * windows_.size() + runs_ - 1) / runs_;
  const size_t end_window = ((run + 1) * windows_.size() + runs_ - 1) / runs_;
  const size_t first = index(windows_[first_window] * window_steps_);
  const size_t end = index((windows_[end_window - 1] + 1) * window_steps_);
  return {steps_[first], steps_[end - 1]};
}

std::vector<int64_t> expert_load_steps(const store::Reader& reader, std::span<const store::Filter> filters) {
  std::vector<int64_t> steps;
  for (const store::Filter& f : filters) {
    const std::vector<int64_t> s = reader.expert_load_steps(f);
    steps.insert(steps.end(), s.begin(), s.end());
  }
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  return steps;
}

LoadOverTime load_over_time(const store::Reader& reader, std::span<const store::Filter> filters, size_t max_runs) {
  if (filters.empty()) return {};
  const int64_t window_steps =
      summary_cover(reader, filters.front().step_begin, filters.front().step_end).window_steps;
  return load_over_time(reader, filters, StepRuns(expert_load_steps(reader, filters), window_steps, max_runs));
}

LoadOverTime load_over_time(const store::Reader& reader, std::span<const store::Filter> filters, const StepRuns& runs) {
  if (filters.empty()) return {};
  // All filters share their step bounds and layer (they differ in rank only).
  const store::Filter& range = filters.front();
  SummaryCover cover = summary_cover(reader, range.step_begin, range.step_end);
  // A run per step, or runs of other windows than the trace's: rows only.
  if (runs.per_step() || runs.window_steps() != cover.window_steps) cover.end_window = cover.first_window;

  LoadOverTime out;
  out.load.resize(runs.runs());
  if (const auto model = reader.model())
    for (ExpertLoadMatrix& m : out.load) m.resize(std::max(model->num_layers, 0), std::max(model->num_experts, 0));
  std::set<int32_t> ranks;  // empty: all
  for (const store::Filter& f : filters) {
    if (!f.rank) {
      ranks.clear();
      break;
    }
    ranks.insert(*f.rank);
  }
  for (const store::Filter& filter : filters)
    for (const store::Filter& f : cover.uncovered(filter))
      reader.for_each_expert_load(f, [&](const store::ExpertLoad& l) { out.load[runs.run_of_step(l.step)].add(l.layer, l.counts); });
  for_each_counts_summary(reader, store::SummaryKind::kExpertLoad, cover,
                          [&](const store::SummaryRow& row, const std::vector<LayerCounts>& layers) {
                            if (!ranks.empty() && !ranks.contains(row.rank)) return;
                            ExpertLoadMatrix& m = out.load[runs.run_of_window(row.window)];
                            for (const LayerCounts& l : layers)
                              if (!range.layer || l.layer == *range.layer) m.add(l.layer, l.counts);
                          });
  for (size_t r = 0; r < runs.runs(); ++r) out.runs.push_back(runs.run_steps(r));
  return out;
}

}  // namespace moeprof::analysis

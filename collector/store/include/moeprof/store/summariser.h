// The writer's hook for window summaries (schemas/trace.sql, "Summaries"). The store only
// stores summary rows; what they hold is computed by collector/analysis, which implements
// this interface, so every metric keeps one implementation.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "moeprof/store/rows.h"

namespace moeprof::store {

class Summariser {
 public:
  virtual ~Summariser() = default;
  // Steps per window; fixed for the life of the writer.
  virtual int64_t window_steps() const = 0;
  // Every row the writer stores passes through here, in the order it was written.
  virtual void add_expert_load(const ExpertLoad& load) = 0;
  virtual void add_expert_drops(const ExpertLoad& dropped) = 0;
  virtual void add_all_to_all(const AllToAllEvent& event) = 0;
  virtual void add_compute_span(const ComputeSpan& span) = 0;
  virtual void add_step(const StepSpan& step) = 0;
  // Appends the rows of the windows that are complete (of every window when `all`) to
  // `out` and forgets them; returns the lowest window still open, INT64_MAX when none is.
  virtual int64_t take(bool all, std::vector<SummaryRow>* out) = 0;
};

// Runs `inner` on a thread of its own: the caller's thread only copies each row into a batch
// (about what writing it costs) and take() waits until every row given so far is summarised.
std::unique_ptr<Summariser> in_background(std::unique_ptr<Summariser> inner);

}  // namespace moeprof::store

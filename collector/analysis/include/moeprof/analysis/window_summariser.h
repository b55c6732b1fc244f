// The summariser the trace writers (`moeprof run`'s collector, `moeprof synth`) hand to
// store::Writer: it computes each window's summaries (window_summary.h) from the rows as
// they are stored, with the same analysis code that reads rows back.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moeprof/analysis/window_summary.h"
#include "moeprof/store/summariser.h"

namespace moeprof::analysis {

// A rank's window is complete once that rank has sent rows two windows further on (data of
// a step can trail the next step's a little); a window of all ranks once every rank seen so
// far has, or once kMaxOpenWindows newer windows are open (a rank that stopped sending).
// Rows that arrive for a window already summarised make a second row of it.
inline constexpr int64_t kMaxOpenWindows = 8;

std::unique_ptr<store::Summariser> make_window_summariser(int64_t window_steps = kSummaryWindowSteps);

// Recomputes every summarised window's summaries from the rows and compares them with the
// stored ones; one line per window and kind that disagrees (empty when all agree, or the
// trace has no summaries). Windows holding late second rows are compared where rows add up
// (load, drops, capacity, all-to-all stats, volume), not for overlap and stragglers (readers
// do not use those there). A full pass over the trace. Throws store::Error.
std::vector<std::string> check_summaries(const store::Reader& reader);

}  // namespace moeprof::analysis

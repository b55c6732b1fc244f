// The summariser the trace writers (`moeprof run`'s collector, `moeprof synth`) hand to
// store::Writer: it computes each window's summaries (window_summary.h) from the rows as
// they are stored, with the same analysis code that reads rows back.
#pragma once

#include <cstdint>
#include <memory>

#include "moeprof/analysis/window_summary.h"
#include "moeprof/store/summariser.h"

namespace moeprof::analysis {

// A rank's window is complete once that rank has sent rows two windows further on (data of
// a step can trail the next step's a little); a window of all ranks once every rank seen so
// far has, or once kMaxOpenWindows newer windows are open (a rank that stopped sending).
// Rows that arrive for a window already summarised make a second row of it.
inline constexpr int64_t kMaxOpenWindows = 8;

std::unique_ptr<store::Summariser> make_window_summariser(int64_t window_steps = kSummaryWindowSteps);

}  // namespace moeprof::analysis

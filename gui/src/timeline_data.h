// What the per-rank timeline shows: each rank's compute and all-to-all spans, its step
// starts, and where its communication overlaps compute (the intersection of the two unions,
// as analysis::compute_overlap measures it). Loaded off the UI thread for a step range; a
// range holding more than a span budget is cut at a step boundary, so memory and paint time
// stay bounded on a 10k-step trace.
#pragma once

#include <QMetaType>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moeprof/analysis/comm_intervals.h"
#include "moeprof/store/reader.h"
#include "trace_queries.h"

namespace moeprof::gui {

struct TimelineSpan {
  int64_t start_ns = 0, end_ns = 0;
  int64_t step = 0;
  // All-to-all: bytes this rank sent. Compute: index into Timeline::names (-1: unnamed).
  int64_t detail = 0;
  int32_t layer = 0;
  uint8_t kind = 0;  // wire::ComputeKind of a compute span, wire::Phase of an all-to-all
};

// One lane's spans, in start order; they may overlap (several threads of a rank).
struct TimelineLane {
  std::vector<TimelineSpan> spans;
  int64_t longest_ns = 0;  // bounds the search for the spans visible at a time
};

struct RankTimeline {
  int32_t rank = -1;
  TimelineLane compute, comm;
  std::vector<analysis::Interval> overlap;  // comm ∩ compute, merged
  std::vector<std::pair<int64_t, int64_t>> step_starts;  // (step, start_ns), in time order
};

struct Timeline {
  LoadSelection selection;
  std::optional<std::pair<int64_t, int64_t>> steps;  // [first, last] step shown
  bool cut = false;  // the selection held more than the span budget: its later steps are left out
  int64_t begin_ns = 0, end_ns = 0;  // bounds of every span shown
  size_t span_count = 0;
  std::vector<RankTimeline> ranks;  // in rank order
  std::vector<std::string> names;   // compute span names
};
using TimelinePtr = std::shared_ptr<const Timeline>;

// At most this many spans are loaded for one timeline (about 40 MB).
inline constexpr size_t kTimelineSpanBudget = 1'000'000;

// The timeline of a selection (steps, one rank or all), cut after the step at which
// `span_budget` spans are reached. Throws store::Error on a corrupt trace.
TimelinePtr load_timeline(const store::Reader& reader, const LoadSelection& selection,
                          size_t span_budget = kTimelineSpanBudget);

}  // namespace moeprof::gui

Q_DECLARE_METATYPE(moeprof::gui::TimelinePtr)

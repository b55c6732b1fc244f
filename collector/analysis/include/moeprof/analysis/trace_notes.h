// What a user should know about a trace that its rows do not say: the notes capture sources
// left in it (a model they could not read, a hook that turned itself off), and what it means
// when nothing, or nothing MoE, was recorded. One place for `moeprof info` and the viewer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "moeprof/store/reader.h"

namespace moeprof::analysis {

struct TraceNote {
  std::optional<int32_t> rank;         // the rank that left it; none for the trace's own
  std::optional<wire::Source> source;  // the capture source that left it
  std::string text;
  bool operator==(const TraceNote&) const = default;
};

// The notes of `reader`'s trace: the trace's own first, then the sources', by rank and time.
std::vector<TraceNote> trace_notes(const store::Reader& reader);

}  // namespace moeprof::analysis

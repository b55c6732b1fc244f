// Window summaries (schemas/trace.sql, "Summaries"): analysis results of one window of
// consecutive steps, stored by the writer next to the rows they summarise, so that a report
// or a view over thousands of steps reads a few rows per window instead of every event.
// This header holds what a summary row holds, and the codec of its `data`.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "moeprof/analysis/capacity.h"
#include "moeprof/analysis/comm_alltoall.h"
#include "moeprof/analysis/comm_overlap.h"
#include "moeprof/analysis/comm_stragglers.h"
#include "moeprof/store/reader.h"
#include "moeprof/wire/codec.h"

namespace moeprof::analysis {

// Steps per window of the traces moeprof writes: small enough that a report's edges and the
// load-over-time chart stay fine-grained, large enough that a 10k-step trace has ~300 windows.
inline constexpr int64_t kSummaryWindowSteps = 32;

// The window holding `step` (rounding down, also for negative steps).
int64_t window_of(int64_t step, int64_t window_steps);

// Tokens per expert of one layer, summed over a window's expert-load (or drops) entries.
struct LayerCounts {
  int32_t layer = 0;
  std::vector<uint64_t> counts;
  bool operator==(const LayerCounts&) const = default;
};

// Bytes one rank sent to each peer, per layer and phase: (layer, phase, peer) -> bytes.
using PeerVolume = std::map<std::tuple<int32_t, wire::Phase, int32_t>, uint64_t>;

// One rank's overlap over one window, and the time its spans (all-to-all, compute, steps)
// cover: windows whose spans do not overlap in time add up exactly.
struct WindowOverlap {
  int64_t first_start_ns = std::numeric_limits<int64_t>::max();
  int64_t last_end_ns = std::numeric_limits<int64_t>::min();
  RankOverlap overlap;
};

// Which windows of a step range a trace's summaries answer: [first_window, end_window),
// whole windows inside the range and below the trace's summaries_complete_below. The steps
// outside them are read from the rows.
struct SummaryCover {
  int64_t window_steps = kSummaryWindowSteps;  // the trace's, or the default without summaries
  int64_t first_window = 0, end_window = 0;    // empty when first_window >= end_window
  int64_t first_step = 0, last_step = 0;       // the trace's steps (when not empty)
  bool empty() const { return first_window >= end_window; }
  // The filters for the rest of `range` (its step bounds split around the covered windows;
  // its other fields kept): the whole range when nothing is covered.
  std::vector<store::Filter> uncovered(const store::Filter& range) const;
};
// Throws store::Error (a corrupt file).
SummaryCover summary_cover(const store::Reader& reader, std::optional<int64_t> step_begin,
                           std::optional<int64_t> step_end);

// Throws store::Error naming the file and the row unless `decoded` (a corrupt summary).
void check_decoded(bool decoded, const store::Reader& reader, const store::SummaryRow& row);
// The expert-load or expert-drops summaries of the cover's windows, decoded, in (window, rank)
// order. Throws store::Error.
void for_each_counts_summary(const store::Reader& reader, store::SummaryKind kind, const SummaryCover& cover,
                             const std::function<void(const store::SummaryRow&, const std::vector<LayerCounts>&)>& fn);
// Adds the all-to-all volume summaries of the cover's windows to `volume` (its phase filter
// applies), keeping the (rank, layer) entries `keep` accepts. Throws store::Error.
void add_volume_summaries(const store::Reader& reader, const SummaryCover& cover,
                          const std::function<bool(int32_t rank, int32_t layer)>& keep, VolumeMatrixAccumulator* volume);

// Encoders and decoders of the summary kinds; a decoder returns false on malformed data and
// adds what it decodes to its output (several rows of a window add up).
namespace summary_codec {
wire::Bytes encode_counts(const std::vector<LayerCounts>& layers);
bool decode_counts(wire::ByteSpan data, std::vector<LayerCounts>* layers);
wire::Bytes encode_capacity(const std::map<int32_t, CapacityCurve>& layers);
bool decode_capacity(wire::ByteSpan data, std::map<int32_t, CapacityCurve>* layers);
wire::Bytes encode_all_to_all(const std::vector<AllToAllStats>& stats);
bool decode_all_to_all(wire::ByteSpan data, AllToAllStatsAccumulator* stats);
wire::Bytes encode_overlap(const WindowOverlap& overlap);
bool decode_overlap(wire::ByteSpan data, WindowOverlap* overlap);  // replaces, does not add
wire::Bytes encode_stragglers(const Stragglers& stragglers);
bool decode_stragglers(wire::ByteSpan data, Stragglers* stragglers);
wire::Bytes encode_volume(const PeerVolume& volume);
bool decode_volume(wire::ByteSpan data, PeerVolume* volume);
}  // namespace summary_codec

}  // namespace moeprof::analysis

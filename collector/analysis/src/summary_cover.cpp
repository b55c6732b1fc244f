#include <algorithm>

#include "moeprof/analysis/window_summary.h"

namespace moeprof::analysis {

std::vector<store::Filter> SummaryCover::uncovered(const store::Filter& range) const {
  if (empty()) return {range};
  std::vector<store::Filter> out;
  const int64_t covered_begin = first_window * window_steps, covered_end = end_window * window_steps;
  // Nothing to read on a side where the trace has no steps (an unbounded side would
  // otherwise scan tables that have no step index).
  if (range.step_begin.value_or(first_step) < covered_begin) {
    store::Filter before = range;
    before.step_end = covered_begin;
    out.push_back(before);
  }
  if (range.step_end.value_or(last_step + 1) > covered_end) {
    store::Filter after = range;
    after.step_begin = covered_end;
    out.push_back(after);
  }
  return out;
}

SummaryCover summary_cover(const store::Reader& reader, std::optional<int64_t> step_begin,
                           std::optional<int64_t> step_end) {
  SummaryCover cover;
  const std::optional<store::SummaryInfo> info = reader.summaries();
  if (!info) return cover;
  cover.window_steps = info->window_steps;
  const auto steps = reader.step_range();
  if (!steps) return cover;
  // Unbounded sides reach to the edges of the trace's first and last windows (and bounds
  // beyond them change nothing).
  const int64_t w = info->window_steps;
  cover.first_step = steps->first;
  cover.last_step = steps->second;
  const int64_t lowest = window_of(steps->first, w) * w, highest = (window_of(steps->second, w) + 1) * w;
  const int64_t begin = std::max(step_begin.value_or(lowest), lowest);
  const int64_t end = std::min(step_end.value_or(highest), highest);
  if (begin >= end) return cover;
  // Whole windows only: round the begin up and the end down to window boundaries.
  cover.first_window = window_of(begin - 1, w) + 1;
  cover.end_window = std::min(window_of(end, w), info->complete_below);
  return cover;
}

void check_decoded(bool decoded, const store::Reader& reader, const store::SummaryRow& row) {
  if (!decoded)
    throw store::Error(reader.path() + ": corrupt summary row (kind " + std::to_string(static_cast<int>(row.kind)) +
                       ", rank " + std::to_string(row.rank) + ", window " + std::to_string(row.window) +
                       "): its data does not decode");
}

void for_each_counts_summary(const store::Reader& reader, store::SummaryKind kind, const SummaryCover& cover,
                             const std::function<void(const store::SummaryRow&, const std::vector<LayerCounts>&)>& fn) {
  if (cover.empty()) return;
  std::vector<LayerCounts> layers;
  reader.for_each_summary(kind, cover.first_window, cover.end_window, [&](const store::SummaryRow& row) {
    layers.clear();
    check_decoded(summary_codec::decode_counts(row.data, &layers), reader, row);
    fn(row, layers);
  });
}

void add_volume_summaries(const store::Reader& reader, const SummaryCover& cover,
                          const std::function<bool(int32_t rank, int32_t layer)>& keep, VolumeMatrixAccumulator* volume) {
  if (cover.empty()) return;
  PeerVolume decoded;
  reader.for_each_summary(store::SummaryKind::kVolume, cover.first_window, cover.end_window,
                          [&](const store::SummaryRow& row) {
                            decoded.clear();
                            check_decoded(summary_codec::decode_volume(row.data, &decoded), reader, row);
                            for (const auto& [key, bytes] : decoded) {
                              const auto& [layer, phase, peer] = key;
                              if (keep(row.rank, layer)) volume->add(row.rank, peer, phase, bytes);
                            }
                          });
}

}  // namespace moeprof::analysis

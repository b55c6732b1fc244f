#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "moeprof/analysis/window_summariser.h"

namespace moeprof::analysis {
namespace {

using store::SummaryKind;

// A window's rows of one kind and rank, added up, in a form that compares.
struct Decoded {
  int rows = 0;
  std::map<int32_t, std::vector<uint64_t>> counts;  // expert load, drops
  std::map<int32_t, CapacityCurve> capacity;
  AllToAllStatsAccumulator all_to_all;
  PeerVolume volume;
  WindowOverlap overlap;
  Stragglers stragglers;
};

void decode_into(const store::Reader& reader, const store::SummaryRow& row, Decoded* d) {
  ++d->rows;
  std::vector<LayerCounts> layers;
  switch (row.kind) {
    case SummaryKind::kExpertLoad:
    case SummaryKind::kExpertDrops:
      check_decoded(summary_codec::decode_counts(row.data, &layers), reader, row);
      for (const LayerCounts& l : layers) {
        std::vector<uint64_t>& sum = d->counts[l.layer];
        sum.resize(std::max(sum.size(), l.counts.size()), 0);
        for (size_t e = 0; e < l.counts.size(); ++e) sum[e] += l.counts[e];
      }
      break;
    case SummaryKind::kCapacity:
      check_decoded(summary_codec::decode_capacity(row.data, &d->capacity), reader, row);
      break;
    case SummaryKind::kAllToAll:
      check_decoded(summary_codec::decode_all_to_all(row.data, &d->all_to_all), reader, row);
      break;
    case SummaryKind::kOverlap:
      check_decoded(summary_codec::decode_overlap(row.data, &d->overlap), reader, row);
      break;
    case SummaryKind::kStragglers:
      check_decoded(summary_codec::decode_stragglers(row.data, &d->stragglers), reader, row);
      break;
    case SummaryKind::kVolume:
      check_decoded(summary_codec::decode_volume(row.data, &d->volume), reader, row);
      break;
  }
}

bool same_curves(const std::map<int32_t, CapacityCurve>& a, const std::map<int32_t, CapacityCurve>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [layer, curve] : a) {
    const auto it = b.find(layer);
    if (it == b.end()) return false;
    const auto x = curve.bins(), y = it->second.bins();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)  // weights are sums of doubles: the order of adding may differ
      if (x[i].index != y[i].index || x[i].tokens != y[i].tokens ||
          std::abs(x[i].weight - y[i].weight) > 1e-9 * std::max(1.0, std::abs(y[i].weight)))
        return false;
  }
  return true;
}

bool same_overlap(const RankOverlap& a, const RankOverlap& b) {
  if (!(a.total == b.total) || a.layers.size() != b.layers.size()) return false;
  for (size_t i = 0; i < a.layers.size(); ++i)
    if (a.layers[i].layer != b.layers[i].layer || !(a.layers[i].stats == b.layers[i].stats)) return false;
  return true;
}

// Whether the stored rows say what the rows recompute to.
bool agrees(SummaryKind kind, const Decoded& stored, const Decoded& fresh) {
  switch (kind) {
    case SummaryKind::kExpertLoad:
    case SummaryKind::kExpertDrops:
      return stored.counts == fresh.counts;
    case SummaryKind::kCapacity:
      return same_curves(stored.capacity, fresh.capacity);
    case SummaryKind::kAllToAll:
      return stored.all_to_all.finish() == fresh.all_to_all.finish();
    case SummaryKind::kVolume:
      return stored.volume == fresh.volume;
    case SummaryKind::kOverlap:  // a late second row: readers use rows instead
      return stored.rows > 1 || (stored.overlap.first_start_ns == fresh.overlap.first_start_ns &&
                                 stored.overlap.last_end_ns == fresh.overlap.last_end_ns &&
                                 same_overlap(stored.overlap.overlap, fresh.overlap.overlap));
    case SummaryKind::kStragglers:
      return stored.rows > 1 || stored.stragglers == fresh.stragglers;
  }
  return false;
}

constexpr SummaryKind kKinds[] = {SummaryKind::kExpertLoad, SummaryKind::kExpertDrops, SummaryKind::kCapacity,
                                  SummaryKind::kAllToAll,   SummaryKind::kOverlap,     SummaryKind::kStragglers,
                                  SummaryKind::kVolume};

}  // namespace

std::vector<std::string> check_summaries(const store::Reader& reader) {
  std::vector<std::string> problems;
  const std::optional<store::SummaryInfo> info = reader.summaries();
  const auto steps = reader.step_range();
  if (!info || !steps) return problems;
  const int64_t w_steps = info->window_steps;
  const int64_t first = window_of(steps->first, w_steps);
  const int64_t end = std::min(window_of(steps->second, w_steps) + 1, info->complete_below);
  for (int64_t w = first; w < end; ++w) {
    // The window's rows through a fresh summariser, as the writer saw them.
    auto summariser = make_window_summariser(w_steps);
    store::Filter f;
    f.step_begin = w * w_steps;
    f.step_end = (w + 1) * w_steps;
    reader.for_each_expert_load(f, [&](const store::ExpertLoad& l) { summariser->add_expert_load(l); });
    reader.for_each_expert_drops(f, [&](const store::ExpertLoad& l) { summariser->add_expert_drops(l); });
    reader.for_each_all_to_all(f, [&](const store::AllToAllEvent& e) { summariser->add_all_to_all(e); });
    reader.for_each_compute_span(f, [&](const store::ComputeSpan& s) { summariser->add_compute_span(s); });
    for (const store::StepSpan& s : reader.steps(f)) summariser->add_step(s);
    std::vector<store::SummaryRow> rows;
    summariser->take(true, &rows);
    std::map<std::pair<SummaryKind, int32_t>, Decoded> fresh, stored;
    for (const store::SummaryRow& r : rows) decode_into(reader, r, &fresh[{r.kind, r.rank}]);
    for (SummaryKind kind : kKinds)
      reader.for_each_summary(kind, w, w + 1,
                              [&](const store::SummaryRow& r) { decode_into(reader, r, &stored[{r.kind, r.rank}]); });
    std::set<std::pair<SummaryKind, int32_t>> keys;
    for (const auto& [key, d] : fresh) keys.insert(key);
    for (const auto& [key, d] : stored) keys.insert(key);
    for (const auto& key : keys) {
      const auto [kind, rank] = key;
      if (agrees(kind, stored[key], fresh[key])) continue;
      problems.push_back("summary of window " + std::to_string(w) + " (steps " + std::to_string(w * w_steps) + " to " +
                         std::to_string((w + 1) * w_steps - 1) + "), kind " + std::to_string(static_cast<int>(kind)) +
                         ", rank " + std::to_string(rank) + ", disagrees with the rows");
    }
  }
  return problems;
}

}  // namespace moeprof::analysis

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "moeprof/analysis/capacity.h"
#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/analysis/load_over_time.h"
#include "moeprof/analysis/placement_suggestion.h"
#include "moeprof/analysis/rank_load.h"
#include "moeprof/analysis/window_summary.h"
#include "moeprof/models/presets.h"
#include "moeprof/report/report.h"

namespace moeprof::report {
namespace {

// One filter per selected rank (the store filters one rank at a time), all with the window.
std::vector<store::Filter> window_filters(const Options& o) {
  store::Filter base;
  base.step_begin = o.step_begin;
  base.step_end = o.step_end;
  if (o.ranks.empty()) return {base};
  std::vector<store::Filter> out;
  for (int32_t rank : std::set<int32_t>(o.ranks.begin(), o.ranks.end())) {
    store::Filter f = base;
    f.rank = rank;
    out.push_back(f);
  }
  return out;
}

// Expert load, drops and capacity over the window, also per half.
struct LoadPass {
  analysis::ExpertLoadMatrix load, drops, earlier, later;
  std::map<int32_t, analysis::CapacityCurve> layer_capacity;
};

// All-to-all statistics, overlap and stragglers over the window.
struct CommPass {
  analysis::AllToAllStatsAccumulator all_to_all;
  analysis::VolumeMatrixAccumulator dispatch_volume{wire::Phase::kDispatch};
  std::vector<analysis::RankOverlap> overlap;
  analysis::Stragglers stragglers;
};

// Reads expert load, drops and capacity: whole summarised windows from their summaries
// (unless `cover` is empty), the rest from the rows.
LoadPass load_pass(const store::Reader& reader, const std::vector<store::Filter>& filters,
                   const analysis::SummaryCover& cover, const analysis::StepRuns& layout,
                   const std::function<bool(int32_t)>& selected, const std::optional<store::ModelShape>& model) {
  LoadPass p;
  if (model)
    for (analysis::ExpertLoadMatrix* m : {&p.load, &p.drops, &p.earlier, &p.later}) m->resize(model->num_layers, model->num_experts);
  // One step's rows (of the rows read directly, or of a window split between the halves).
  const auto add_to_halves = [&](const store::ExpertLoad& l) {
    const size_t index = layout.index(l.step);
    if (layout.earlier(index)) p.earlier.add(l.layer, l.counts);
    if (layout.later(index)) p.later.add(l.layer, l.counts);
  };
  for (const store::Filter& range : filters)
    for (const store::Filter& f : cover.uncovered(range)) {
      reader.for_each_expert_load(f, [&](const store::ExpertLoad& l) {
        if (!selected(l.layer) || l.layer < 0) return;
        p.load.add(l.layer, l.counts);
        p.layer_capacity[l.layer].add_batch(l.counts);
        add_to_halves(l);
      });
      reader.for_each_expert_drops(f, [&](const store::ExpertLoad& l) {
        if (selected(l.layer) && l.layer >= 0) p.drops.add(l.layer, l.counts);
      });
    }
  if (cover.empty()) return p;

  const int64_t w_steps = cover.window_steps;
  std::set<int64_t> split;  // windows with steps in both halves, or in one and the middle
  analysis::for_each_counts_summary(
      reader, store::SummaryKind::kExpertLoad, cover,
      [&](const store::SummaryRow& row, const std::vector<analysis::LayerCounts>& layers) {
        const size_t first = layout.index(row.window * w_steps);
        const size_t end = layout.index((row.window + 1) * w_steps);
        if (first == end) return;  // no steps with load (cannot be: the summary came from them)
        const bool earlier = layout.earlier(end - 1), later = layout.later(first);
        if (!earlier && !later && (layout.earlier(first) || layout.later(end - 1))) split.insert(row.window);
        for (const analysis::LayerCounts& l : layers) {
          if (!selected(l.layer) || l.layer < 0) continue;
          p.load.add(l.layer, l.counts);
          if (earlier) p.earlier.add(l.layer, l.counts);
          if (later) p.later.add(l.layer, l.counts);
        }
      });
  for (int64_t w : split) {
    store::Filter f;
    f.step_begin = w * w_steps;
    f.step_end = (w + 1) * w_steps;
    reader.for_each_expert_load(f, [&](const store::ExpertLoad& l) {
      if (selected(l.layer) && l.layer >= 0) add_to_halves(l);
    });
  }
  analysis::for_each_counts_summary(reader, store::SummaryKind::kExpertDrops, cover,
                                    [&](const store::SummaryRow&, const std::vector<analysis::LayerCounts>& layers) {
                                      for (const analysis::LayerCounts& l : layers)
                                        if (selected(l.layer) && l.layer >= 0) p.drops.add(l.layer, l.counts);
                                    });
  std::map<int32_t, analysis::CapacityCurve> curves;
  reader.for_each_summary(store::SummaryKind::kCapacity, cover.first_window, cover.end_window,
                          [&](const store::SummaryRow& row) {
                            analysis::check_decoded(analysis::summary_codec::decode_capacity(row.data, &curves), reader, row);
                          });
  for (const auto& [layer, curve] : curves)
    if (selected(layer) && layer >= 0) p.layer_capacity[layer].merge(curve);
  return p;
}

// One rank's part of the window's time: a summarised window, or the rows read directly.
struct TimePiece {
  int64_t first_start_ns, last_end_ns;
};

// Reads all-to-alls, compute spans and steps: whole summarised windows from their summaries
// (unless `cover` is empty), the rest from the rows. Empty when the pieces of a rank overlap
// in time, so that their overlap does not add up: the caller then reads everything.
std::optional<CommPass> comm_pass(const store::Reader& reader, const std::vector<store::Filter>& filters,
                                  const analysis::SummaryCover& cover,
                                  const std::function<bool(int32_t)>& selected) {
  CommPass p;
  std::map<int32_t, analysis::RankOverlap> by_rank;
  std::map<int32_t, std::vector<TimePiece>> pieces;
  bool adds_up = true;
  if (!cover.empty()) {
    std::set<std::pair<int32_t, int64_t>> seen;
    analysis::WindowOverlap part;
    reader.for_each_summary(store::SummaryKind::kOverlap, cover.first_window, cover.end_window,
                            [&](const store::SummaryRow& row) {
                              analysis::check_decoded(analysis::summary_codec::decode_overlap(row.data, &part), reader, row);
                              if (!seen.insert({row.rank, row.window}).second) adds_up = false;  // a late second row
                              pieces[row.rank].push_back({part.first_start_ns, part.last_end_ns});
                              part.overlap.rank = row.rank;
                              auto [it, inserted] = by_rank.try_emplace(row.rank, part.overlap);
                              if (!inserted) it->second.merge(part.overlap);
                            });
    std::set<int64_t> straggler_windows;
    reader.for_each_summary(store::SummaryKind::kStragglers, cover.first_window, cover.end_window,
                            [&](const store::SummaryRow& row) {
                              analysis::check_decoded(analysis::summary_codec::decode_stragglers(row.data, &p.stragglers), reader, row);
                              if (!straggler_windows.insert(row.window).second) adds_up = false;
                            });
    reader.for_each_summary(store::SummaryKind::kAllToAll, cover.first_window, cover.end_window,
                            [&](const store::SummaryRow& row) {
                              analysis::check_decoded(analysis::summary_codec::decode_all_to_all(row.data, &p.all_to_all), reader, row);
                            });
    analysis::add_volume_summaries(
        reader, cover, [&](int32_t, int32_t layer) { return selected(layer); }, &p.dispatch_volume);
    if (!adds_up) return std::nullopt;
  }

  // The rest, one piece per rank per range read.
  std::vector<store::AllToAllEvent> arrivals;  // without peer bytes: only their starts matter
  for (const store::Filter& range : filters)
    for (const store::Filter& f : cover.uncovered(range)) {
      analysis::OverlapAccumulator overlap;
      std::map<int32_t, TimePiece> bounds;
      const auto note = [&](int32_t rank, int64_t start_ns, int64_t end_ns) {
        auto [it, inserted] = bounds.try_emplace(rank, TimePiece{start_ns, end_ns});
        it->second.first_start_ns = std::min(it->second.first_start_ns, start_ns);
        it->second.last_end_ns = std::max(it->second.last_end_ns, end_ns);
      };
      reader.for_each_all_to_all(f, [&](const store::AllToAllEvent& e) {
        if (!selected(e.layer)) return;
        p.all_to_all.add(e);
        p.dispatch_volume.add(e);
        overlap.add(e);
        note(e.rank, e.start_ns, e.end_ns);
        arrivals.push_back(analysis::without_peers(e));
      });
      reader.for_each_compute_span(f, [&](const store::ComputeSpan& s) {
        if (!selected(s.layer)) return;
        overlap.add(s);
        note(s.rank, s.start_ns, s.end_ns);
      });
      for (const store::StepSpan& s : reader.steps(f)) {
        overlap.add(s);
        note(s.rank, s.start_ns, s.end_ns);
      }
      for (const analysis::RankOverlap& r : overlap.finish()) {
        auto [it, inserted] = by_rank.try_emplace(r.rank, r);
        if (!inserted) it->second.merge(r);
      }
      for (const auto& [rank, piece] : bounds) pieces[rank].push_back(piece);
    }
  p.stragglers.merge(analysis::find_stragglers(arrivals));

  // Unions of pieces add up only where the pieces do not overlap in time.
  for (auto& [rank, list] : pieces) {
    std::sort(list.begin(), list.end(),
              [](const TimePiece& a, const TimePiece& b) { return a.first_start_ns < b.first_start_ns; });
    int64_t reached = std::numeric_limits<int64_t>::min();
    for (const TimePiece& piece : list) {
      if (piece.first_start_ns < reached) return std::nullopt;
      reached = std::max(reached, piece.last_end_ns);
    }
  }
  for (auto& [rank, r] : by_rank) p.overlap.push_back(std::move(r));
  return p;
}

}  // namespace

Report build_report(const store::Reader& reader, const Options& options, const Progress& progress) {
  const auto report_progress = [&](std::string_view stage, int done, int total) {
    if (progress) progress(stage, done, total);
  };
  Report r;
  r.run = reader.run();
  r.model = reader.model();
  r.options = options;
  const std::set<int32_t> layer_set(options.layers.begin(), options.layers.end());
  const auto selected = [&](int32_t layer) { return layer_set.empty() || layer_set.contains(layer); };
  const std::vector<store::Filter> filters = window_filters(options);

  // Window summaries answer questions about all ranks; a selection of ranks reads the rows
  // (the trace's window size still sets the load-over-time runs).
  analysis::SummaryCover cover = analysis::summary_cover(reader, options.step_begin, options.step_end);
  if (!options.ranks.empty()) cover.end_window = cover.first_window;
  const analysis::StepRuns layout(analysis::expert_load_steps(reader, filters), cover.window_steps, Report::kTrendPoints);
  if (!layout.steps().empty()) {
    r.first_step = layout.steps().front();
    r.last_step = layout.steps().back();
  }

  // Expert load, drops and capacity.
  report_progress("expert load", 0, 1);
  LoadPass pass = load_pass(reader, filters, cover, layout, selected, r.model);
  analysis::ExpertLoadMatrix& load = pass.load;
  for (analysis::ExpertLoadMatrix* m : {&pass.drops, &pass.earlier, &pass.later}) m->resize(load.num_layers, load.num_experts);
  analysis::CapacityCurve capacity;
  for (const auto& [layer, curve] : pass.layer_capacity) capacity.merge(curve);
  r.capacity_factor = capacity.factor_for_drop_fraction(options.drop_target);
  const analysis::LoadOverTime over_time = analysis::load_over_time(reader, filters, layout);
  for (size_t p = 0; p < over_time.runs.size(); ++p) {
    const analysis::ExpertLoadMatrix& m = over_time.load[p];
    TrendPoint& point = r.over_time.emplace_back();
    std::tie(point.first_step, point.last_step) = over_time.runs[p];
    int32_t layers_with_tokens = 0;
    for (int32_t layer = 0; layer < m.num_layers; ++layer) {
      if (!selected(layer)) continue;
      const analysis::LoadStats stats = analysis::load_stats(m.layer(layer));
      if (!stats.has_tokens) continue;
      point.tokens += stats.total;
      point.imbalance_mean += stats.imbalance;
      point.imbalance_max = std::max(point.imbalance_max, stats.imbalance);
      ++layers_with_tokens;
    }
    if (layers_with_tokens > 0) point.imbalance_mean /= layers_with_tokens;
  }

  // Co-activation, where router decisions were recorded.
  std::map<int32_t, analysis::Coactivation> coactivation;
  report_progress("co-activation", 0, 1);
  for (const store::Filter& f : filters)
    for (const auto& [layer, c] : analysis::coactivation(reader, f))
      if (selected(layer)) coactivation[layer].merge(c);

  // Rank load under the recorded placement (block placement where none was recorded).
  const placement::PlacementFile placement =
      analysis::placement_from_trace(reader.placements(), load.num_experts, options.placement_ranks);
  const analysis::RankLoad ranks = analysis::rank_load(load, placement);
  r.num_ranks = ranks.num_ranks;
  r.overload_factor = ranks.overload_summed;
  r.tokens_per_rank = ranks.summed;
  r.expert_slots = ranks.expert_slots;
  if (r.model)
    if (const models::ModelPreset* preset = models::find_model_preset(r.model->name))
      r.bytes_per_expert = analysis::expert_weight_bytes(preset->hidden_size, preset->expert_ffn, options.bytes_per_weight);

  // Communication and its overlap with compute: from summaries where they add up (all ranks,
  // all layers, windows apart in time), else from the rows.
  report_progress("communication", 0, 1);
  const bool comm_summaries = options.ranks.empty() && layer_set.empty();
  std::optional<CommPass> comm =
      comm_pass(reader, filters, comm_summaries ? cover : analysis::SummaryCover{}, selected);
  if (!comm) comm = comm_pass(reader, filters, analysis::SummaryCover{}, selected);
  r.comm = analysis::overlap_total(comm->overlap);
  r.rank_comm = comm->overlap;
  std::map<int32_t, analysis::OverlapStats> layer_comm;
  for (const analysis::LayerOverlap& l : analysis::overlap_by_layer(comm->overlap)) layer_comm[l.layer] = l.stats;
  r.all_to_all = comm->all_to_all.finish();
  r.dispatch_volume = comm->dispatch_volume.finish();
  r.stragglers = comm->stragglers;
  std::vector<store::StepSpan> steps;
  for (const store::Filter& f : filters) {
    const std::vector<store::StepSpan> rank_steps = reader.steps(f);
    steps.insert(steps.end(), rank_steps.begin(), rank_steps.end());
  }

  // Per layer.
  for (int32_t layer = 0; layer < load.num_layers; ++layer) {
    if (!selected(layer)) continue;
    LayerReport& lr = r.layers.emplace_back();
    lr.layer = layer;
    lr.load = analysis::load_stats(load.layer(layer));
    for (double d : pass.drops.layer(layer)) lr.dropped_tokens += d;
    if (static_cast<size_t>(layer) < ranks.overload_per_layer.size()) lr.overload_factor = ranks.overload_per_layer[layer];
    if (auto it = pass.layer_capacity.find(layer); it != pass.layer_capacity.end())
      lr.capacity_factor = it->second.factor_for_drop_fraction(options.drop_target);
    if (auto it = layer_comm.find(layer); it != layer_comm.end()) lr.comm = it->second;
    lr.tokens_per_expert.assign(load.layer(layer).begin(), load.layer(layer).end());
    const double capacity = lr.capacity_factor * lr.load.mean;
    for (double tokens : lr.tokens_per_expert) lr.utilisation.push_back(capacity > 0 ? tokens / capacity : 0.0);
    if (static_cast<size_t>(layer) < ranks.per_layer.size()) lr.tokens_per_rank = ranks.per_layer[layer];
    lr.trend = analysis::load_trend(pass.earlier.layer(layer), pass.later.layer(layer));
    if (auto it = coactivation.find(layer); it != coactivation.end()) {
      lr.routed_tokens = it->second.tokens;
      lr.top_pairs = it->second.top_pairs(options.top_pairs);
    }
  }
  r.all_layers = analysis::load_stats(analysis::sum_over_layers(load));  // only selected layers hold load
  r.trend = analysis::load_trend(analysis::sum_over_layers(pass.earlier), analysis::sum_over_layers(pass.later));

  // Tokens per second: a layer routes each token top_k times; over the window's wall time.
  if (r.model && r.model->top_k > 0 && !steps.empty() && !r.layers.empty()) {
    int64_t begin = steps.front().start_ns, end = steps.front().end_ns;
    for (const store::StepSpan& s : steps) {
      begin = std::min(begin, s.start_ns);
      end = std::max(end, s.end_ns);
    }
    const double tokens = r.all_layers.total / static_cast<double>(r.layers.size()) / r.model->top_k;
    if (end > begin) r.tokens_per_s = tokens / (static_cast<double>(end - begin) * 1e-9);
  }

  // What a suggested placement (no extra slots) would change.
  analysis::SuggestionOptions suggestion_options;
  suggestion_options.num_ranks = r.num_ranks;
  analysis::PlacementSuggestion suggestion;
  std::string error;
  if (r.num_ranks > 0 && analysis::suggest_placement(load, suggestion_options, &placement, &suggestion, &error)) {
    r.busiest_before = suggestion.busiest_before;
    r.busiest_after = suggestion.busiest_after;
    r.balancedness_before = suggestion.balancedness_before;
    r.balancedness_after = suggestion.balancedness_after;
    r.tokens_per_rank_after = analysis::rank_load(load, suggestion.placement).summed;
  }
  report_progress("done", 1, 1);
  return r;
}

}  // namespace moeprof::report

#include <algorithm>
#include <map>
#include <set>

#include "moeprof/analysis/capacity.h"
#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/analysis/placement_suggestion.h"
#include "moeprof/analysis/rank_load.h"
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

  // Where each step of the window falls: its run of the load-over-time chart, and whether it
  // is in the earlier or the later half for the trend (the middle step of an odd count is in
  // neither, as analysis::load_trend has it).
  std::vector<int64_t> window_steps;
  for (const store::Filter& f : filters) {
    const std::vector<int64_t> s = reader.expert_load_steps(f);
    window_steps.insert(window_steps.end(), s.begin(), s.end());
  }
  std::sort(window_steps.begin(), window_steps.end());
  window_steps.erase(std::unique(window_steps.begin(), window_steps.end()), window_steps.end());
  const size_t n_steps = window_steps.size(), half = n_steps / 2;
  const size_t n_points = std::min(n_steps, Report::kTrendPoints);
  const auto step_index = [&](int64_t step) {
    return static_cast<size_t>(std::lower_bound(window_steps.begin(), window_steps.end(), step) - window_steps.begin());
  };
  const auto point_of = [&](size_t index) { return index * n_points / n_steps; };

  // Expert load, drops and capacity, one pass over the window's expert-load rows.
  analysis::ExpertLoadMatrix load, drops, earlier, later;
  std::vector<analysis::ExpertLoadMatrix> by_point(n_points);
  if (r.model) {
    for (analysis::ExpertLoadMatrix* m : {&load, &drops, &earlier, &later}) m->resize(r.model->num_layers, r.model->num_experts);
    for (analysis::ExpertLoadMatrix& m : by_point) m.resize(r.model->num_layers, r.model->num_experts);
  }
  analysis::CapacityCurve capacity;
  std::map<int32_t, analysis::CapacityCurve> layer_capacity;
  for (size_t i = 0; i < filters.size(); ++i) {
    report_progress("expert load", static_cast<int>(i), static_cast<int>(filters.size()));
    reader.for_each_expert_load(filters[i], [&](const store::ExpertLoad& l) {
      if (!selected(l.layer) || l.layer < 0) return;
      load.add(l.layer, l.counts);
      layer_capacity[l.layer].add_batch(l.counts);
      const size_t index = step_index(l.step);
      if (index < n_steps) {  // always: the steps came from the same rows
        by_point[point_of(index)].add(l.layer, l.counts);
        if (index < half) earlier.add(l.layer, l.counts);
        if (index >= n_steps - half) later.add(l.layer, l.counts);
      }
      r.first_step = std::min(r.first_step.value_or(l.step), l.step);
      r.last_step = std::max(r.last_step.value_or(l.step), l.step);
    });
    reader.for_each_expert_drops(filters[i], [&](const store::ExpertLoad& l) {
      if (selected(l.layer) && l.layer >= 0) drops.add(l.layer, l.counts);
    });
  }
  for (analysis::ExpertLoadMatrix* m : {&drops, &earlier, &later}) m->resize(load.num_layers, load.num_experts);
  for (const auto& [layer, curve] : layer_capacity) capacity.merge(curve);
  r.capacity_factor = capacity.factor_for_drop_fraction(options.drop_target);
  for (size_t p = 0; p < n_points; ++p) {
    analysis::ExpertLoadMatrix& m = by_point[p];
    m.resize(load.num_layers, load.num_experts);
    TrendPoint& point = r.over_time.emplace_back();
    point.first_step = window_steps[(p * n_steps + n_points - 1) / n_points];
    point.last_step = window_steps[((p + 1) * n_steps + n_points - 1) / n_points - 1];
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

  // Communication and its overlap with compute.
  report_progress("communication", 0, 1);
  std::vector<store::AllToAllEvent> all_to_alls;
  std::vector<store::ComputeSpan> compute;
  std::vector<store::StepSpan> steps;
  for (const store::Filter& f : filters) {
    reader.for_each_all_to_all(f, [&](const store::AllToAllEvent& e) {
      if (selected(e.layer)) all_to_alls.push_back(e);
    });
    reader.for_each_compute_span(f, [&](const store::ComputeSpan& s) {
      if (selected(s.layer)) compute.push_back(s);
    });
    const std::vector<store::StepSpan> rank_steps = reader.steps(f);
    steps.insert(steps.end(), rank_steps.begin(), rank_steps.end());
  }
  const std::vector<analysis::RankOverlap> overlap = analysis::compute_overlap(all_to_alls, compute, steps);
  r.comm = analysis::overlap_total(overlap);
  std::map<int32_t, analysis::OverlapStats> layer_comm;
  for (const analysis::LayerOverlap& l : analysis::overlap_by_layer(overlap)) layer_comm[l.layer] = l.stats;
  r.all_to_all = analysis::all_to_all_stats(all_to_alls);
  r.stragglers = analysis::find_stragglers(all_to_alls);

  // Per layer.
  for (int32_t layer = 0; layer < load.num_layers; ++layer) {
    if (!selected(layer)) continue;
    LayerReport& lr = r.layers.emplace_back();
    lr.layer = layer;
    lr.load = analysis::load_stats(load.layer(layer));
    for (double d : drops.layer(layer)) lr.dropped_tokens += d;
    if (static_cast<size_t>(layer) < ranks.overload_per_layer.size()) lr.overload_factor = ranks.overload_per_layer[layer];
    if (auto it = layer_capacity.find(layer); it != layer_capacity.end())
      lr.capacity_factor = it->second.factor_for_drop_fraction(options.drop_target);
    if (auto it = layer_comm.find(layer); it != layer_comm.end()) lr.comm = it->second;
    lr.tokens_per_expert.assign(load.layer(layer).begin(), load.layer(layer).end());
    if (static_cast<size_t>(layer) < ranks.per_layer.size()) lr.tokens_per_rank = ranks.per_layer[layer];
    lr.trend = analysis::load_trend(earlier.layer(layer), later.layer(layer));
    if (auto it = coactivation.find(layer); it != coactivation.end()) {
      lr.routed_tokens = it->second.tokens;
      lr.top_pairs = it->second.top_pairs(options.top_pairs);
    }
  }
  r.all_layers = analysis::load_stats(analysis::sum_over_layers(load));  // only selected layers hold load
  r.trend = analysis::load_trend(analysis::sum_over_layers(earlier), analysis::sum_over_layers(later));

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
  }
  report_progress("done", 1, 1);
  return r;
}

}  // namespace moeprof::report

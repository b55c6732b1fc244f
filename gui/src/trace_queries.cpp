#include "trace_queries.h"

#include "moeprof/analysis/load_over_time.h"

namespace moeprof::gui {

TraceOverview load_overview(const store::Reader& reader) {
  TraceOverview o;
  o.path = QString::fromStdString(reader.path());
  o.run = reader.run();
  o.model = reader.model();
  o.processes = reader.processes();
  o.steps = reader.step_range();
  o.sources = reader.capture_sources();
  o.tallies = reader.source_tallies();
  o.counts = reader.counts();
  o.summarised = reader.summaries().has_value();
  o.all_layers = analysis::load_stats(analysis::sum_over_layers(analysis::expert_load_matrix(reader, {})));
  return o;
}

LayerLoad load_layer_load(const store::Reader& reader, const LoadSelection& selection) {
  LayerLoad l;
  l.selection = selection;
  store::Filter f;
  f.rank = selection.rank;
  f.step_begin = selection.step_begin;
  f.step_end = selection.step_end;
  l.matrix = analysis::expert_load_matrix(reader, f);
  for (int32_t layer = 0; layer < l.matrix.num_layers; ++layer) l.layers.push_back(analysis::load_stats(l.matrix.layer(layer)));
  return l;
}

ExpertSteps load_expert_steps(const store::Reader& reader, const LoadSelection& selection, int32_t layer) {
  ExpertSteps e;
  e.selection = selection;
  e.layer = layer;
  store::Filter f;
  f.rank = selection.rank;
  f.layer = layer;
  f.step_begin = selection.step_begin;
  f.step_end = selection.step_end;
  const store::Filter filters[] = {f};
  const analysis::LoadOverTime over = analysis::load_over_time(reader, filters, kExpertStepRuns);
  e.runs = over.runs;
  for (const analysis::ExpertLoadMatrix& m : over.load)
    e.tokens.push_back(layer >= 0 && layer < m.num_layers ? m.tokens[static_cast<size_t>(layer)]
                                                         : std::vector<double>(static_cast<size_t>(m.num_experts), 0.0));
  return e;
}

RankVolume load_rank_volume(const store::Reader& reader, const LoadSelection& selection, std::optional<int32_t> layer) {
  RankVolume v;
  v.selection = selection;
  v.layer = layer;
  store::Filter f;
  f.layer = layer;
  f.step_begin = selection.step_begin;
  f.step_end = selection.step_end;
  v.bytes = analysis::volume_matrix(reader, f, wire::Phase::kDispatch);
  return v;
}

report::Options report_options(const LoadSelection& selection) {
  report::Options o;
  o.step_begin = selection.step_begin;
  o.step_end = selection.step_end;
  if (selection.rank) o.ranks = {*selection.rank};
  return o;
}

ReportPtr load_report(const store::Reader& reader, const LoadSelection& selection) {
  return std::make_shared<const report::Report>(report::build_report(reader, report_options(selection)));
}

}  // namespace moeprof::gui

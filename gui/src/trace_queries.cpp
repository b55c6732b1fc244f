#include "trace_queries.h"

namespace moeprof::gui {

TraceOverview load_overview(const store::Reader& reader) {
  TraceOverview o;
  o.path = QString::fromStdString(reader.path());
  o.run = reader.run();
  o.model = reader.model();
  o.processes = reader.processes();
  o.steps = reader.step_range();
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

}  // namespace moeprof::gui

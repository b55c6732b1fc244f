// What the viewer shows, as plain values computed from a trace by collector/analysis: the
// views and models only display these (no metric is computed in gui/). Each function may take
// a while on a big trace, so the viewer runs them off the UI thread (trace_loader.h); headless
// renders call them directly.
#pragma once

#include <QMetaType>
#include <QString>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "moeprof/analysis/comm_alltoall.h"
#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/analysis/load_stats.h"
#include "moeprof/report/report.h"
#include "moeprof/store/reader.h"

namespace moeprof::gui {

// Run metadata and headline numbers for the overview.
struct TraceOverview {
  QString path;
  store::RunInfo run;
  std::optional<store::ModelShape> model;
  std::vector<store::ProcessInfo> processes;
  std::optional<std::pair<int64_t, int64_t>> steps;  // [first, last]
  std::optional<std::vector<wire::Source>> sources;   // capture sources of its events
  std::vector<store::SourceTally> tallies;            // what each source recorded and dropped
  store::TableCounts counts;
  bool summarised = false;        // the trace has window summaries
  analysis::LoadStats all_layers;  // tokens per expert summed over layers, whole trace
};

// Which part of the trace a load view shows; unset fields mean all.
struct LoadSelection {
  std::optional<int64_t> step_begin{}, step_end{};  // [begin, end)
  std::optional<int32_t> rank{};
  bool operator==(const LoadSelection&) const = default;
};

// Tokens per [layer][expert] over a selection, and each layer's statistics.
struct LayerLoad {
  LoadSelection selection;
  analysis::ExpertLoadMatrix matrix;
  std::vector<analysis::LoadStats> layers;  // [layer]
};

// One layer's tokens per expert over the selection's steps, in at most kExpertStepRuns runs of
// steps (analysis::load_over_time: a step each, or whole summary windows).
inline constexpr size_t kExpertStepRuns = 200;
struct ExpertSteps {
  LoadSelection selection;
  int32_t layer = 0;
  std::vector<std::pair<int64_t, int64_t>> runs;  // [first, last] step of each column
  std::vector<std::vector<double>> tokens;        // [run][expert]
};

// Bytes each rank dispatched to each rank over the selection's steps, of one layer or all.
struct RankVolume {
  LoadSelection selection;
  std::optional<int32_t> layer;
  analysis::VolumeMatrix bytes;
};

// The load report (`moeprof report`) of a selection: steps, and one rank or all. Shared, not
// copied, between the views that show parts of it.
using ReportPtr = std::shared_ptr<const report::Report>;
report::Options report_options(const LoadSelection& selection);

// All throw store::Error on a corrupt trace.
TraceOverview load_overview(const store::Reader& reader);
LayerLoad load_layer_load(const store::Reader& reader, const LoadSelection& selection);
ExpertSteps load_expert_steps(const store::Reader& reader, const LoadSelection& selection, int32_t layer);
RankVolume load_rank_volume(const store::Reader& reader, const LoadSelection& selection, std::optional<int32_t> layer);
ReportPtr load_report(const store::Reader& reader, const LoadSelection& selection);

}  // namespace moeprof::gui

Q_DECLARE_METATYPE(moeprof::gui::TraceOverview)
Q_DECLARE_METATYPE(moeprof::gui::LayerLoad)
Q_DECLARE_METATYPE(moeprof::gui::LoadSelection)
Q_DECLARE_METATYPE(moeprof::gui::ExpertSteps)
Q_DECLARE_METATYPE(moeprof::gui::RankVolume)
Q_DECLARE_METATYPE(moeprof::gui::ReportPtr)

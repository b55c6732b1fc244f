// A load report for capacity reviews: every number comes from collector/analysis; this only
// gathers them for a window (steps, layers, ranks) and renders them (JSON, Markdown, HTML,
// PDF).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moeprof/analysis/coactivation.h"
#include "moeprof/analysis/comm_alltoall.h"
#include "moeprof/analysis/comm_overlap.h"
#include "moeprof/analysis/comm_stragglers.h"
#include "moeprof/analysis/load_stats.h"
#include "moeprof/analysis/load_trend.h"
#include "moeprof/store/reader.h"

namespace moeprof::report {

struct Options {
  std::optional<int64_t> step_begin, step_end;  // [begin, end)
  std::vector<int32_t> layers;                  // empty: all
  std::vector<int32_t> ranks;                   // empty: all
  double drop_target = 0.01;                    // for the capacity factor
  int32_t placement_ranks = 0;                  // EP ranks for the suggestion; 0: the trace's
  double bytes_per_weight = 2;                  // expert-weight memory: 2 = bf16, 1 = fp8
  size_t top_pairs = 5;                         // co-activated expert pairs listed per layer
};

struct LayerReport {
  int32_t layer = 0;
  analysis::LoadStats load;
  double dropped_tokens = 0;
  double overload_factor = 0;  // busiest rank / mean rank under the recorded placement
  double capacity_factor = 0;  // smallest factor dropping <= drop_target of the assignments
  analysis::OverlapStats comm;
  std::vector<double> tokens_per_expert;  // the heatmap's row
  // Per expert: its tokens ÷ its capacity at the layer's capacity factor (factor × the
  // layer's mean tokens per expert): how full its buffer was on average; 0 without tokens.
  std::vector<double> utilisation;
  std::vector<double> tokens_per_rank;    // under the recorded placement
  analysis::LoadTrend trend;              // the window's earlier half against its later half
  uint64_t routed_tokens = 0;             // tokens with router decisions (0: none recorded)
  std::vector<analysis::ExpertPair> top_pairs;  // most co-activated expert pairs
};

// Load over time: the window's steps cut into at most kTrendPoints runs of equal step count.
struct TrendPoint {
  int64_t first_step = 0, last_step = 0;
  double tokens = 0;                   // all layers
  double imbalance_mean = 0;           // of the layers' imbalance (max / mean expert)
  double imbalance_max = 0;            // the worst layer's
};

struct Report {
  static constexpr size_t kTrendPoints = 100;

  store::RunInfo run;
  std::optional<store::ModelShape> model;
  Options options;
  std::optional<int64_t> first_step, last_step;  // steps with expert load in the window
  int32_t num_ranks = 0;
  std::vector<LayerReport> layers;
  analysis::LoadStats all_layers;  // tokens per expert summed over the layers
  double overload_factor = 0;     // of the ranks' tokens summed over the layers
  double capacity_factor = 0;
  double tokens_per_s = 0;        // routed tokens (assignments / top-k) per second of step time
  analysis::LoadTrend trend;      // of the tokens per expert summed over the layers
  std::vector<TrendPoint> over_time;
  std::vector<double> tokens_per_rank;  // all layers, under the recorded placement
  std::vector<int64_t> expert_slots;    // [rank]: expert weights held, all layers
  double bytes_per_expert = 0;          // 0: the model's expert size is not known
  analysis::OverlapStats comm;    // every rank and layer
  std::vector<analysis::RankOverlap> rank_comm;  // per rank (all layers), in rank order
  std::vector<analysis::AllToAllStats> all_to_all;
  analysis::VolumeMatrix dispatch_volume;  // bytes each rank dispatched to each rank
  analysis::Stragglers stragglers;
  // The placement suggestion (no redundant slots) for the window's load.
  double busiest_before = 0, busiest_after = 0, balancedness_before = 0, balancedness_after = 0;
  std::vector<double> tokens_per_rank_after;  // all layers, under the suggested placement (empty: none)
};

// `progress(stage, done, total)` is called as the work advances (for a terminal's progress).
using Progress = std::function<void(std::string_view stage, int done, int total)>;

// May throw store::Error (a corrupt trace).
Report build_report(const store::Reader& reader, const Options& options, const Progress& progress = {});

std::string render_json(const Report& report);
std::string render_markdown(const Report& report);
// One self-contained file: inline CSS and SVG charts, nothing fetched.
std::string render_html(const Report& report);
// The PDF file's bytes. Throws std::runtime_error when cairo cannot draw it.
std::string render_pdf(const Report& report);
// The report in `format` ("json", "md", "html" or "pdf"); nullopt for another format. What
// `moeprof report --format` and the viewer's report export write.
std::optional<std::string> render(const Report& report, std::string_view format);
// Whether render() knows `format` (checked before a report is built).
bool is_format(std::string_view format);

}  // namespace moeprof::report

// Tokens per [layer][expert] over a window of a trace: every matching expert-load row summed,
// over all ranks the filter lets through (each rank reports the tokens its router sent to
// each expert, so the ranks' rows add up; a row recorded twice counts twice).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "moeprof/store/reader.h"

namespace moeprof::analysis {

struct ExpertLoadMatrix {
  int32_t num_layers = 0;
  int32_t num_experts = 0;
  std::vector<std::vector<double>> tokens;  // [layer][expert], num_layers x num_experts

  std::span<const double> layer(int32_t layer) const { return tokens[static_cast<size_t>(layer)]; }
  // Adds one row of counts to `layer`, growing the matrix to fit it.
  void add(int32_t layer, std::span<const uint32_t> counts);
  void add(int32_t layer, std::span<const uint64_t> counts);  // sums (window summaries)
  // Grows the matrix (never shrinks it) to at least these dimensions.
  void resize(int32_t layers, int32_t experts);
};

// Expert load of the window. The matrix covers at least the model's layers and experts
// (Reader::model()) even when the window holds no rows, so an empty window gives zeros.
// Whole summarised windows are read from their summaries (window_summary.h), the rest row by
// row: the same sums either way, in a fraction of the time on long traces.
// May throw store::Error (a corrupt file).
ExpertLoadMatrix expert_load_matrix(const store::Reader& reader, const store::Filter& filter);
// Tokens dropped over capacity, same shape (expert_drops rows).
ExpertLoadMatrix expert_drops_matrix(const store::Reader& reader, const store::Filter& filter);

// Tokens per expert summed over all layers.
std::vector<double> sum_over_layers(const ExpertLoadMatrix& matrix);

}  // namespace moeprof::analysis

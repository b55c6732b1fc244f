// How one layer's expert load moves over the steps of a window: drift of the distribution
// and experts whose share collapses toward zero.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "moeprof/store/reader.h"

namespace moeprof::analysis {

// Tokens per expert of one layer, step by step (all ranks' rows of a step summed).
struct LoadSeries {
  int32_t num_experts = 0;
  std::vector<int64_t> steps;               // ascending, only steps with rows
  std::vector<std::vector<double>> tokens;  // [step index][expert]
};

// May throw store::Error. filter.layer is replaced by `layer`.
LoadSeries load_series(const store::Reader& reader, store::Filter filter, int32_t layer);

// The window is split into halves by step count: "earlier" = the first floor(n/2) steps,
// "later" = the last floor(n/2) (the middle step of an odd count belongs to neither), so
// one noisy step does not decide the trend. Shares are of each half's total tokens.
struct LoadTrend {
  bool defined = false;  // at least 2 steps, and tokens in both halves; else all zero/empty
  std::vector<double> earlier_share, later_share;  // [expert]
  // Total variation distance between the halves' shares: 0.5 * sum |later - earlier|, in
  // [0, 1]: the fraction of tokens that would have to move to another expert.
  double drift = 0;
  // Experts with earlier share > 0 whose later share < collapse_fraction * earlier share.
  std::vector<int32_t> collapsed;
};

LoadTrend load_trend(const LoadSeries& series, double collapse_fraction = 0.1);
// The same from the two halves' tokens per expert, already summed (the report sums them in
// its one pass over the window). Both spans have one value per expert.
LoadTrend load_trend(std::span<const double> earlier_tokens, std::span<const double> later_tokens,
                     double collapse_fraction = 0.1);

}  // namespace moeprof::analysis

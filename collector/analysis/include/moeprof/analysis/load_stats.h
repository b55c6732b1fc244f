// Summary statistics of one token-per-expert distribution (one layer, or one layer summed
// over a window): the imbalance numbers vLLM, SGLang and Megatron log, plus inequality and
// tail measures for capacity reviews.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace moeprof::analysis {

// Edge cases, decided once here:
// - No experts, or no tokens at all (an empty window): has_tokens = false and every ratio,
//   percentile and share is 0 (undefined, not "perfectly balanced"); dead_experts lists every
//   expert.
// - One expert with tokens: imbalance = balancedness = 1, cv = gini = 0, entropy = 1 (a
//   single expert cannot be spread any better).
// - All tokens on one of E experts: imbalance = E, balancedness = 1/E, gini = (E-1)/E (the
//   population Gini's maximum), entropy = 0, hottest shares = 1.
struct LoadStats {
  int32_t num_experts = 0;
  bool has_tokens = false;
  double total = 0;
  double mean = 0;  // total / num_experts
  double max = 0;
  double min = 0;
  double imbalance = 0;     // max / mean (>= 1)
  double balancedness = 0;  // mean / max (in (0, 1]), as vLLM and SGLang log it
  double cv = 0;            // population standard deviation / mean
  double gini = 0;          // sum_i sum_j |x_i - x_j| / (2 E^2 mean)
  double entropy = 0;       // Shannon entropy of the shares / ln(E), in [0, 1]
  // Percentiles of tokens per expert, linear interpolation between closest ranks: with the
  // counts sorted ascending as x[0..E-1], p-th percentile = x[i] + f (x[i+1] - x[i]) where
  // h = (E-1) p / 100, i = floor(h), f = h - i (NumPy's default method).
  double p50 = 0, p95 = 0, p99 = 0;
  // Share of all tokens taken by the hottest ceil(E/100) and ceil(E/10) experts (each at
  // least one expert).
  int32_t hottest_1pct_experts = 0, hottest_10pct_experts = 0;
  double hottest_1pct_share = 0, hottest_10pct_share = 0;
  std::vector<int32_t> dead_experts;  // experts with zero tokens, ascending
};

LoadStats load_stats(std::span<const double> tokens_per_expert);

// LoadStats::imbalance alone (max ÷ mean of `num_experts` experts holding `total` tokens,
// the busiest `max`), for per-step counters that need nothing else; 0 without tokens.
double imbalance(double total, double max, size_t num_experts);

// The percentile method above, on values sorted ascending; 0 for an empty span.
double percentile_sorted(std::span<const double> sorted, double p);

}  // namespace moeprof::analysis

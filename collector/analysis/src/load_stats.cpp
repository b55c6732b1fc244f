#include "moeprof/analysis/load_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moeprof::analysis {

double percentile_sorted(std::span<const double> sorted, double p) {
  if (sorted.empty()) return 0;
  const double h = static_cast<double>(sorted.size() - 1) * p / 100.0;
  const size_t i = static_cast<size_t>(std::floor(h));
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (h - static_cast<double>(i)) * (sorted[i + 1] - sorted[i]);
}

namespace {

int32_t hottest_count(size_t num_experts, double fraction) {
  const auto n = static_cast<int32_t>(std::ceil(static_cast<double>(num_experts) * fraction - 1e-9));
  return std::max(n, 1);
}

// Sum of the n largest of `descending`, over the total.
double top_share(std::span<const double> descending, int32_t n, double total) {
  return std::accumulate(descending.begin(), descending.begin() + n, 0.0) / total;
}

}  // namespace

double imbalance(double total, double max, size_t num_experts) {
  return total > 0 && num_experts > 0 ? max / (total / static_cast<double>(num_experts)) : 0.0;
}

LoadStats load_stats(std::span<const double> tokens) {
  LoadStats s;
  s.num_experts = static_cast<int32_t>(tokens.size());
  for (size_t e = 0; e < tokens.size(); ++e)
    if (tokens[e] == 0) s.dead_experts.push_back(static_cast<int32_t>(e));
  if (tokens.empty()) return s;

  const double n = static_cast<double>(tokens.size());
  s.total = std::accumulate(tokens.begin(), tokens.end(), 0.0);
  s.max = *std::max_element(tokens.begin(), tokens.end());
  s.min = *std::min_element(tokens.begin(), tokens.end());
  s.mean = s.total / n;
  s.hottest_1pct_experts = hottest_count(tokens.size(), 0.01);
  s.hottest_10pct_experts = hottest_count(tokens.size(), 0.10);
  if (s.total <= 0) return s;
  s.has_tokens = true;

  s.imbalance = imbalance(s.total, s.max, tokens.size());
  s.balancedness = s.mean / s.max;

  double variance = 0;
  for (double x : tokens) variance += (x - s.mean) * (x - s.mean);
  s.cv = std::sqrt(variance / n) / s.mean;

  std::vector<double> sorted(tokens.begin(), tokens.end());
  std::sort(sorted.begin(), sorted.end());
  // sum_i sum_j |x_i - x_j| = 2 sum_i (2i - E + 1) x_(i) over the ascending order.
  double pair_diffs = 0;
  for (size_t i = 0; i < sorted.size(); ++i) pair_diffs += (2.0 * static_cast<double>(i) - n + 1) * sorted[i];
  s.gini = 2 * pair_diffs / (2 * n * n * s.mean);

  if (tokens.size() == 1) {
    s.entropy = 1;
  } else {
    double h = 0;
    for (double x : tokens)
      if (x > 0) h -= (x / s.total) * std::log(x / s.total);
    s.entropy = h / std::log(n);
  }

  s.p50 = percentile_sorted(sorted, 50);
  s.p95 = percentile_sorted(sorted, 95);
  s.p99 = percentile_sorted(sorted, 99);

  std::vector<double> descending(sorted.rbegin(), sorted.rend());
  s.hottest_1pct_share = top_share(descending, s.hottest_1pct_experts, s.total);
  s.hottest_10pct_share = top_share(descending, s.hottest_10pct_experts, s.total);
  return s;
}

}  // namespace moeprof::analysis

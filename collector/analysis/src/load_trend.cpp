#include "moeprof/analysis/load_trend.h"

#include <cmath>

namespace moeprof::analysis {

LoadSeries load_series(const store::Reader& reader, store::Filter filter, int32_t layer) {
  filter.layer = layer;
  LoadSeries s;
  // Rows arrive in (step, layer, rank) order, so a step's rows are consecutive.
  reader.for_each_expert_load(filter, [&](const store::ExpertLoad& row) {
    if (s.steps.empty() || s.steps.back() != row.step) {
      s.steps.push_back(row.step);
      s.tokens.emplace_back(static_cast<size_t>(s.num_experts), 0.0);
    }
    if (row.counts.size() > static_cast<size_t>(s.num_experts)) {
      s.num_experts = static_cast<int32_t>(row.counts.size());
      for (auto& step : s.tokens) step.resize(row.counts.size(), 0.0);
    }
    auto& step = s.tokens.back();
    for (size_t e = 0; e < row.counts.size(); ++e) step[e] += row.counts[e];
  });
  return s;
}

namespace {

// Tokens summed over steps [begin, end) of the series.
std::vector<double> half_tokens(const LoadSeries& s, size_t begin, size_t end) {
  std::vector<double> tokens(static_cast<size_t>(s.num_experts), 0.0);
  for (size_t i = begin; i < end; ++i)
    for (size_t e = 0; e < s.tokens[i].size(); ++e) tokens[e] += s.tokens[i][e];
  return tokens;
}

// The shares of `tokens`; false when they hold none.
bool shares_of(std::span<const double> tokens, std::vector<double>* shares) {
  double total = 0;
  for (double t : tokens) total += t;
  if (total <= 0) return false;
  shares->resize(tokens.size());
  for (size_t e = 0; e < tokens.size(); ++e) (*shares)[e] = tokens[e] / total;
  return true;
}

}  // namespace

LoadTrend load_trend(const LoadSeries& series, double collapse_fraction) {
  const size_t n = series.steps.size();
  if (n < 2) return {};
  const size_t half = n / 2;
  return load_trend(half_tokens(series, 0, half), half_tokens(series, n - half, n), collapse_fraction);
}

LoadTrend load_trend(std::span<const double> earlier_tokens, std::span<const double> later_tokens,
                     double collapse_fraction) {
  LoadTrend t;
  if (earlier_tokens.size() != later_tokens.size() || !shares_of(earlier_tokens, &t.earlier_share) ||
      !shares_of(later_tokens, &t.later_share)) {
    t.earlier_share.clear();
    t.later_share.clear();
    return t;
  }
  t.defined = true;
  for (size_t e = 0; e < t.earlier_share.size(); ++e) {
    t.drift += 0.5 * std::abs(t.later_share[e] - t.earlier_share[e]);
    if (t.earlier_share[e] > 0 && t.later_share[e] < collapse_fraction * t.earlier_share[e])
      t.collapsed.push_back(static_cast<int32_t>(e));
  }
  return t;
}

}  // namespace moeprof::analysis

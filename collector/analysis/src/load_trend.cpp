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

// Shares of steps [begin, end) summed; false when they hold no tokens.
bool half_shares(const LoadSeries& s, size_t begin, size_t end, std::vector<double>* shares) {
  shares->assign(static_cast<size_t>(s.num_experts), 0.0);
  double total = 0;
  for (size_t i = begin; i < end; ++i)
    for (size_t e = 0; e < s.tokens[i].size(); ++e) {
      (*shares)[e] += s.tokens[i][e];
      total += s.tokens[i][e];
    }
  if (total <= 0) return false;
  for (double& x : *shares) x /= total;
  return true;
}

}  // namespace

LoadTrend load_trend(const LoadSeries& series, double collapse_fraction) {
  LoadTrend t;
  const size_t n = series.steps.size();
  if (n < 2) return t;
  const size_t half = n / 2;
  if (!half_shares(series, 0, half, &t.earlier_share) || !half_shares(series, n - half, n, &t.later_share)) {
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

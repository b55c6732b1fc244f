#include "moeprof/analysis/coactivation.h"

#include <algorithm>

namespace moeprof::analysis {

void Coactivation::add(const wire::Routing& routing) {
  const size_t k = routing.top_k;
  if (k == 0) return;
  std::vector<int32_t> chosen;
  for (size_t t = 0; t < routing.num_tokens && (t + 1) * k <= routing.expert_ids.size(); ++t) {
    ++tokens;
    chosen.clear();
    for (size_t j = 0; j < k; ++j)
      if (int32_t e = routing.expert_ids[t * k + j]; e >= 0) chosen.push_back(e);
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    for (size_t i = 0; i < chosen.size(); ++i)
      for (size_t j = i + 1; j < chosen.size(); ++j) ++pairs[{chosen[i], chosen[j]}];
  }
}

void Coactivation::merge(const Coactivation& other) {
  tokens += other.tokens;
  for (const auto& [pair, count] : other.pairs) pairs[pair] += count;
}

std::vector<ExpertPair> Coactivation::top_pairs(size_t n) const {
  std::vector<ExpertPair> all;
  all.reserve(pairs.size());
  for (const auto& [key, count] : pairs) all.push_back({key.first, key.second, count});
  // The map is ordered by (a, b), so a stable sort by count keeps (a, b) ascending on ties.
  std::stable_sort(all.begin(), all.end(), [](const ExpertPair& x, const ExpertPair& y) { return x.count > y.count; });
  if (all.size() > n) all.resize(n);
  return all;
}

std::map<int32_t, Coactivation> coactivation(const store::Reader& reader, const store::Filter& filter) {
  std::map<int32_t, Coactivation> out;
  reader.for_each_router_decisions(filter,
                                   [&](const store::RouterDecisionBatch& batch) { out[batch.layer].add(batch.routing); });
  return out;
}

}  // namespace moeprof::analysis

#include "moeprof/analysis/rank_load.h"

#include <algorithm>
#include <numeric>

namespace moeprof::analysis {

placement::ExpertRanks block_placement(int32_t num_experts, int32_t num_ranks) {
  placement::ExpertRanks out(static_cast<size_t>(std::max(num_experts, 0)));
  if (num_ranks <= 0) return out;
  for (int32_t e = 0; e < num_experts; ++e)
    out[static_cast<size_t>(e)] = {static_cast<int32_t>(static_cast<int64_t>(e) * num_ranks / num_experts)};
  return out;
}

std::vector<double> rank_tokens(std::span<const double> expert_tokens, const placement::ExpertRanks& placement,
                                int32_t num_ranks, double* unplaced) {
  std::vector<double> out(static_cast<size_t>(std::max(num_ranks, 0)), 0.0);
  double lost = 0;
  for (size_t e = 0; e < expert_tokens.size(); ++e) {
    std::vector<int32_t> ranks;
    if (e < placement.size())
      for (int32_t r : placement[e])
        if (r >= 0 && r < num_ranks) ranks.push_back(r);
    if (ranks.empty()) {
      lost += expert_tokens[e];
      continue;
    }
    const double share = expert_tokens[e] / static_cast<double>(ranks.size());
    for (int32_t r : ranks) out[static_cast<size_t>(r)] += share;
  }
  if (unplaced != nullptr) *unplaced = lost;
  return out;
}

double overload_factor(std::span<const double> rank_tokens) {
  const double total = std::accumulate(rank_tokens.begin(), rank_tokens.end(), 0.0);
  if (rank_tokens.empty() || total <= 0) return 0;
  return *std::max_element(rank_tokens.begin(), rank_tokens.end()) / (total / static_cast<double>(rank_tokens.size()));
}

double rank_balancedness(std::span<const double> rank_tokens) {
  const double f = overload_factor(rank_tokens);
  return f > 0 ? 1 / f : 0;
}

RankLoad rank_load(const ExpertLoadMatrix& load, const placement::PlacementFile& placement) {
  RankLoad out;
  out.num_ranks = placement.num_ranks;
  out.summed.assign(static_cast<size_t>(std::max(placement.num_ranks, 0)), 0.0);
  out.expert_slots.assign(out.summed.size(), 0);
  const placement::ExpertRanks block = block_placement(load.num_experts, placement.num_ranks);
  for (int32_t layer = 0; layer < load.num_layers; ++layer) {
    const placement::ExpertRanks* listed = placement.layer(layer);
    const placement::ExpertRanks& experts = listed ? *listed : block;
    for (const std::vector<int32_t>& holders : experts)
      for (int32_t r : holders)
        if (r >= 0 && static_cast<size_t>(r) < out.expert_slots.size()) ++out.expert_slots[static_cast<size_t>(r)];
    double unplaced = 0;
    out.per_layer.push_back(rank_tokens(load.layer(layer), experts, placement.num_ranks, &unplaced));
    out.overload_per_layer.push_back(overload_factor(out.per_layer.back()));
    out.unplaced_per_layer.push_back(unplaced);
    for (size_t r = 0; r < out.summed.size(); ++r) out.summed[r] += out.per_layer.back()[r];
  }
  out.overload_summed = overload_factor(out.summed);
  return out;
}

placement::PlacementFile placement_from_trace(const std::vector<store::LayerPlacement>& rows, int32_t num_experts,
                                              int32_t min_ranks) {
  placement::PlacementFile out;
  out.num_experts = num_experts;
  out.num_ranks = min_ranks;
  for (const store::LayerPlacement& row : rows) {
    if (row.layer < 0 || out.layers.count(row.layer) != 0) continue;
    placement::ExpertRanks experts(static_cast<size_t>(std::max(num_experts, 0)));
    for (const store::PlacementSlot& slot : row.slots) {
      if (slot.expert < 0 || slot.expert >= num_experts || slot.rank < 0) continue;
      auto& ranks = experts[static_cast<size_t>(slot.expert)];
      if (std::find(ranks.begin(), ranks.end(), slot.rank) == ranks.end()) ranks.push_back(slot.rank);
      out.num_ranks = std::max(out.num_ranks, slot.rank + 1);
    }
    out.layers.emplace(row.layer, std::move(experts));
  }
  return out;
}

}  // namespace moeprof::analysis

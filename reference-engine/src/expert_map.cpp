#include "expert_map.h"

namespace moeprof::engine {

ExpertMap::ExpertMap(placement::ExpertRanks ranks, int32_t num_ranks)
    : ranks_(std::move(ranks)), held_(static_cast<size_t>(num_ranks)) {
  for (size_t e = 0; e < ranks_.size(); ++e)
    for (int32_t rank : ranks_[e]) held_[static_cast<size_t>(rank)].push_back(static_cast<int32_t>(e));
}

placement::ExpertRanks block_placement(int32_t num_experts, int32_t num_ranks) {
  placement::ExpertRanks ranks;
  for (int64_t e = 0; e < num_experts; ++e) ranks.push_back({static_cast<int32_t>(e * num_ranks / num_experts)});
  return ranks;
}

std::vector<ExpertMap> expert_maps(const placement::PlacementFile* file, int32_t num_layers, int32_t num_experts,
                                   int32_t num_ranks) {
  std::vector<ExpertMap> maps;
  for (int32_t layer = 0; layer < num_layers; ++layer)
    maps.emplace_back(file ? *file->layer(layer) : block_placement(num_experts, num_ranks), num_ranks);
  return maps;
}

}  // namespace moeprof::engine

#include "dispatch_plan.h"

#include <algorithm>
#include <numeric>

#include "moeprof/kernels/moe_kernels.h"

namespace moeprof::engine {

DispatchPlan plan_dispatch(std::span<const int32_t> kept_ids, uint32_t top_k, uint32_t token_begin, uint32_t token_end,
                           int64_t global_first_token, const ExpertMap& map, int32_t num_ranks) {
  const uint32_t num_experts = static_cast<uint32_t>(map.num_experts());
  const uint32_t tokens = token_end - token_begin;
  const uint32_t first_pair = token_begin * top_k;
  // Pairs grouped by expert, token order within each (the kernels' permute plan).
  std::vector<uint32_t> by_expert(size_t(tokens) * top_k), expert_offsets(num_experts + 1);
  const uint32_t rows = kernels::permute_plan_cpu(kept_ids.data() + first_pair, tokens, top_k, num_experts,
                                                  by_expert.data(), expert_offsets.data());
  // Then a stable counting sort by destination rank.
  DispatchPlan plan;
  plan.rows_to_peer.assign(static_cast<size_t>(num_ranks), 0);
  std::vector<int32_t> destination(rows);
  for (uint32_t e = 0; e < num_experts; ++e)
    for (uint32_t r = expert_offsets[e]; r < expert_offsets[e + 1]; ++r) {
      const int64_t token = global_first_token + token_begin + by_expert[r] / top_k;
      destination[r] = map.destination(static_cast<int32_t>(e), token);
      ++plan.rows_to_peer[static_cast<size_t>(destination[r])];
    }
  std::vector<uint32_t> next(static_cast<size_t>(num_ranks), 0);
  for (size_t p = 1; p < next.size(); ++p) next[p] = next[p - 1] + static_cast<uint32_t>(plan.rows_to_peer[p - 1]);
  plan.row_to_pair.resize(rows);
  plan.row_expert.resize(rows);
  for (uint32_t e = 0; e < num_experts; ++e)
    for (uint32_t r = expert_offsets[e]; r < expert_offsets[e + 1]; ++r) {
      const uint32_t at = next[static_cast<size_t>(destination[r])]++;
      plan.row_to_pair[at] = first_pair + by_expert[r];
      plan.row_expert[at] = static_cast<int32_t>(e);
    }
  plan.sorted_pairs = plan.row_to_pair;
  std::sort(plan.sorted_pairs.begin(), plan.sorted_pairs.end());
  plan.row_to_sorted.resize(rows);
  for (uint32_t r = 0; r < rows; ++r)
    plan.row_to_sorted[r] = static_cast<uint32_t>(
        std::lower_bound(plan.sorted_pairs.begin(), plan.sorted_pairs.end(), plan.row_to_pair[r]) -
        plan.sorted_pairs.begin());
  return plan;
}

ExpertGroups group_by_expert(std::span<const int32_t> row_expert, uint32_t num_experts) {
  ExpertGroups groups;
  groups.grouped_to_row.resize(row_expert.size());
  groups.expert_offsets.resize(num_experts + 1);
  kernels::permute_plan_cpu(row_expert.data(), static_cast<uint32_t>(row_expert.size()), 1, num_experts,
                            groups.grouped_to_row.data(), groups.expert_offsets.data());
  return groups;
}

}  // namespace moeprof::engine

// Who sends which rows where: the layout of a dispatch and of the matching combine.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "expert_map.h"

namespace moeprof::engine {

// The rows one rank sends for the tokens [token_begin, token_end) of its batch.
struct DispatchPlan {
  // Send rows grouped by destination rank, then by expert, then in token order: row r carries
  // the (token, choice) pair row_to_pair[r] = token * top_k + choice (token within the
  // batch) of expert row_expert[r]. Dropped pairs (id -1) have no row.
  std::vector<uint32_t> row_to_pair;
  std::vector<int32_t> row_expert;
  std::vector<int32_t> rows_to_peer;  // per rank
  // The same pairs in ascending order, and each send row's index in it: the combine adds a
  // token's expert outputs in choice order whatever the placement, so results do not depend
  // on where the experts ran.
  std::vector<uint32_t> sorted_pairs;
  std::vector<uint32_t> row_to_sorted;
};

// kept_ids: the whole batch's (token, choice) expert ids after capacity, -1 = dropped. The
// batch's token t is global token global_first_token + t (replica choice).
DispatchPlan plan_dispatch(std::span<const int32_t> kept_ids, uint32_t top_k, uint32_t token_begin, uint32_t token_end,
                           int64_t global_first_token, const ExpertMap& map, int32_t num_ranks);

// The rows a rank received (expert id of each, in arrival order) grouped by expert, stable:
// grouped row g is received row grouped_to_row[g]; expert e owns grouped rows
// [expert_offsets[e], expert_offsets[e + 1]).
struct ExpertGroups {
  std::vector<uint32_t> grouped_to_row;
  std::vector<uint32_t> expert_offsets;
};
ExpertGroups group_by_expert(std::span<const int32_t> row_expert, uint32_t num_experts);

}  // namespace moeprof::engine

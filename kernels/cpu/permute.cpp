// Reference expert histogram and token permute/unpermute (the dispatch-side layout).
#include <algorithm>
#include <cstring>
#include <vector>

#include "moeprof/kernels/moe_kernels.h"

namespace moeprof::kernels {

void expert_histogram_cpu(const int32_t* ids, size_t n, uint32_t num_experts, uint32_t* counts) {
  std::fill_n(counts, num_experts, 0u);
  for (size_t i = 0; i < n; ++i)
    if (ids[i] >= 0 && static_cast<uint32_t>(ids[i]) < num_experts) ++counts[ids[i]];
}

uint32_t permute_plan_cpu(const int32_t* topk_ids, uint32_t num_tokens, uint32_t top_k, uint32_t num_experts,
                          uint32_t* row_to_pair, uint32_t* expert_offsets) {
  const size_t pairs = static_cast<size_t>(num_tokens) * top_k;
  // Counting sort: offsets from the histogram, then a stable scatter in pair order.
  expert_histogram_cpu(topk_ids, pairs, num_experts, expert_offsets + 1);
  expert_offsets[0] = 0;
  for (uint32_t e = 0; e < num_experts; ++e) expert_offsets[e + 1] += expert_offsets[e];
  std::vector<uint32_t> next(expert_offsets, expert_offsets + num_experts);
  for (size_t p = 0; p < pairs; ++p) {
    const int32_t e = topk_ids[p];
    if (e >= 0 && static_cast<uint32_t>(e) < num_experts) row_to_pair[next[e]++] = static_cast<uint32_t>(p);
  }
  return expert_offsets[num_experts];
}

void permute_rows_cpu(const float* x, uint32_t hidden, const uint32_t* row_to_pair, uint32_t num_rows,
                      uint32_t top_k, float* rows) {
  for (uint32_t r = 0; r < num_rows; ++r)
    std::memcpy(rows + static_cast<size_t>(r) * hidden, x + static_cast<size_t>(row_to_pair[r] / top_k) * hidden,
                hidden * sizeof(float));
}

void unpermute_rows_cpu(const float* rows, uint32_t hidden, const uint32_t* row_to_pair, uint32_t num_rows,
                        uint32_t top_k, const float* topk_weights, float* out) {
  for (uint32_t r = 0; r < num_rows; ++r) {
    const uint32_t pair = row_to_pair[r];
    const float w = topk_weights[pair];
    const float* src = rows + static_cast<size_t>(r) * hidden;
    float* dst = out + static_cast<size_t>(pair / top_k) * hidden;
    for (uint32_t h = 0; h < hidden; ++h) dst[h] += w * src[h];
  }
}

}  // namespace moeprof::kernels

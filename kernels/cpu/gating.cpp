// Reference top-k gating. Written for clarity and determinism, not speed: the GPU kernels
// and the engine's results are checked against it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "moeprof/kernels/moe_kernels.h"

namespace moeprof::kernels {
namespace {

// Higher score first; on equal scores the lower index wins, so results never depend on the
// sort algorithm.
struct ByScoreThenIndex {
  const float* score;
  bool operator()(uint32_t a, uint32_t b) const { return score[a] > score[b] || (score[a] == score[b] && a < b); }
};

void scores_of_token(const float* logits, const GatingConfig& c, float* scores) {
  const uint32_t n = c.num_experts;
  if (c.score == ScoreFunction::kSigmoid) {
    for (uint32_t e = 0; e < n; ++e) scores[e] = 1.0f / (1.0f + std::exp(-logits[e]));
    return;
  }
  const float max_logit = *std::max_element(logits, logits + n);
  float sum = 0.0f;
  for (uint32_t e = 0; e < n; ++e) sum += scores[e] = std::exp(logits[e] - max_logit);
  for (uint32_t e = 0; e < n; ++e) scores[e] /= sum;
}

// Leaves -inf in selection[] for experts outside the best topk_groups groups.
void mask_groups(const GatingConfig& c, float* selection) {
  const uint32_t group_size = c.num_experts / c.num_groups;
  std::vector<float> group_score(c.num_groups);
  std::vector<uint32_t> order(group_size);
  for (uint32_t g = 0; g < c.num_groups; ++g) {
    const float* s = selection + g * group_size;
    std::iota(order.begin(), order.end(), 0u);
    const uint32_t best = std::min<uint32_t>(2, group_size);
    std::partial_sort(order.begin(), order.begin() + best, order.end(), ByScoreThenIndex{s});
    group_score[g] = 0.0f;
    for (uint32_t i = 0; i < best; ++i) group_score[g] += s[order[i]];
  }
  std::vector<uint32_t> groups(c.num_groups);
  std::iota(groups.begin(), groups.end(), 0u);
  std::sort(groups.begin(), groups.end(), ByScoreThenIndex{group_score.data()});
  for (uint32_t i = c.topk_groups; i < c.num_groups; ++i)
    std::fill_n(selection + groups[i] * group_size, group_size, -std::numeric_limits<float>::infinity());
}

}  // namespace

const char* validate(const GatingConfig& c) {
  if (c.num_experts == 0) return "num_experts must be positive";
  if (c.top_k == 0 || c.top_k > c.num_experts) return "top_k must be in 1..num_experts";
  if (!c.selection_bias.empty() && c.selection_bias.size() != c.num_experts)
    return "selection_bias must have num_experts entries";
  if (c.num_groups != 0) {
    if (c.num_experts % c.num_groups != 0) return "num_experts must be a multiple of num_groups";
    if (c.topk_groups == 0 || c.topk_groups > c.num_groups) return "topk_groups must be in 1..num_groups";
    if (static_cast<uint64_t>(c.topk_groups) * (c.num_experts / c.num_groups) < c.top_k)
      return "the selected groups hold fewer than top_k experts";
  }
  return nullptr;
}

void topk_gating_cpu(const float* logits, uint32_t num_tokens, const GatingConfig& c, int32_t* topk_ids,
                     float* topk_weights) {
  const uint32_t n = c.num_experts, k = c.top_k;
  std::vector<float> scores(n), selection(n);
  std::vector<uint32_t> order(n);
  for (uint32_t t = 0; t < num_tokens; ++t) {
    scores_of_token(logits + static_cast<size_t>(t) * n, c, scores.data());
    for (uint32_t e = 0; e < n; ++e) selection[e] = scores[e] + (c.selection_bias.empty() ? 0.0f : c.selection_bias[e]);
    if (c.num_groups != 0) mask_groups(c, selection.data());
    std::iota(order.begin(), order.end(), 0u);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), ByScoreThenIndex{selection.data()});
    float sum = 0.0f;
    for (uint32_t j = 0; j < k; ++j) sum += scores[order[j]];
    for (uint32_t j = 0; j < k; ++j) {
      const float w = c.normalize && sum > 0.0f ? scores[order[j]] / sum : scores[order[j]];
      topk_ids[static_cast<size_t>(t) * k + j] = static_cast<int32_t>(order[j]);
      topk_weights[static_cast<size_t>(t) * k + j] = w * c.routed_scaling;
    }
  }
}

}  // namespace moeprof::kernels

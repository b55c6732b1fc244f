// Top-k gating on the GPU: one warp per token, expert e in lane e % 32 (slot e / 32), so a
// token's logits load coalesced. Scores (softmax over the warp, or sigmoid), the selection
// bias, group-limited routing (a lane per group) and k rounds of a warp-wide argmax with the
// CPU reference's tie rule (lower expert id wins).
#include <cfloat>
#include <climits>
#include <stdexcept>
#include <string>

#include "moeprof/kernels/cuda_check.h"
#include "moeprof/kernels/moe_kernels_cuda.h"
#include "warp.cuh"

namespace moeprof::kernels::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;

struct GatingParams {
  uint32_t num_experts;
  uint32_t top_k;
  uint32_t num_groups;  // 0: no group limit
  uint32_t topk_groups;
  const float* bias;  // num_experts, or null
  float routed_scaling;
  bool sigmoid;
  bool normalize;
};

// kPerLane experts per lane: num_experts <= 32 * kPerLane.
template <int kPerLane>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    topk_gating_kernel(const float* __restrict__ logits, uint32_t num_tokens, GatingParams p,
                       int32_t* __restrict__ topk_ids, float* __restrict__ topk_weights) {
  // One float of padding after each group, so that the lanes scanning their groups (lane g
  // reads its group at stride group_size + 1) hit different banks.
  __shared__ float group_scratch[kWarpsPerBlock][kPerLane * 32 + kMaxGroups];
  const int lane = static_cast<int>(threadIdx.x & 31u);
  const int warp = static_cast<int>(threadIdx.x >> 5);
  const uint32_t token = blockIdx.x * kWarpsPerBlock + static_cast<uint32_t>(warp);
  if (token >= num_tokens) return;  // the whole warp: token is the same on all its lanes
  const uint32_t n = p.num_experts;
  const float* row = logits + static_cast<size_t>(token) * n;

  float score[kPerLane];   // the gate weight of each of this lane's experts
  float select[kPerLane];  // what selection compares: score + bias, -inf outside the chosen groups
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const uint32_t e = static_cast<uint32_t>(lane + 32 * i);
    score[i] = e < n ? row[e] : -INFINITY;
  }
  if (p.sigmoid) {
#pragma unroll
    for (int i = 0; i < kPerLane; ++i)
      if (static_cast<uint32_t>(lane + 32 * i) < n) score[i] = 1.0f / (1.0f + expf(-score[i]));
  } else {
    float max_logit = -INFINITY;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) max_logit = fmaxf(max_logit, score[i]);
    max_logit = warp_max(max_logit);
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i)
      if (static_cast<uint32_t>(lane + 32 * i) < n) sum += score[i] = expf(score[i] - max_logit);
    sum = warp_sum(sum);
#pragma unroll
    for (int i = 0; i < kPerLane; ++i)
      if (static_cast<uint32_t>(lane + 32 * i) < n) score[i] /= sum;
  }
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const uint32_t e = static_cast<uint32_t>(lane + 32 * i);
    select[i] = e < n ? score[i] + (p.bias != nullptr ? p.bias[e] : 0.0f) : -INFINITY;
  }

  if (p.num_groups != 0) {
    // A group's score is the sum of its two best selection scores; lane g scores group g
    // from the warp's copy of the selection scores in shared memory.
    float* scratch = group_scratch[warp];
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const uint32_t e = static_cast<uint32_t>(lane + 32 * i);
      if (e < n) scratch[e + e / (n / p.num_groups)] = select[i];
    }
    __syncwarp();
    const uint32_t group_size = n / p.num_groups;
    float group_score = -INFINITY;
    if (static_cast<uint32_t>(lane) < p.num_groups) {
      float best = -INFINITY, second = -INFINITY;
      for (uint32_t j = 0; j < group_size; ++j) {
        const float v = scratch[lane * (group_size + 1) + j];
        if (v > best) {
          second = best;
          best = v;
        } else if (v > second) {
          second = v;
        }
      }
      group_score = group_size >= 2 ? best + second : best;
    }
    uint32_t chosen = 0;  // bit g: group g is one of the best topk_groups
    for (uint32_t r = 0; r < p.topk_groups; ++r) {
      const bool candidate = static_cast<uint32_t>(lane) < p.num_groups && !((chosen >> lane) & 1u);
      float value = candidate ? group_score : -INFINITY;
      int32_t index = candidate ? lane : INT_MAX;
      warp_argmax(value, index);
      if (index < 32) chosen |= 1u << index;  // always: validate() leaves enough groups
    }
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const uint32_t e = static_cast<uint32_t>(lane + 32 * i);
      if (e < n && !((chosen >> (e / group_size)) & 1u)) select[i] = -INFINITY;
    }
  }

  uint32_t taken = 0;  // bit i: this lane's expert lane + 32 i is already selected
  int32_t my_id = 0;   // lane j keeps the j-th choice
  float my_weight = 0.0f;
  for (uint32_t j = 0; j < p.top_k; ++j) {
    float best = -INFINITY;
    int32_t best_index = INT_MAX;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int32_t e = lane + 32 * i;
      if (static_cast<uint32_t>(e) < n && !((taken >> i) & 1u) &&
          (select[i] > best || (select[i] == best && e < best_index))) {
        best = select[i];
        best_index = e;
      }
    }
    warp_argmax(best, best_index);
    const int owner = best_index & 31, slot = best_index >> 5;
    float weight = 0.0f;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i)
      if (i == slot) weight = score[i];
    weight = __shfl_sync(kFullWarp, weight, owner);
    if (lane == owner) taken |= 1u << slot;
    if (static_cast<uint32_t>(lane) == j) {
      my_id = best_index;
      my_weight = weight;
    }
  }
  const float sum = warp_sum(static_cast<uint32_t>(lane) < p.top_k ? my_weight : 0.0f);
  if (static_cast<uint32_t>(lane) < p.top_k) {
    const float w = p.normalize && sum > 0.0f ? my_weight / sum : my_weight;
    const size_t out = static_cast<size_t>(token) * p.top_k + static_cast<uint32_t>(lane);
    topk_ids[out] = my_id;
    topk_weights[out] = w * p.routed_scaling;
  }
}

template <int kPerLane>
void launch(const float* logits, uint32_t num_tokens, const GatingParams& p, int32_t* ids, float* weights,
            cudaStream_t stream) {
  const uint32_t blocks = (num_tokens + kWarpsPerBlock - 1) / kWarpsPerBlock;
  topk_gating_kernel<kPerLane><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(logits, num_tokens, p, ids, weights);
  MOEPROF_CUDA_CHECK_LAUNCH();
}

}  // namespace

void topk_gating(const float* logits, uint32_t num_tokens, const GatingConfig& config, int32_t* topk_ids,
                 float* topk_weights, cudaStream_t stream) {
  if (const char* problem = validate(config)) throw std::invalid_argument(std::string("topk_gating: ") + problem);
  if (config.num_experts > kMaxGatingExperts)
    throw std::invalid_argument("topk_gating: " + std::to_string(config.num_experts) +
                                " experts; the kernel takes at most " + std::to_string(kMaxGatingExperts));
  if (config.top_k > kMaxTopK)
    throw std::invalid_argument("topk_gating: top_k " + std::to_string(config.top_k) + "; the kernel takes at most " +
                                std::to_string(kMaxTopK));
  if (config.num_groups > kMaxGroups)
    throw std::invalid_argument("topk_gating: " + std::to_string(config.num_groups) +
                                " groups; the kernel takes at most " + std::to_string(kMaxGroups));
  if (num_tokens == 0) return;
  const GatingParams p{config.num_experts,
                       config.top_k,
                       config.num_groups,
                       config.topk_groups,
                       config.selection_bias.empty() ? nullptr : config.selection_bias.data(),
                       config.routed_scaling,
                       config.score == ScoreFunction::kSigmoid,
                       config.normalize};
  const uint32_t per_lane = (config.num_experts + 31) / 32;
  if (per_lane <= 1) return launch<1>(logits, num_tokens, p, topk_ids, topk_weights, stream);
  if (per_lane <= 2) return launch<2>(logits, num_tokens, p, topk_ids, topk_weights, stream);
  if (per_lane <= 4) return launch<4>(logits, num_tokens, p, topk_ids, topk_weights, stream);
  if (per_lane <= 8) return launch<8>(logits, num_tokens, p, topk_ids, topk_weights, stream);
  if (per_lane <= 16) return launch<16>(logits, num_tokens, p, topk_ids, topk_weights, stream);
  return launch<32>(logits, num_tokens, p, topk_ids, topk_weights, stream);
}

}  // namespace moeprof::kernels::cuda

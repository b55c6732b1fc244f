// The MoE building blocks the reference engine runs: top-k gating, expert histogram and
// token permute/unpermute. This header is the one host-side API; the *_cpu functions are the
// reference implementations the CPU backend uses and that GPU kernels are checked against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace moeprof::kernels {

enum class ScoreFunction : uint8_t {
  kSoftmax,  // Mixtral / Qwen: softmax over all experts, then top-k
  kSigmoid,  // DeepSeek-V3: sigmoid scores, selection on score + bias
};

struct GatingConfig {
  uint32_t num_experts = 0;
  uint32_t top_k = 0;
  ScoreFunction score = ScoreFunction::kSoftmax;
  // Renormalise the selected weights to sum to one (DeepSeek-V3, Mixtral).
  bool normalize = true;
  // Per-expert bias added to the scores for *selection only* (aux-loss-free balancing); the
  // gate weights stay the unbiased scores. Empty: no bias.
  std::span<const float> selection_bias;
  // Group-limited routing: experts split into num_groups equal groups; a group's score is
  // the sum of its two best (biased) scores; only the best topk_groups groups are eligible.
  // num_groups = 0 turns it off.
  uint32_t num_groups = 0;
  uint32_t topk_groups = 0;
  float routed_scaling = 1.0f;  // multiplies the final weights
};

// nullptr when `config` is usable, otherwise what is wrong with it.
const char* validate(const GatingConfig& config);

// logits: num_tokens x num_experts (row-major). Writes num_tokens x top_k expert ids (in
// descending selection score; ties go to the lower expert id) and their gate weights.
void topk_gating_cpu(const float* logits, uint32_t num_tokens, const GatingConfig& config, int32_t* topk_ids,
                     float* topk_weights);

// counts[e] = number of entries of ids equal to e; counts must hold num_experts entries.
// Ids outside [0, num_experts) are ignored (dropped tokens are marked -1).
void expert_histogram_cpu(const int32_t* ids, size_t n, uint32_t num_experts, uint32_t* counts);

// Groups the (token, choice) pairs by expert, stable in token order. For row r of the
// permuted layout, row_to_pair[r] = token * top_k + choice; expert e owns rows
// [expert_offsets[e], expert_offsets[e+1]). expert_offsets has num_experts + 1 entries.
// Pairs whose id is outside [0, num_experts) are left out. Returns the number of rows.
uint32_t permute_plan_cpu(const int32_t* topk_ids, uint32_t num_tokens, uint32_t top_k, uint32_t num_experts,
                          uint32_t* row_to_pair, uint32_t* expert_offsets);

// rows[r] = x[row_to_pair[r] / top_k] (hidden floats each).
void permute_rows_cpu(const float* x, uint32_t hidden, const uint32_t* row_to_pair, uint32_t num_rows,
                      uint32_t top_k, float* rows);

// out[t] += sum over rows r of token t: topk_weights[pair] * rows[r], pair = row_to_pair[r]
// and t = pair / top_k. `out` is num_tokens x hidden.
void unpermute_rows_cpu(const float* rows, uint32_t hidden, const uint32_t* row_to_pair, uint32_t num_rows,
                        uint32_t top_k, const float* topk_weights, float* out);

// y = (silu(x Wg) * (x Wu)) Wd for `rows` rows of x (rows x hidden); gate_up is hidden x
// 2*ffn (the gate's ffn columns, then the up projection's), down is ffn x hidden, all
// row-major. Plain loops: the reference the GPU FFN is checked against.
void swiglu_ffn_cpu(const float* gate_up, const float* down, uint32_t hidden, uint32_t ffn, const float* x,
                    uint32_t rows, float* y);

}  // namespace moeprof::kernels

// The MoE kernels on a GPU: the one host-side header of every launcher (built with
// MOEPROF_WITH_CUDA). Pointers are device memory unless a comment says host. Launchers are
// asynchronous on `stream`; they check their arguments first (std::invalid_argument for a
// size the kernels do not support, rather than computing something else) and their launches
// (CudaError with file:line, cuda_check.h). Each kernel computes what its *_cpu reference in
// moe_kernels.h computes, up to float rounding (sums in another order, expf).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "moeprof/kernels/moe_kernels.h"

namespace moeprof::kernels::cuda {

// Sizes the kernels are written for.
inline constexpr uint32_t kMaxGatingExperts = 1024;   // one warp per token, 32 experts per lane
inline constexpr uint32_t kMaxTopK = 32;              // one selected expert per lane
inline constexpr uint32_t kMaxGroups = 32;            // one group per lane
inline constexpr uint32_t kMaxHistogramExperts = 8192;  // a block's counters in shared memory

// True when the current CUDA device can run these kernels (compute capability 8.0 or newer;
// tests skip without one).
bool device_available();

// topk_gating_cpu on the GPU. config.selection_bias, when not empty, is num_experts floats
// in device memory.
void topk_gating(const float* logits, uint32_t num_tokens, const GatingConfig& config, int32_t* topk_ids,
                 float* topk_weights, cudaStream_t stream);

// expert_histogram_cpu on the GPU (counts are overwritten).
void expert_histogram(const int32_t* ids, size_t n, uint32_t num_experts, uint32_t* counts, cudaStream_t stream);

// Scratch that permute_plan needs for num_tokens * top_k pairs (asks CUB, so it needs a device).
size_t permute_plan_workspace_bytes(uint32_t num_tokens, uint32_t top_k, uint32_t num_experts);

// permute_plan_cpu on the GPU (a stable radix sort of the pairs by expert): row_to_pair holds
// num_tokens * top_k entries (the plan's rows first), expert_offsets num_experts + 1 (its
// last entry is the number of rows), and pair_to_row, the inverse, num_tokens * top_k
// entries (-1 for a pair left out).
void permute_plan(const int32_t* topk_ids, uint32_t num_tokens, uint32_t top_k, uint32_t num_experts,
                  uint32_t* row_to_pair, int32_t* pair_to_row, uint32_t* expert_offsets, void* workspace,
                  size_t workspace_bytes, cudaStream_t stream);

// permute_rows_cpu on the GPU; the number of rows is read from the device (*num_rows, e.g.
// &expert_offsets[num_experts]), at most max_rows.
void permute_rows(const float* x, uint32_t hidden, const uint32_t* row_to_pair, const uint32_t* num_rows,
                  uint32_t max_rows, uint32_t top_k, float* rows, cudaStream_t stream);

// unpermute_rows_cpu on the GPU, per token from pair_to_row (no atomics: each token's
// choices are added in choice order, so the result is deterministic). out += ...
void unpermute_rows(const float* rows, uint32_t hidden, const int32_t* pair_to_row, uint32_t num_tokens,
                    uint32_t top_k, const float* topk_weights, float* out, cudaStream_t stream);

// One expert's SwiGLU FFN weights, row-major as swiglu_ffn_cpu takes them.
struct ExpertFfnWeights {
  const float* gate_up = nullptr;  // hidden x 2*ffn: gate columns, then up columns
  const float* down = nullptr;     // ffn x hidden
};

// swiglu_ffn_cpu for each expert's rows, on the GPU through cuBLAS (handle bound to `stream`
// here). experts: host array of num_experts entries (an expert without rows may have null
// weights); expert_offsets: host, num_experts + 1, rows [expert_offsets[e], expert_offsets[e+1])
// of x and y belong to expert e, and x, y and scratch (rows * 2 * ffn floats) start at row
// expert_offsets[0].
// The role only names the SwiGLU kernel (…<routed_experts_tag> or …<shared_expert_tag>), so
// that kernel traces (CUPTI) tell routed experts from the shared expert.
enum class FfnRole : uint8_t { kRoutedExperts, kSharedExpert };
void grouped_swiglu_ffn(cublasHandle_t cublas, const ExpertFfnWeights* experts, uint32_t num_experts,
                        const uint32_t* expert_offsets, uint32_t hidden, uint32_t ffn, const float* x, float* y,
                        float* scratch, cudaStream_t stream, FfnRole role = FfnRole::kRoutedExperts);

}  // namespace moeprof::kernels::cuda

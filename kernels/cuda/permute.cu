// Expert histogram and the dispatch-side layout on the GPU: the plan is a stable radix sort
// of the (token, choice) pairs by expert (CUB), its offsets a histogram and an exclusive scan;
// rows move with one block per row, and come back per token in choice order (deterministic).
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <stdexcept>
#include <string>

#include "moeprof/kernels/cuda_check.h"
#include "moeprof/kernels/moe_kernels_cuda.h"

namespace moeprof::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr uint32_t kMaxBlocks = 1024;
constexpr size_t kAlignment = 256;

uint32_t blocks_for(size_t items) {
  const size_t blocks = (items + kThreads - 1) / kThreads;
  return static_cast<uint32_t>(blocks < kMaxBlocks ? (blocks == 0 ? 1 : blocks) : kMaxBlocks);
}

__global__ void expert_histogram_kernel(const int32_t* __restrict__ ids, size_t n, uint32_t num_experts,
                                        uint32_t* __restrict__ counts) {
  extern __shared__ uint32_t block_counts[];
  for (uint32_t e = threadIdx.x; e < num_experts; e += blockDim.x) block_counts[e] = 0;
  __syncthreads();
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const int32_t e = ids[i];
    if (e >= 0 && static_cast<uint32_t>(e) < num_experts) atomicAdd(&block_counts[e], 1u);
  }
  __syncthreads();
  for (uint32_t e = threadIdx.x; e < num_experts; e += blockDim.x)
    if (block_counts[e] != 0) atomicAdd(&counts[e], block_counts[e]);
}

// Sort keys (the expert, or num_experts for a pair left out: it sorts last) and values (the
// pair's index).
__global__ void sort_inputs_kernel(const int32_t* __restrict__ ids, uint32_t pairs, uint32_t num_experts,
                                   uint32_t* __restrict__ keys, uint32_t* __restrict__ values) {
  for (uint32_t p = blockIdx.x * blockDim.x + threadIdx.x; p < pairs; p += gridDim.x * blockDim.x) {
    const int32_t e = ids[p];
    keys[p] = e >= 0 && static_cast<uint32_t>(e) < num_experts ? static_cast<uint32_t>(e) : num_experts;
    values[p] = p;
  }
}

__global__ void invert_kernel(const uint32_t* __restrict__ row_to_pair, const uint32_t* __restrict__ num_rows,
                              int32_t* __restrict__ pair_to_row) {
  const uint32_t rows = *num_rows;
  for (uint32_t r = blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += gridDim.x * blockDim.x)
    pair_to_row[row_to_pair[r]] = static_cast<int32_t>(r);
}

__global__ void permute_rows_kernel(const float* __restrict__ x, uint32_t hidden,
                                    const uint32_t* __restrict__ row_to_pair, const uint32_t* __restrict__ num_rows,
                                    uint32_t max_rows, uint32_t top_k, float* __restrict__ rows) {
  const uint32_t n = min(*num_rows, max_rows);  // never past the caller's buffer
  for (uint32_t r = blockIdx.x; r < n; r += gridDim.x) {
    const float* src = x + static_cast<size_t>(row_to_pair[r] / top_k) * hidden;
    float* dst = rows + static_cast<size_t>(r) * hidden;
    for (uint32_t h = threadIdx.x; h < hidden; h += blockDim.x) dst[h] = src[h];
  }
}

__global__ void unpermute_rows_kernel(const float* __restrict__ rows, uint32_t hidden,
                                      const int32_t* __restrict__ pair_to_row, uint32_t num_tokens, uint32_t top_k,
                                      const float* __restrict__ weights, float* __restrict__ out) {
  for (uint32_t t = blockIdx.x; t < num_tokens; t += gridDim.x) {
    float* dst = out + static_cast<size_t>(t) * hidden;
    for (uint32_t h = threadIdx.x; h < hidden; h += blockDim.x) {
      float acc = dst[h];
      for (uint32_t c = 0; c < top_k; ++c) {
        const size_t pair = static_cast<size_t>(t) * top_k + c;
        const int32_t r = pair_to_row[pair];
        if (r >= 0) acc += weights[pair] * rows[static_cast<size_t>(r) * hidden + h];
      }
      dst[h] = acc;
    }
  }
}

size_t aligned(size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }

int key_bits(uint32_t num_experts) {
  int bits = 1;
  while ((uint64_t{1} << bits) <= num_experts) ++bits;  // keys go up to num_experts itself
  return bits;
}

// The workspace's parts, in order.
struct PlanWorkspace {
  size_t keys_in, keys_out, values_in, counts, cub;
  size_t total() const { return keys_in + keys_out + values_in + counts + cub; }
};

PlanWorkspace plan_workspace(uint32_t pairs, uint32_t num_experts) {
  size_t sort_bytes = 0, scan_bytes = 0;
  MOEPROF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, sort_bytes, static_cast<const uint32_t*>(nullptr), static_cast<uint32_t*>(nullptr),
      static_cast<const uint32_t*>(nullptr), static_cast<uint32_t*>(nullptr), static_cast<int>(pairs), 0,
      key_bits(num_experts)));
  MOEPROF_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, static_cast<const uint32_t*>(nullptr),
                                                   static_cast<uint32_t*>(nullptr), static_cast<int>(num_experts + 1)));
  const size_t words = aligned(size_t(pairs) * sizeof(uint32_t));
  return {words, words, words, aligned((size_t(num_experts) + 1) * sizeof(uint32_t)),
          aligned(sort_bytes > scan_bytes ? sort_bytes : scan_bytes)};
}

void check_pairs(uint32_t num_tokens, uint32_t top_k) {
  if (uint64_t{num_tokens} * top_k > INT32_MAX)
    throw std::invalid_argument("permute_plan: " + std::to_string(uint64_t{num_tokens} * top_k) +
                                " pairs; CUB's sort takes at most 2^31 - 1");
}

}  // namespace

void expert_histogram(const int32_t* ids, size_t n, uint32_t num_experts, uint32_t* counts, cudaStream_t stream) {
  if (num_experts == 0 || num_experts > kMaxHistogramExperts)
    throw std::invalid_argument("expert_histogram: " + std::to_string(num_experts) + " experts; the kernel takes 1.." +
                                std::to_string(kMaxHistogramExperts));
  MOEPROF_CUDA_CHECK(cudaMemsetAsync(counts, 0, num_experts * sizeof(uint32_t), stream));
  if (n == 0) return;
  expert_histogram_kernel<<<blocks_for(n), kThreads, num_experts * sizeof(uint32_t), stream>>>(ids, n, num_experts,
                                                                                               counts);
  MOEPROF_CUDA_CHECK_LAUNCH();
}

size_t permute_plan_workspace_bytes(uint32_t num_tokens, uint32_t top_k, uint32_t num_experts) {
  check_pairs(num_tokens, top_k);
  return plan_workspace(num_tokens * top_k, num_experts).total();
}

void permute_plan(const int32_t* topk_ids, uint32_t num_tokens, uint32_t top_k, uint32_t num_experts,
                  uint32_t* row_to_pair, int32_t* pair_to_row, uint32_t* expert_offsets, void* workspace,
                  size_t workspace_bytes, cudaStream_t stream) {
  check_pairs(num_tokens, top_k);
  const uint32_t pairs = num_tokens * top_k;
  const PlanWorkspace parts = plan_workspace(pairs, num_experts);
  if (workspace_bytes < parts.total())
    throw std::invalid_argument("permute_plan: workspace of " + std::to_string(workspace_bytes) + " bytes; it needs " +
                                std::to_string(parts.total()) + " (permute_plan_workspace_bytes)");
  auto* base = static_cast<unsigned char*>(workspace);
  auto* keys_in = reinterpret_cast<uint32_t*>(base);
  auto* keys_out = reinterpret_cast<uint32_t*>(base + parts.keys_in);
  auto* values_in = reinterpret_cast<uint32_t*>(base + parts.keys_in + parts.keys_out);
  auto* counts = reinterpret_cast<uint32_t*>(base + parts.keys_in + parts.keys_out + parts.values_in);
  void* cub_space = base + parts.keys_in + parts.keys_out + parts.values_in + parts.counts;
  size_t cub_bytes = parts.cub;

  // Offsets: the histogram with a zero after it, scanned, so the last offset is the total.
  MOEPROF_CUDA_CHECK(cudaMemsetAsync(counts + num_experts, 0, sizeof(uint32_t), stream));
  expert_histogram(topk_ids, pairs, num_experts, counts, stream);
  MOEPROF_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(cub_space, cub_bytes, counts, expert_offsets,
                                                   static_cast<int>(num_experts + 1), stream));
  MOEPROF_CUDA_CHECK(cudaMemsetAsync(pair_to_row, 0xff, size_t(pairs) * sizeof(int32_t), stream));  // -1
  if (pairs == 0) return;
  sort_inputs_kernel<<<blocks_for(pairs), kThreads, 0, stream>>>(topk_ids, pairs, num_experts, keys_in, values_in);
  MOEPROF_CUDA_CHECK_LAUNCH();
  cub_bytes = parts.cub;
  // Radix sort is stable: pairs of one expert stay in pair (token) order, as on the CPU.
  MOEPROF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(cub_space, cub_bytes, keys_in, keys_out, values_in, row_to_pair,
                                                     static_cast<int>(pairs), 0, key_bits(num_experts), stream));
  invert_kernel<<<blocks_for(pairs), kThreads, 0, stream>>>(row_to_pair, expert_offsets + num_experts, pair_to_row);
  MOEPROF_CUDA_CHECK_LAUNCH();
}

void permute_rows(const float* x, uint32_t hidden, const uint32_t* row_to_pair, const uint32_t* num_rows,
                  uint32_t max_rows, uint32_t top_k, float* rows, cudaStream_t stream) {
  if (top_k == 0) throw std::invalid_argument("permute_rows: top_k must be positive");
  if (max_rows == 0 || hidden == 0) return;
  const uint32_t blocks = max_rows < 65535 ? max_rows : 65535;
  permute_rows_kernel<<<blocks, kThreads, 0, stream>>>(x, hidden, row_to_pair, num_rows, max_rows, top_k, rows);
  MOEPROF_CUDA_CHECK_LAUNCH();
}

void unpermute_rows(const float* rows, uint32_t hidden, const int32_t* pair_to_row, uint32_t num_tokens, uint32_t top_k,
                    const float* topk_weights, float* out, cudaStream_t stream) {
  if (top_k == 0) throw std::invalid_argument("unpermute_rows: top_k must be positive");
  if (num_tokens == 0 || hidden == 0) return;
  const uint32_t blocks = num_tokens < 65535 ? num_tokens : 65535;
  unpermute_rows_kernel<<<blocks, kThreads, 0, stream>>>(rows, hidden, pair_to_row, num_tokens, top_k, topk_weights,
                                                         out);
  MOEPROF_CUDA_CHECK_LAUNCH();
}

}  // namespace moeprof::kernels::cuda

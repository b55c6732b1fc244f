// The grouped SwiGLU expert FFN on the GPU: per expert with rows, one cuBLAS GEMM into the
// gate|up scratch, then one elementwise kernel over all rows (silu(gate) * up, written over
// the gate half, as the CPU reference does), then one GEMM per expert for the down projection.
// cuBLAS is column-major: a row-major C = A B is the column-major C^T = B^T A^T, so each call
// passes the weight first.
#include <stdexcept>
#include <string>

#include "moeprof/kernels/cuda_check.h"
#include "moeprof/kernels/moe_kernels_cuda.h"

namespace moeprof::kernels::cuda {
namespace {

constexpr int kThreads = 256;

// Tags that only name the kernel instance (its demangled name carries them).
struct routed_experts_tag {};
struct shared_expert_tag {};

template <class RoleTag>
__global__ void grouped_swiglu_kernel(float* __restrict__ gate_up, uint32_t rows, uint32_t ffn) {
  const size_t n = static_cast<size_t>(rows) * ffn;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    float* row = gate_up + (i / ffn) * 2 * ffn;
    const size_t j = i % ffn;
    const float g = row[j];
    row[j] = g / (1.0f + expf(-g)) * row[ffn + j];
  }
}

}  // namespace

void grouped_swiglu_ffn(cublasHandle_t cublas, const ExpertFfnWeights* experts, uint32_t num_experts,
                        const uint32_t* expert_offsets, uint32_t hidden, uint32_t ffn, const float* x, float* y,
                        float* scratch, cudaStream_t stream, FfnRole role) {
  if (hidden == 0 || ffn == 0) throw std::invalid_argument("grouped_swiglu_ffn: hidden and ffn must be positive");
  if (uint64_t{2} * ffn > INT32_MAX || hidden > INT32_MAX)
    throw std::invalid_argument("grouped_swiglu_ffn: sizes beyond cuBLAS's int dimensions");
  const uint32_t total_rows = expert_offsets[num_experts] - expert_offsets[0];
  if (total_rows == 0) return;
  MOEPROF_CUBLAS_CHECK(cublasSetStream(cublas, stream));
  const float one = 1.0f, zero = 0.0f;
  const int h = static_cast<int>(hidden), f = static_cast<int>(ffn);
  const uint32_t first_row = expert_offsets[0];
  for (uint32_t e = 0; e < num_experts; ++e) {
    const uint32_t rows = expert_offsets[e + 1] - expert_offsets[e];
    if (rows == 0) continue;
    if (experts[e].gate_up == nullptr || experts[e].down == nullptr)
      throw std::invalid_argument("grouped_swiglu_ffn: expert " + std::to_string(e) + " has rows but no weights");
    const size_t r0 = expert_offsets[e] - first_row;
    // gate_up rows: (rows x hidden) x (hidden x 2 ffn)
    MOEPROF_CUBLAS_CHECK(cublasSgemm(cublas, CUBLAS_OP_N, CUBLAS_OP_N, 2 * f, static_cast<int>(rows), h, &one,
                                     experts[e].gate_up, 2 * f, x + r0 * hidden, h, &zero, scratch + r0 * 2 * ffn,
                                     2 * f));
  }
  const size_t items = size_t(total_rows) * ffn;
  const size_t wanted = (items + kThreads - 1) / kThreads;
  const unsigned blocks = static_cast<unsigned>(wanted < 4096 ? wanted : 4096);
  if (role == FfnRole::kSharedExpert)
    grouped_swiglu_kernel<shared_expert_tag><<<blocks, kThreads, 0, stream>>>(scratch, total_rows, ffn);
  else
    grouped_swiglu_kernel<routed_experts_tag><<<blocks, kThreads, 0, stream>>>(scratch, total_rows, ffn);
  MOEPROF_CUDA_CHECK_LAUNCH();
  for (uint32_t e = 0; e < num_experts; ++e) {
    const uint32_t rows = expert_offsets[e + 1] - expert_offsets[e];
    if (rows == 0) continue;
    const size_t r0 = expert_offsets[e] - first_row;
    // y rows: (rows x ffn, row stride 2 ffn) x (ffn x hidden)
    MOEPROF_CUBLAS_CHECK(cublasSgemm(cublas, CUBLAS_OP_N, CUBLAS_OP_N, h, static_cast<int>(rows), f, &one,
                                     experts[e].down, h, scratch + r0 * 2 * ffn, 2 * f, &zero, y + r0 * hidden, h));
  }
}

}  // namespace moeprof::kernels::cuda

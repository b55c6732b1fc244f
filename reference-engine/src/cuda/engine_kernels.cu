#include "engine_kernels.h"
#include "moeprof/kernels/cuda_check.h"

namespace moeprof::engine::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(size_t n) {
  const size_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks == 0 ? 1 : blocks < 4096 ? blocks : 4096);
}

// One block per token; the sum of squares in double, as on the CPU.
__global__ void rms_norm_kernel(const float* __restrict__ x, uint32_t tokens, uint32_t hidden,
                                float* __restrict__ out) {
  __shared__ double partial[kThreads];
  for (uint32_t t = blockIdx.x; t < tokens; t += gridDim.x) {
    const float* row = x + static_cast<size_t>(t) * hidden;
    double squares = 0.0;
    for (uint32_t i = threadIdx.x; i < hidden; i += blockDim.x) squares += double(row[i]) * row[i];
    partial[threadIdx.x] = squares;
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
      if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
      __syncthreads();
    }
    const float scale = static_cast<float>(1.0 / sqrt(partial[0] / hidden + 1e-6));
    for (uint32_t i = threadIdx.x; i < hidden; i += blockDim.x)
      out[static_cast<size_t>(t) * hidden + i] = row[i] * scale;
    __syncthreads();  // partial[] is reused by the next token
  }
}

__global__ void add_column_bias_kernel(float* __restrict__ logits, size_t n, uint32_t columns,
                                       const float* __restrict__ bias) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    logits[i] += bias[i % columns];
}

__global__ void residual_add_kernel(float* __restrict__ x, const float* __restrict__ shared,
                                    const float* __restrict__ y, size_t n) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    x[i] = (shared != nullptr ? x[i] + shared[i] : x[i]) + y[i];
}

__global__ void fill_kernel(float* __restrict__ out, size_t n, float value) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    out[i] = value;
}

}  // namespace

void rms_norm(const float* x, uint32_t tokens, uint32_t hidden, float* out, cudaStream_t stream) {
  if (tokens == 0) return;
  const uint32_t blocks = tokens < 65535 ? tokens : 65535;
  rms_norm_kernel<<<blocks, kThreads, 0, stream>>>(x, tokens, hidden, out);
  MOEPROF_CUDA_CHECK_LAUNCH();
}

void add_column_bias(float* logits, uint32_t tokens, uint32_t columns, const float* bias, cudaStream_t stream) {
  const size_t n = size_t(tokens) * columns;
  if (n == 0) return;
  add_column_bias_kernel<<<blocks_for(n), kThreads, 0, stream>>>(logits, n, columns, bias);
  MOEPROF_CUDA_CHECK_LAUNCH();
}

void residual_add(float* x, const float* shared, const float* y, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  residual_add_kernel<<<blocks_for(n), kThreads, 0, stream>>>(x, shared, y, n);
  MOEPROF_CUDA_CHECK_LAUNCH();
}

void fill(float* out, size_t n, float value, cudaStream_t stream) {
  if (n == 0) return;
  fill_kernel<<<blocks_for(n), kThreads, 0, stream>>>(out, n, value);
  MOEPROF_CUDA_CHECK_LAUNCH();
}

}  // namespace moeprof::engine::cuda

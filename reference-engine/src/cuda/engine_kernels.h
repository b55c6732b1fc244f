// The engine's own small GPU steps around the MoE kernels (kernels/): RMSNorm, the skew bias
// on router logits, and the residual sum. Asynchronous on `stream`, checked (CudaError).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace moeprof::engine::cuda {

// out[t] = x[t] / rms(x[t]), as engine::rms_norm (router.h) on the CPU.
void rms_norm(const float* x, uint32_t tokens, uint32_t hidden, float* out, cudaStream_t stream);
// logits[t][e] += bias[e].
void add_column_bias(float* logits, uint32_t tokens, uint32_t columns, const float* bias, cudaStream_t stream);
// x += shared (when not null) + y, n floats.
void residual_add(float* x, const float* shared, const float* y, size_t n, cudaStream_t stream);
// out[i] = value, n floats.
void fill(float* out, size_t n, float value, cudaStream_t stream);

}  // namespace moeprof::engine::cuda

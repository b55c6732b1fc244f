// The GPU kernels' figures (issue 9), on whatever GPU runs it (exit 77 without one):
//   - top-k gating at DeepSeek-V3's shape (256 experts, sigmoid + bias, 8 groups / best 4,
//     top-8) and Mixtral's (8 experts, softmax top-2): bytes moved (logits read, ids and
//     weights written) per second, as a fraction of the device's peak memory bandwidth
//     (2 x memory clock x bus width); target >= 0.70 at DeepSeek-V3's shape;
//   - the grouped SwiGLU expert FFN over tokens spread across experts, against one dense
//     cuBLAS GEMM chain of the same total FLOPs (all rows through one expert): target >= 0.70.
// Times are CUDA events around R repetitions after a warm-up; prints one line per figure.
//
//   moeprof_kernels_bench [--tokens N] [--reps R]
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "moeprof/kernels/cuda_check.h"
#include "moeprof/kernels/moe_kernels_cuda.h"

namespace {

using namespace moeprof::kernels;

template <class T>
T* device_copy(const std::vector<T>& host) {
  void* memory = nullptr;
  MOEPROF_CUDA_CHECK(cudaMalloc(&memory, host.size() * sizeof(T)));
  MOEPROF_CUDA_CHECK(cudaMemcpy(memory, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return static_cast<T*>(memory);
}

template <class T>
T* device_array(size_t n) {
  void* memory = nullptr;
  MOEPROF_CUDA_CHECK(cudaMalloc(&memory, n * sizeof(T)));
  return static_cast<T*>(memory);
}

// Milliseconds per call of `work` (R calls between two events, after one warm-up call).
double time_ms(int reps, const std::function<void()>& work) {
  work();
  cudaEvent_t start, stop;
  MOEPROF_CUDA_CHECK(cudaEventCreate(&start));
  MOEPROF_CUDA_CHECK(cudaEventCreate(&stop));
  MOEPROF_CUDA_CHECK(cudaEventRecord(start));
  for (int i = 0; i < reps; ++i) work();
  MOEPROF_CUDA_CHECK(cudaEventRecord(stop));
  MOEPROF_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  MOEPROF_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return ms / reps;
}

double peak_bandwidth_gbs() {
  int device = 0, clock_khz = 0, bus_bits = 0;
  MOEPROF_CUDA_CHECK(cudaGetDevice(&device));
  MOEPROF_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device));
  MOEPROF_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
  return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;  // double data rate
}

void gating(const char* name, GatingConfig config, uint32_t tokens, int reps, double peak) {
  std::mt19937 random(1);
  std::normal_distribution<float> normal;
  std::vector<float> logits(size_t(tokens) * config.num_experts), bias(config.num_experts);
  for (auto& v : logits) v = normal(random);
  for (auto& v : bias) v = 0.01f * normal(random);
  float* d_logits = device_copy(logits);
  float* d_bias = device_copy(bias);
  if (config.score == ScoreFunction::kSigmoid) config.selection_bias = std::span<const float>(d_bias, bias.size());
  int32_t* ids = device_array<int32_t>(size_t(tokens) * config.top_k);
  float* weights = device_array<float>(size_t(tokens) * config.top_k);
  const double ms = time_ms(reps, [&] { cuda::topk_gating(d_logits, tokens, config, ids, weights, nullptr); });
  const double bytes = double(tokens) * config.num_experts * 4 + double(tokens) * config.top_k * 8;
  const double gbs = bytes / (ms * 1e-3) / 1e9;
  std::printf("topk_gating %-12s %u tokens x %u experts top-%u: %.3f ms, %.0f GB/s = %.2f of peak %.0f GB/s\n", name,
              tokens, config.num_experts, config.top_k, ms, gbs, gbs / peak, peak);
  cudaFree(d_logits);
  cudaFree(d_bias);
  cudaFree(ids);
  cudaFree(weights);
}

void expert_ffn(uint32_t tokens, int reps) {
  const uint32_t experts = 32, hidden = 2048, ffn = 1024;  // a DeepSeek-like expert, scaled
  std::mt19937 random(2);
  std::uniform_real_distribution<float> value(-0.05f, 0.05f);
  std::vector<float> gate_up(size_t(hidden) * 2 * ffn), down(size_t(ffn) * hidden), x(size_t(tokens) * hidden);
  for (auto* v : {&gate_up, &down, &x})
    for (auto& f : *v) f = value(random);
  float* d_gate_up = device_copy(gate_up);
  float* d_down = device_copy(down);
  float* d_x = device_copy(x);
  float* d_y = device_array<float>(x.size());
  float* scratch = device_array<float>(size_t(tokens) * 2 * ffn);
  cublasHandle_t cublas;
  MOEPROF_CUBLAS_CHECK(cublasCreate(&cublas));
  // Every expert shares one weight set (the FLOPs are what matter); rows spread unevenly.
  std::vector<cuda::ExpertFfnWeights> weights(experts, cuda::ExpertFfnWeights{d_gate_up, d_down});
  std::vector<uint32_t> grouped(experts + 1, 0), dense = {0, tokens};
  for (uint32_t e = 0; e < experts; ++e) grouped[e + 1] = uint32_t(uint64_t(tokens) * (e + 1) * (e + 2) / (experts * (experts + 1)));
  const double grouped_ms = time_ms(reps, [&] {
    cuda::grouped_swiglu_ffn(cublas, weights.data(), experts, grouped.data(), hidden, ffn, d_x, d_y, scratch, nullptr);
  });
  const double dense_ms = time_ms(reps, [&] {
    cuda::grouped_swiglu_ffn(cublas, weights.data(), 1, dense.data(), hidden, ffn, d_x, d_y, scratch, nullptr);
  });
  const double flops = 2.0 * tokens * hidden * 3.0 * ffn;
  std::printf("grouped_swiglu_ffn %u rows over %u experts (hidden %u, ffn %u): %.3f ms (%.1f TFLOP/s) vs dense %.3f ms "
              "(%.1f TFLOP/s): %.2f of dense\n",
              tokens, experts, hidden, ffn, grouped_ms, flops / (grouped_ms * 1e-3) / 1e12, dense_ms,
              flops / (dense_ms * 1e-3) / 1e12, dense_ms / grouped_ms);
  cublasDestroy(cublas);
  for (float* p : {d_gate_up, d_down, d_x, d_y, scratch}) cudaFree(p);
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t tokens = 65536;
  int reps = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--tokens") == 0) tokens = uint32_t(std::strtoul(argv[i + 1], nullptr, 10));
    else if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
  }
  if (!cuda::device_available()) {
    std::fprintf(stderr, "moeprof_kernels_bench: no CUDA device, nothing measured\n");
    return 77;
  }
  try {
    cudaDeviceProp prop{};
    MOEPROF_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    const double peak = peak_bandwidth_gbs();
    std::printf("device: %s\n", prop.name);
    GatingConfig deepseek;
    deepseek.num_experts = 256;
    deepseek.top_k = 8;
    deepseek.score = ScoreFunction::kSigmoid;
    deepseek.num_groups = 8;
    deepseek.topk_groups = 4;
    deepseek.routed_scaling = 2.5f;
    gating("deepseek-v3", deepseek, tokens, reps, peak);
    GatingConfig mixtral;
    mixtral.num_experts = 8;
    mixtral.top_k = 2;
    gating("mixtral", mixtral, tokens, reps, peak);
    expert_ffn(8192, reps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moeprof_kernels_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

// Expert FFN efficiency of moe-engine (issue 4: >= 0.8 of plain OpenBLAS sgemm).
//
// One rank's expert work on the deepseek-v3 preset's engine shapes (hidden, ffn, experts,
// top-k from the preset): a global batch of ranks x tokens tokens goes through layer 0's real
// router (the preset's gating, as the engine runs it), and the rows the first 1/ranks of
// the experts receive are run by grouped_expert_ffn (per expert: sgemm gate/up, SwiGLU,
// sgemm down). The baseline is the same total shapes as two plain cblas_sgemm calls over all
// M rows at once (M x H -> 2F, M x F -> H): the same FLOPs, one big GEMM each, no SwiGLU.
// Both run in every iteration, interleaved, each timed on its own; counters:
//   grouped_GFLOPs, sgemm_GFLOPs, ratio = grouped / sgemm (target >= 0.8), rows (M), experts_used.
// Single-threaded OpenBLAS, as each engine rank runs it.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <chrono>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "expert_ffn.h"
#include "inputs.h"
#include "model_config.h"
#include "options.h"
#include "router.h"
#include "weights.h"

namespace {

using moeprof::engine::FfnWeights;

struct Workload {
  moeprof::engine::ModelConfig model;
  std::vector<FfnWeights> experts;  // the rank's share: experts [0, experts / ranks)
  std::vector<uint32_t> offsets;    // per held expert, into the grouped rows
  std::vector<float> x, y, plain_gu, plain_w_gu, plain_w_down, plain_y;
  uint32_t rows = 0, used = 0;
};

Workload make_workload(int ranks, int tokens_per_rank) {
  Workload w;
  moeprof::engine::Options options;
  options.preset = "deepseek-v3";
  std::string error;
  if (!moeprof::engine::resolve_model(options, &w.model, &error)) throw std::runtime_error(error);
  const auto& m = w.model;
  const uint32_t hidden = uint32_t(m.hidden), tokens = uint32_t(ranks * tokens_per_rank), k = uint32_t(m.top_k);
  const int32_t held = m.num_experts / ranks;
  std::vector<int32_t> ids_held(static_cast<size_t>(held));
  std::iota(ids_held.begin(), ids_held.end(), 0);
  const moeprof::engine::LayerWeights lw = moeprof::engine::make_layer_weights(m, 1, 0, ids_held);

  // The real router over the global batch: how many rows each held expert receives.
  std::vector<float> x(size_t(tokens) * hidden), h(x.size()), logits, topk_w(size_t(tokens) * k);
  std::vector<int32_t> ids(size_t(tokens) * k);
  moeprof::engine::make_tokens(1, 0, 0, tokens, hidden, x.data());
  moeprof::engine::rms_norm(x.data(), tokens, hidden, h.data());
  moeprof::engine::route(m, lw.router, h.data(), tokens, {}, {}, logits, ids.data(), topk_w.data());
  std::vector<uint32_t> counts(static_cast<size_t>(held), 0);
  for (int32_t id : ids)
    if (id < held) ++counts[size_t(id)];
  w.offsets.push_back(0);
  for (uint32_t c : counts) {
    w.offsets.push_back(w.offsets.back() + c);
    w.used += c ? 1 : 0;
  }
  w.rows = w.offsets.back();
  w.experts.assign(lw.experts.begin(), lw.experts.begin() + held);

  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  const auto fill = [&](std::vector<float>& v, size_t n) {
    v.resize(n);
    for (float& f : v) f = normal(rng);
  };
  const size_t f = size_t(m.ffn);
  fill(w.x, size_t(w.rows) * hidden);
  w.y.resize(w.x.size());
  fill(w.plain_w_gu, hidden * 2 * f);
  fill(w.plain_w_down, f * hidden);
  w.plain_gu.resize(size_t(w.rows) * 2 * f);
  w.plain_y.resize(w.x.size());
  return w;
}

void BM_ExpertFfnVsSgemm(benchmark::State& state) {
  openblas_set_num_threads(1);
  const int ranks = int(state.range(0)), tokens = int(state.range(1));
  Workload w = make_workload(ranks, tokens);
  const int m = int(w.rows), h = w.model.hidden, f = w.model.ffn;
  moeprof::engine::FfnScratch scratch;
  double grouped_s = 0.0, plain_s = 0.0;
  using clock = std::chrono::steady_clock;
  for (auto _ : state) {
    auto t0 = clock::now();
    moeprof::engine::grouped_expert_ffn(w.experts, w.x.data(), w.offsets, w.y.data(), scratch, {});
    auto t1 = clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, 2 * f, h, 1.0f, w.x.data(), h, w.plain_w_gu.data(),
                2 * f, 0.0f, w.plain_gu.data(), 2 * f);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, h, f, 1.0f, w.plain_gu.data(), 2 * f,
                w.plain_w_down.data(), h, 0.0f, w.plain_y.data(), h);
    auto t2 = clock::now();
    benchmark::DoNotOptimize(w.y.data());
    benchmark::DoNotOptimize(w.plain_y.data());
    grouped_s += std::chrono::duration<double>(t1 - t0).count();
    plain_s += std::chrono::duration<double>(t2 - t1).count();
  }
  const double flops = 6.0 * m * h * f * double(state.iterations());
  const double grouped = grouped_s > 0 ? flops / grouped_s / 1e9 : 0.0;
  const double plain = plain_s > 0 ? flops / plain_s / 1e9 : 0.0;
  state.counters["rows"] = m;
  state.counters["experts_used"] = w.used;
  state.counters["grouped_GFLOPs"] = grouped;
  state.counters["sgemm_GFLOPs"] = plain;
  state.counters["ratio"] = plain > 0 ? grouped / plain : 0.0;
  state.SetLabel("deepseek-v3 H=" + std::to_string(h) + " F=" + std::to_string(f) + " " +
                 std::to_string(w.experts.size()) + " experts/rank");
}

// {ranks, tokens per rank}: the engine's default batch (128) and larger ones.
BENCHMARK(BM_ExpertFfnVsSgemm)->ArgNames({"ranks", "tokens"})->Args({4, 128})->Args({4, 512})->Args({4, 2048});

}  // namespace

BENCHMARK_MAIN();

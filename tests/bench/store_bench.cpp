// Store benchmarks (issue 3, section 6):
//  * Ingest: records/s through Writer::add_* into a temporary trace, one core (CPU time; the
//    wall-clock rate, which adds waiting for the disk at WAL checkpoints, is reported too).
//    Target: ≥ 2 M records/s. Realistic records: expert counts of 256 experts, all-to-alls
//    with 8 peers, compute spans, in the proportions of one MoE layer on one rank (mix 0),
//    and each kind alone; with the window summaries `moeprof run` writes (1) and without
//    (0), so their cost is the ratio of the two rates.
//  * Bytes on disk per step for the DeepSeek-V3 shape (61 layers × 256 experts, top-8,
//    8 ranks × 4096 tokens), written by synth: counts only (target ≤ 200 KB/step),
//    counts + all-to-all + compute, and with full routing.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "moeprof/analysis/window_summariser.h"
#include "moeprof/store/writer.h"
#include "moeprof/synth/synth.h"

namespace moeprof::store {
namespace {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "moeprof-store-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

constexpr int kExperts = 256, kPeers = 8, kLayers = 61;

// Count vectors as a DeepSeek-V3 layer produces them: 4096 tokens × top-8 over 256 experts.
std::vector<std::vector<uint32_t>> realistic_counts() {
  std::mt19937_64 rng(42);
  std::vector<std::vector<uint32_t>> pool(64, std::vector<uint32_t>(kExperts, 0));
  for (auto& counts : pool)
    for (int pick = 0; pick < 4096 * 8; ++pick) ++counts[rng() % kExperts];
  return pool;
}

enum RowMix { kMixed, kExpertLoadOnly, kAllToAllOnly, kComputeSpanOnly };

// Rows of one (step, layer) on one rank: 1 expert_load, dispatch + combine, gate + shared
// expert + experts spans.
void BM_Ingest(benchmark::State& state) {
  const auto mix = static_cast<RowMix>(state.range(0));
  const bool summaries = state.range(1) != 0;
  ScratchDir dir;
  std::string error;
  auto writer = Writer::create(dir.file("ingest.db"), &error, summaries ? store::in_background(analysis::make_window_summariser()) : nullptr);
  if (!writer) {
    state.SkipWithError(error.c_str());
    return;
  }
  const auto pool = realistic_counts();
  ExpertLoad load;
  AllToAllEvent a2a;
  a2a.peers.resize(kPeers);
  ComputeSpan span;
  span.name = "moe.experts";
  int64_t rows = 0, t = 0, key = 0;
  const auto wall_start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const int32_t rank = static_cast<int32_t>(key % kPeers);
    const int64_t step = key / (kPeers * kLayers);
    const int32_t layer = static_cast<int32_t>(key / kPeers % kLayers);
    ++key;
    if (mix == kMixed || mix == kExpertLoadOnly) {
      load.rank = rank;
      load.step = step;
      load.layer = layer;
      load.counts = pool[key % pool.size()];
      writer->add_expert_load(load);
      ++rows;
    }
    if (mix == kMixed || mix == kAllToAllOnly) {
      for (wire::Phase phase : {wire::Phase::kDispatch, wire::Phase::kCombine}) {
        a2a.rank = rank;
        a2a.step = step;
        a2a.layer = layer;
        a2a.phase = phase;
        a2a.start_ns = t += 1000;
        a2a.end_ns = t += 8'000'000;
        for (int p = 0; p < kPeers; ++p)
          a2a.peers[p] = {p, 51'000'000u + static_cast<uint64_t>(key % 977) * 14336, 50'000'000u + static_cast<uint64_t>(p) * 14336};
        writer->add_all_to_all(a2a);
        rows += 1;
      }
    }
    if (mix == kMixed || mix == kComputeSpanOnly) {
      for (wire::ComputeKind kind : {wire::ComputeKind::kGate, wire::ComputeKind::kSharedExpert, wire::ComputeKind::kExpert}) {
        span.rank = rank;
        span.step = step;
        span.layer = layer;
        span.kind = kind;
        span.start_ns = t += 500;
        span.end_ns = t += 700'000;
        writer->add_compute_span(span);
        ++rows;
      }
    }
  }
  if (!writer->commit(&error)) state.SkipWithError(error.c_str());
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  state.SetItemsProcessed(rows);
  state.counters["wall_records_per_s"] = static_cast<double>(rows) / wall_s;
  state.counters["records_per_s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Ingest)
    ->ArgsProduct({{kMixed, kExpertLoadOnly, kAllToAllOnly, kComputeSpanOnly}, {0, 1}})
    ->ArgNames({"mix(0=all,1=load,2=a2a,3=span)", "summaries"})
    ->MinTime(3.0)
    ->Unit(benchmark::kMicrosecond);

// Bytes per step of a DeepSeek-V3 job: (size of a trace with `steps` steps - size of an
// empty trace) / steps, so that the fixed cost of the schema's pages is not counted.
void BM_BytesPerStep(benchmark::State& state) {
  const bool all_to_all_and_compute = state.range(0) >= 1, routing = state.range(0) == 2;
  synth::Options o;
  o.shape = *synth::find_shape("deepseek-v3");
  o.ranks = 8;
  o.tokens_per_rank = 4096;
  o.zipf_skew = state.range(1) / 10.0;
  o.counts = true;
  o.all_to_all = o.compute = all_to_all_and_compute;
  o.routing = routing;
  const int64_t steps = routing ? 2 : 40;
  ScratchDir dir;
  std::string error;
  double bytes_per_step = 0, seconds = 0;
  for (auto _ : state) {
    o.steps = 0;
    const std::string empty = dir.file("empty.db"), full = dir.file("full.db");
    std::filesystem::remove(empty);
    std::filesystem::remove(full);
    if (!synth::generate(o, empty, &error)) return state.SkipWithError(error.c_str());
    o.steps = steps;
    const auto start = std::chrono::steady_clock::now();
    if (!synth::generate(o, full, &error)) return state.SkipWithError(error.c_str());
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bytes_per_step = static_cast<double>(std::filesystem::file_size(full) - std::filesystem::file_size(empty)) / steps;
  }
  state.counters["KB_per_step"] = bytes_per_step / 1024;
  state.counters["synth_steps_per_s"] = steps / seconds;
}
BENCHMARK(BM_BytesPerStep)
    ->ArgNames({"rows(0=counts,1=+a2a+compute,2=+routing)", "zipf_x10"})
    ->Args({0, 0})->Args({0, 12})->Args({1, 0})->Args({1, 12})->Args({2, 0})
    ->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moeprof::store

BENCHMARK_MAIN();

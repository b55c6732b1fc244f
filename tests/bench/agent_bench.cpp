// Cost of the agent's hot path per call, as a workload pays it.
// Targets (issue 3): <= 20 ns per count / compute / all-to-all record, <= 2 ns per token of
// routing. The agent runs for real: its flusher drains the rings into a socket whose other
// end reads and discards everything. Every few thousand calls the timer pauses for a
// moeprof_flush(), so the rings never fill and every call measured is a recorded one (the
// `drops` counter must stay 0; a non-zero value means the figure includes dropped calls).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "moeprof/moeprof.h"
#include "null_collector.h"

namespace {

using moeprof::bench::NullCollector;

const NullCollector& collector() {
  static const NullCollector* const instance = new NullCollector;  // lives until exit
  return *instance;
}

void start_agent(int32_t routing = MOEPROF_ROUTING_FULL) {
  const moeprof_init_options options{sizeof options, MOEPROF_API_VERSION, collector().path().c_str(), routing, 0};
  if (moeprof_init(&options) != MOEPROF_OK) {
    std::fprintf(stderr, "agent_bench: moeprof_init failed\n");
    std::exit(1);
  }
}

moeprof_stats stats() {
  moeprof_stats s{};
  s.struct_size = sizeof s;
  moeprof_get_stats(&s);
  return s;
}

// Runs `call` once per iteration; every `flush_every` iterations the timer stops while the
// agent flushes, so rings never fill.
template <class Call>
void run_recorded(benchmark::State& state, int64_t flush_every, Call&& call) {
  start_agent();
  const uint64_t dropped_before = stats().records_dropped;
  int64_t n = 0;
  for (auto _ : state) {
    call();
    if (++n == flush_every) {
      state.PauseTiming();
      moeprof_flush();
      n = 0;
      state.ResumeTiming();
    }
  }
  moeprof_flush();
  state.counters["drops"] = static_cast<double>(stats().records_dropped - dropped_before);
}

std::vector<uint32_t> random_counts(size_t n) {
  std::mt19937 rng(1);
  std::vector<uint32_t> counts(n);
  for (auto& c : counts) c = 100 + rng() % 60;  // DeepSeek-V3-like: 4096 tokens * 8 / 256
  return counts;
}

// One (step, layer) of expert counts; 256 experts is the target's case (DeepSeek-V3).
void BM_ExpertCounts(benchmark::State& state) {
  const auto experts = static_cast<uint32_t>(state.range(0));
  const std::vector<uint32_t> counts = random_counts(experts);
  int32_t layer = 0;
  run_recorded(state, 256, [&] { moeprof_expert_counts(layer++ & 63, experts, counts.data()); });
}
BENCHMARK(BM_ExpertCounts)->ArgName("experts")->Arg(8)->Arg(256);

// The same with every 16th expert hot (800-1272 tokens): too many for 8 bits, so the hot
// path gives up on 8 bits at the first block and writes 16-bit counts.
void BM_ExpertCountsSkewed(benchmark::State& state) {
  const auto experts = static_cast<uint32_t>(state.range(0));
  std::vector<uint32_t> counts = random_counts(experts);
  for (size_t e = 0; e < counts.size(); e += 16) counts[e] *= 8;
  int32_t layer = 0;
  run_recorded(state, 256, [&] { moeprof_expert_counts(layer++ & 63, experts, counts.data()); });
}
BENCHMARK(BM_ExpertCountsSkewed)->ArgName("experts")->Arg(256);

void BM_AllToAllBeginEnd8Peers(benchmark::State& state) {
  const uint64_t send[8] = {1 << 20, 2 << 20, 3 << 20, 1 << 19, 5 << 20, 1 << 20, 7 << 20, 1 << 21};
  const uint64_t recv[8] = {2 << 20, 1 << 20, 1 << 19, 3 << 20, 1 << 20, 6 << 20, 1 << 21, 4 << 20};
  const moeprof_peer_bytes bytes{sizeof bytes, 8, nullptr, send, recv};
  run_recorded(state, 2048, [&] {
    const moeprof_span span = moeprof_all_to_all_begin(3, MOEPROF_PHASE_DISPATCH);
    moeprof_all_to_all_end(span, &bytes);
  });
}
BENCHMARK(BM_AllToAllBeginEnd8Peers);

void BM_ComputeBeginEnd(benchmark::State& state) {
  run_recorded(state, 4096, [] {
    const moeprof_span span = moeprof_compute_begin(3, MOEPROF_COMPUTE_EXPERT);
    moeprof_compute_end(span);
  });
}
BENCHMARK(BM_ComputeBeginEnd);

void BM_Marker(benchmark::State& state) {
  run_recorded(state, 4096, [] { moeprof_marker("moe.layer.forward"); });
}
BENCHMARK(BM_Marker);

// Router decisions of one (step, layer) batch: 4096 tokens x top-8 ids, with or without
// gate weights. Reported per token.
void BM_RouterDecisions4096xTop8(benchmark::State& state) {
  constexpr uint32_t kTokens = 4096, kTopK = 8;
  const bool with_weights = state.range(0) != 0;
  std::mt19937 rng(2);
  std::vector<int32_t> ids(kTokens * kTopK);
  std::vector<float> weights(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<int32_t>(rng() % 256);
    weights[i] = static_cast<float>(rng() % 1000) / 1000.0f;
  }
  // 256 KiB a call with weights: flush after each, so the flusher never runs meanwhile.
  run_recorded(state, 1, [&] {
    moeprof_router_decisions(5, 0, kTokens, kTopK, ids.data(), with_weights ? weights.data() : nullptr);
  });
  state.SetItemsProcessed(state.iterations() * kTokens);
  state.counters["ns_per_token"] = benchmark::Counter(static_cast<double>(kTokens) * 1e-9,
                                                      benchmark::Counter::kIsIterationInvariantRate |
                                                          benchmark::Counter::kInvert);
}
BENCHMARK(BM_RouterDecisions4096xTop8)->ArgName("weights")->Arg(1)->Arg(0);

// The same compute span with MOEPROF_CLOCK=monotonic (clock_gettime instead of the TSC).
void BM_ComputeBeginEnd_MonotonicClock(benchmark::State& state) {
  moeprof_shutdown();
  setenv("MOEPROF_CLOCK", "monotonic", 1);
  run_recorded(state, 4096, [] {
    const moeprof_span span = moeprof_compute_begin(3, MOEPROF_COMPUTE_EXPERT);
    moeprof_compute_end(span);
  });
  moeprof_shutdown();
  unsetenv("MOEPROF_CLOCK");
}
BENCHMARK(BM_ComputeBeginEnd_MonotonicClock);

// The flusher's side: draining, transcoding and sending one counts record (256 experts).
// Not on the workload's threads, but it must keep up with them.
void BM_FlushExpertCounts256(benchmark::State& state) {
  start_agent();
  const std::vector<uint32_t> counts = random_counts(256);
  constexpr int kBatch = 256;
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < kBatch; ++i) moeprof_expert_counts(i & 63, 256, counts.data());
    state.ResumeTiming();
    moeprof_flush();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_FlushExpertCounts256)->UseRealTime();

// What instrumented code pays when no agent is running.
void BM_Disabled_ExpertCounts256(benchmark::State& state) {
  moeprof_shutdown();
  const std::vector<uint32_t> counts = random_counts(256);
  for (auto _ : state) moeprof_expert_counts(1, 256, counts.data());
}
BENCHMARK(BM_Disabled_ExpertCounts256);

void BM_Disabled_ComputeBeginEnd(benchmark::State& state) {
  moeprof_shutdown();
  for (auto _ : state) {
    const moeprof_span span = moeprof_compute_begin(3, MOEPROF_COMPUTE_EXPERT);
    moeprof_compute_end(span);
  }
}
BENCHMARK(BM_Disabled_ComputeBeginEnd);

}  // namespace

BENCHMARK_MAIN();

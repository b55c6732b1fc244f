// Cost of the NCCL capture per profiler event, as NCCL pays it: startEvent + stopEvent through
// libmoeprof_nccl.so's ncclProfiler_v5 table (dlopen, like NCCL), with the agent recording
// into a socket whose other end reads and discards everything. In the same process:
//   - EmptyPlugin: a plugin whose callbacks do nothing (the floor of any plugin),
//   - Model: moeprof's event model over a runtime that records nothing (the plugin's own
//     work without the agent's),
//   - MaskedOff: an event type the activation mask leaves out (NCCL's check, no call made),
//   - ApiEvent: the API-level events NCCL 2.28 issues anyway when P2P events are on (the
//     plugin answers them with a null handle).
// Per collective: one Coll start+stop (a range record with its JSON payload). Per all-to-all:
// the Group, 2 x ranks P2P events and their stops, reported per P2P event. Every few hundred
// iterations the timer pauses for a moeprof_flush() so rings never fill (`drops` must be 0).
#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "moeprof/moeprof.h"
#include "null_collector.h"
#include "moeprof/nccl/profiler_abi.h"
#include "plugin_core.h"

namespace {

using moeprof::bench::NullCollector;

uint64_t agent_drops() {
  moeprof_stats s{};
  s.struct_size = sizeof s;
  moeprof_get_stats(&s);
  return s.records_dropped;
}

// The plugin as NCCL loads it, on a recording agent.
const moeprof_nccl_profiler_v5& plugin() {
  static const moeprof_nccl_profiler_v5* const table = [] {
    static const NullCollector* const collector = new NullCollector;  // lives until exit
    const moeprof_init_options options{sizeof options, MOEPROF_API_VERSION, collector->path().c_str(),
                                       MOEPROF_ROUTING_OFF, 0};
    void* library = dlopen(MOEPROF_NCCL_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    if (moeprof_init(&options) != MOEPROF_OK || library == nullptr) {
      std::fprintf(stderr, "nccl_plugin_bench: cannot start the agent or load %s\n", MOEPROF_NCCL_PLUGIN);
      std::exit(1);
    }
    return static_cast<const moeprof_nccl_profiler_v5*>(dlsym(library, "ncclProfiler_v5"));
  }();
  return *table;
}

// A plugin that does nothing: what any plugin costs NCCL at least.
const moeprof_nccl_profiler_v5 kEmptyPlugin = {
    "empty",
    [](void** context, uint64_t, int* mask, const char*, int, int, int, moeprof_nccl_logger) {
      *context = reinterpret_cast<void*>(1);
      *mask = MOEPROF_NCCL_PROFILE_GROUP | MOEPROF_NCCL_PROFILE_COLL | MOEPROF_NCCL_PROFILE_P2P;
      return 0;
    },
    [](void*, void** handle, moeprof_nccl_event_v5*) {
      *handle = nullptr;
      return 0;
    },
    [](void*) { return 0; }, [](void*, int, moeprof_nccl_state_args*) { return 0; }, [](void*) { return 0; }};

// moeprof's model over a runtime that keeps nothing.
class NullRuntime final : public moeprof::nccl::Runtime {
 public:
  bool recording() noexcept override { return true; }
  const moeprof::nccl::Config& config() noexcept override { return config_; }
  int64_t now_ns() noexcept override { return moeprof_now_ns(); }
  int64_t current_step() noexcept override { return 0; }
  uint32_t thread_id() noexcept override { return 1; }
  bool in_engine_all_to_all() noexcept override { return false; }
  void all_to_all(const moeprof::nccl::AllToAllRecord& r) noexcept override { benchmark::DoNotOptimize(r.num_peers); }
  void range(const moeprof::nccl::RangeRecord& r) noexcept override { benchmark::DoNotOptimize(r.payload); }
  void drops(uint64_t) noexcept override {}

 private:
  moeprof::nccl::Config config_;
};
NullRuntime g_null_runtime;
const moeprof_nccl_profiler_v5 kModelOnly = {
    "model",
    [](void** context, uint64_t id, int* mask, const char* name, int nodes, int ranks, int rank,
       moeprof_nccl_logger log) {
      return moeprof::nccl::plugin_init(g_null_runtime, context, id, mask, name, nodes, ranks, rank, log);
    },
    moeprof::nccl::plugin_start_v5, moeprof::nccl::plugin_stop, moeprof::nccl::plugin_record_state,
    moeprof::nccl::plugin_finalize};

struct Communicator {
  const moeprof_nccl_profiler_v5& table;
  void* context = nullptr;
  int mask = 0;
  Communicator(const moeprof_nccl_profiler_v5& t, int nranks) : table(t) {
    if (table.init(&context, 0x1234, &mask, "bench", 1, nranks, 0, nullptr) != 0) std::abort();
  }
  ~Communicator() { table.finalize(context); }
};

moeprof_nccl_event_v5 collective() {
  moeprof_nccl_event_v5 e{};
  e.type = MOEPROF_NCCL_PROFILE_COLL;
  e.coll.func = "AllReduce";
  e.coll.datatype = "ncclFloat32";
  e.coll.count = 1 << 20;
  e.coll.algo = "RING";
  e.coll.proto = "SIMPLE";
  e.coll.n_channels = 8;
  return e;
}

// Flushes the agent every `every` iterations with the timer stopped; reports agent drops.
template <class Body>
void run(benchmark::State& state, int64_t every, Body&& body) {
  const uint64_t drops_before = agent_drops();
  int64_t n = 0;
  for (auto _ : state) {
    body();
    if (++n == every) {
      state.PauseTiming();
      moeprof_flush();
      n = 0;
      state.ResumeTiming();
    }
  }
  moeprof_flush();
  state.counters["drops"] = static_cast<double>(agent_drops() - drops_before);
}

void collective_start_stop(benchmark::State& state, const moeprof_nccl_profiler_v5& table) {
  Communicator comm(table, 8);
  moeprof_nccl_event_v5 e = collective();
  run(state, 512, [&] {
    void* handle = nullptr;
    comm.table.start_event(comm.context, &handle, &e);
    if (handle != nullptr) comm.table.stop_event(handle);
  });
  state.SetItemsProcessed(state.iterations());
}

void BM_Collective_EmptyPlugin(benchmark::State& state) { collective_start_stop(state, kEmptyPlugin); }
void BM_Collective_Model(benchmark::State& state) { collective_start_stop(state, kModelOnly); }
void BM_Collective_Plugin(benchmark::State& state) { collective_start_stop(state, plugin()); }
BENCHMARK(BM_Collective_EmptyPlugin);
BENCHMARK(BM_Collective_Model);
BENCHMARK(BM_Collective_Plugin);

// One ncclAlltoAll's plan as NCCL 2.28 issues it: Group, a send and a receive per rank.
void all_to_all(benchmark::State& state, const moeprof_nccl_profiler_v5& table) {
  const int nranks = static_cast<int>(state.range(0));
  Communicator comm(table, nranks);
  std::vector<moeprof_nccl_event_v5> events(2 * static_cast<size_t>(nranks));
  std::vector<void*> handles(events.size());
  for (int p = 0; p < nranks; ++p)
    for (int send = 0; send < 2; ++send) {
      moeprof_nccl_event_v5& e = events[2 * static_cast<size_t>(p) + static_cast<size_t>(send)];
      e.type = MOEPROF_NCCL_PROFILE_P2P;
      e.p2p.func = send ? "Send" : "Recv";
      e.p2p.datatype = "ncclBfloat16";
      e.p2p.count = 4096 + 64 * static_cast<size_t>(p);
      e.p2p.peer = p;
    }
  moeprof_nccl_event_v5 group{};
  group.type = MOEPROF_NCCL_PROFILE_GROUP;
  run(state, 256, [&] {
    void* g = nullptr;
    comm.table.start_event(comm.context, &g, &group);
    for (size_t i = 0; i < events.size(); ++i) {
      events[i].p2p.parent_group = g;
      comm.table.start_event(comm.context, &handles[i], &events[i]);
    }
    for (void* h : handles)
      if (h != nullptr) comm.table.stop_event(h);
    if (g != nullptr) comm.table.stop_event(g);
  });
  // Per P2P event (the Group's own start/stop spread over them).
  state.counters["per_p2p_event"] = benchmark::Counter(static_cast<double>(events.size()) * state.iterations(),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_AllToAll_EmptyPlugin(benchmark::State& state) { all_to_all(state, kEmptyPlugin); }
void BM_AllToAll_Model(benchmark::State& state) { all_to_all(state, kModelOnly); }
void BM_AllToAll_Plugin(benchmark::State& state) { all_to_all(state, plugin()); }
BENCHMARK(BM_AllToAll_EmptyPlugin)->ArgName("ranks")->Arg(8)->Arg(64);
BENCHMARK(BM_AllToAll_Model)->ArgName("ranks")->Arg(8)->Arg(64);
BENCHMARK(BM_AllToAll_Plugin)->ArgName("ranks")->Arg(8)->Arg(64);

// MOEPROF_NCCL_EVENTS=none: NCCL reads its mask and makes no call at all.
void BM_MaskedOff(benchmark::State& state) {
  const moeprof_nccl_profiler_v5& table = plugin();
  int mask = 0;  // what init set
  moeprof_nccl_event_v5 e = collective();
  for (auto _ : state) {
    benchmark::DoNotOptimize(mask);
    if (__atomic_load_n(&mask, __ATOMIC_RELAXED) & MOEPROF_NCCL_PROFILE_COLL) {
      void* handle = nullptr;
      table.start_event(nullptr, &handle, &e);
      table.stop_event(handle);
    }
  }
}
BENCHMARK(BM_MaskedOff);

// A P2pApi event (NCCL 2.28 issues one per ncclSend/ncclRecv when P2P events are on).
void BM_ApiEvent_Plugin(benchmark::State& state) {
  Communicator comm(plugin(), 8);
  moeprof_nccl_event_v5 e{};
  e.type = MOEPROF_NCCL_PROFILE_P2P_API;
  e.p2p_api.func = "Send";
  for (auto _ : state) {
    void* handle = reinterpret_cast<void*>(1);
    comm.table.start_event(comm.context, &handle, &e);
    benchmark::DoNotOptimize(handle);
  }
}
BENCHMARK(BM_ApiEvent_Plugin);

}  // namespace

BENCHMARK_MAIN();

// The NVTX source's cost per intercepted call: NVTX calls of this program go through
// libmoeprof_nvtx.so into a recording agent (streaming to a collector that discards), against
// the same calls in a library whose NVTX has no tool attached. Also a workload that wraps
// ~2 us of work per layer in a push/pop pair, with and without the tool: the slowdown.
#include <nvtx3/nvToolsExt.h>
#include <nvtx3/nvToolsExtPayload.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "moeprof/moeprof.h"
#include "moeprof/moeprof_nvtx.h"
#include "null_collector.h"

extern "C" void uninjected_start();
extern "C" int uninjected_push(const char* name);
extern "C" int uninjected_pop();

namespace {

uint64_t agent_drops() {
  moeprof_stats s{};
  s.struct_size = sizeof s;
  moeprof_get_stats(&s);
  return s.records_dropped;
}

void report_drops(benchmark::State& state, uint64_t before) {
  state.counters["agent_drops"] = static_cast<double>(agent_drops() - before);
}

void BM_PushPop_NoTool(benchmark::State& state) {
  for (auto _ : state) {
    uninjected_push("layer");
    uninjected_pop();
  }
}
BENCHMARK(BM_PushPop_NoTool);

void BM_PushPop(benchmark::State& state) {
  const uint64_t drops = agent_drops();
  for (auto _ : state) {
    nvtxRangePushA("layer");
    nvtxRangePop();
  }
  report_drops(state, drops);
}
BENCHMARK(BM_PushPop);

void BM_PushPop_DomainRegisteredColour(benchmark::State& state) {
  // What NVTX3's C++ scoped_range_in<domain> with a registered message does.
  const nvtxDomainHandle_t domain = nvtxDomainCreateA("engine");
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.colorType = NVTX_COLOR_ARGB;
  a.color = 0xFF336699;
  a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  a.message.registered = nvtxDomainRegisterStringA(domain, "expert ffn");
  const uint64_t drops = agent_drops();
  for (auto _ : state) {
    nvtxDomainRangePushEx(domain, &a);
    nvtxDomainRangePop(domain);
  }
  report_drops(state, drops);
}
BENCHMARK(BM_PushPop_DomainRegisteredColour);

void BM_Mark(benchmark::State& state) {
  const uint64_t drops = agent_drops();
  for (auto _ : state) nvtxMarkA("checkpoint");
  report_drops(state, drops);
}
BENCHMARK(BM_Mark);

void BM_StartEnd(benchmark::State& state) {
  const uint64_t drops = agent_drops();
  for (auto _ : state) nvtxRangeEnd(nvtxRangeStartA("prefetch"));
  report_drops(state, drops);
}
BENCHMARK(BM_StartEnd);

struct LayerStats {
  int32_t layer;
  float capacity_factor;
  uint64_t tokens[4];
  const char* note;
};

void BM_PushPop_SchemaPayload(benchmark::State& state) {
  // A five-field payload decoded to JSON on every push.
  const nvtxDomainHandle_t domain = nvtxDomainCreateA("engine");
  static const nvtxPayloadSchemaEntry_t entries[] = {
      {0, NVTX_PAYLOAD_ENTRY_TYPE_INT32, "layer", nullptr, 0, offsetof(LayerStats, layer), nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_FLOAT, "capacity factor", nullptr, 0, offsetof(LayerStats, capacity_factor), nullptr,
       nullptr},
      {NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_FIXED_SIZE, NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "tokens", nullptr, 4,
       offsetof(LayerStats, tokens), nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_CSTRING, "note", nullptr, 0, offsetof(LayerStats, note), nullptr, nullptr}};
  nvtxPayloadSchemaAttr_t attr{};
  attr.fieldMask = NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_TYPE | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_ENTRIES |
                   NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NUM_ENTRIES | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_STATIC_SIZE;
  attr.type = NVTX_PAYLOAD_SCHEMA_TYPE_STATIC;
  attr.entries = entries;
  attr.numEntries = 4;
  attr.payloadStaticSize = sizeof(LayerStats);
  const uint64_t schema = nvtxPayloadSchemaRegister(domain, &attr);
  const LayerStats stats{3, 1.25f, {100, 200, 300, 400}, "balanced"};
  nvtxPayloadData_t data{schema, sizeof stats, &stats};
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = "moe layer";
  a.payloadType = NVTX_PAYLOAD_TYPE_EXT;
  a.reserved0 = 1;
  a.payload.ullValue = reinterpret_cast<uintptr_t>(&data);
  const uint64_t drops = agent_drops();
  for (auto _ : state) {
    nvtxDomainRangePushEx(domain, &a);
    nvtxDomainRangePop(domain);
  }
  report_drops(state, drops);
}
BENCHMARK(BM_PushPop_SchemaPayload);

void BM_MoeAllToAll(benchmark::State& state) {
  // The moeprof domain's all-to-all range with 8 peers: one all-to-all record per pair.
  uint64_t send[8], recv[8];
  for (int i = 0; i < 8; ++i) send[i] = recv[i] = 4096u * (i + 1);
  const moeprof_nvtx_all_to_all a2a{1, MOEPROF_NVTX_PHASE_DISPATCH, 8, 0, nullptr, send, recv};
  const uint64_t drops = agent_drops();
  for (auto _ : state) {
    moeprof_nvtx_all_to_all_push(&a2a);
    moeprof_nvtx_all_to_all_pop();
  }
  report_drops(state, drops);
}
BENCHMARK(BM_MoeAllToAll);

// About 2 us of arithmetic: a small layer's CPU-side work.
double work(double x) {
  for (int i = 0; i < 1000; ++i) x = x * 1.0000001 + 0.5;
  return x;
}

void BM_Workload_NoTool(benchmark::State& state) {
  double x = 1;
  for (auto _ : state) {
    uninjected_push("layer");
    x = work(x);
    uninjected_pop();
  }
  benchmark::DoNotOptimize(x);
}
BENCHMARK(BM_Workload_NoTool);

void BM_Workload(benchmark::State& state) {
  double x = 1;
  for (auto _ : state) {
    nvtxRangePushA("layer");
    x = work(x);
    nvtxRangePop();
  }
  benchmark::DoNotOptimize(x);
}
BENCHMARK(BM_Workload);

}  // namespace

int main(int argc, char** argv) {
  // The baseline library's NVTX starts first, with no tool named.
  unsetenv("NVTX_INJECTION64_PATH");
  uninjected_start();
  static const moeprof::bench::NullCollector* const collector = new moeprof::bench::NullCollector;
  const moeprof_init_options options{sizeof options, MOEPROF_API_VERSION, collector->path().c_str(),
                                     MOEPROF_ROUTING_OFF, 0};
  if (moeprof_init(&options) != MOEPROF_OK) {
    std::fprintf(stderr, "nvtx_bench: cannot start the agent\n");
    return 1;
  }
  setenv("NVTX_INJECTION64_PATH", MOEPROF_NVTX_LIBRARY, 1);
  if (nvtxRangePushA("probe") != 0 || nvtxRangePop() != 0) {  // no tool: NVTX answers -2
    std::fprintf(stderr, "nvtx_bench: %s did not attach\n", MOEPROF_NVTX_LIBRARY);
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

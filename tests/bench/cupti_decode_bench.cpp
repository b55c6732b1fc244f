// Cost of the CUPTI source per activity record and per launch.
//   PlainWalk     baseline: cuptiActivityGetNextRecord over the buffer, reading each kind
//   Decode        the decoder: its walk, launch table, joins, step lookup (sink does nothing)
//   DecodeToAbi   + name cache and the moeprof_gpu_kernel the glue hands the agent (what
//                 libmoeprof_cupti.so does per buffer, short of the agent's own record call,
//                 which moeprof_agent_bench measures)
//   DecodeAndRecord  DecodeToAbi plus moeprof_record_gpu_kernel into a live agent whose
//                 collector discards everything (the timer stops while the agent flushes;
//                 `drops` must stay 0)
//   LaunchStep    the only work on the application's launch path: remembering the step of
//                 a launch (moeprof_current_step + StepTable::remember), vs. an empty call
// The buffer is what CUPTI delivers for a busy MoE step: each kernel record followed by its
// launch call's record, 64 distinct (mangled) kernel names. per_record is the figure.
#include <benchmark/benchmark.h>
#include <cupti_activity.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "activity_decoder.h"
#include "gpu_kernel_record.h"
#include "kernel_names.h"
#include "moeprof/moeprof.h"
#include "step_table.h"

namespace {

using namespace moeprof::cupti;

struct Buffer {
  std::vector<uint64_t> words;
  size_t bytes = 0;
  size_t records = 0;
  std::vector<std::string> names;
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words.data()); }
};

Buffer make_buffer(size_t kernels) {
  Buffer b;
  for (int i = 0; i < 64; ++i) {
    const std::string ident = "kernel_" + std::to_string(i) +
                              (i % 4 == 0   ? "_topk"
                               : i % 4 == 1 ? "_grouped_gemm"
                                            : "_misc");
    b.names.push_back("_Z" + std::to_string(ident.size()) + ident + "PKfPf");  // ident(float const*, float*)
  }
  b.words.resize(kernels * (sizeof(CUpti_ActivityKernel10) + sizeof(CUpti_ActivityAPI)) / 8);
  auto append = [&](const auto& record) {
    std::memcpy(b.data() + b.bytes, &record, sizeof record);
    b.bytes += sizeof record;
    ++b.records;
  };
  for (size_t i = 0; i < kernels; ++i) {
    const uint32_t id = static_cast<uint32_t>(i + 1);
    CUpti_ActivityKernel10 k{};
    k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
    k.correlationId = id;
    k.start = 1'000'000 + 1000 * i;
    k.end = k.start + 700;
    k.name = b.names[i % b.names.size()].c_str();
    k.gridX = k.blockX = 128;
    append(k);
    CUpti_ActivityAPI a{};
    a.kind = CUPTI_ACTIVITY_KIND_RUNTIME;
    a.correlationId = id;
    a.start = k.start - 5000;
    a.end = a.start + 3000;
    a.threadId = 1234;
    append(a);
  }
  return b;
}

class NullSink final : public KernelSink {
 public:
  void kernel(const KernelEvent& event) override { benchmark::DoNotOptimize(event.start_ns); }
};

class AbiSink final : public KernelSink {
 public:
  explicit AbiSink(KernelNames* names) : names_(names) {}
  void kernel(const KernelEvent& event) override {
    moeprof_gpu_kernel k = to_gpu_kernel(event, names_->lookup(event.name));
    benchmark::DoNotOptimize(k);
  }

 private:
  KernelNames* names_;
};

void per_record(benchmark::State& state, size_t records) {
  // Seconds per record (printed with an SI prefix: "12.3ns").
  state.counters["per_record"] = benchmark::Counter(
      static_cast<double>(records), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

constexpr size_t kKernels = 4096;  // ~1 MiB of records

void PlainWalk(benchmark::State& state) {
  Buffer b = make_buffer(kKernels);
  for (auto _ : state) {
    CUpti_Activity* record = nullptr;
    uint64_t kinds = 0;
    while (cuptiActivityGetNextRecord(b.data(), b.bytes, &record) == CUPTI_SUCCESS) kinds += record->kind;
    benchmark::DoNotOptimize(kinds);
  }
  per_record(state, b.records);
}
BENCHMARK(PlainWalk);

void Decode(benchmark::State& state) {
  Buffer b = make_buffer(kKernels);
  StepTable steps(1u << 18);
  for (uint32_t id = 1; id <= kKernels; ++id) steps.remember(id, 3);
  NullSink sink;
  DecoderOptions options;
  options.steps = &steps;
  ActivityDecoder decoder(options, &sink);
  for (auto _ : state) decoder.decode(b.data(), b.bytes);
  if (decoder.stats().kernels_unjoined != 0) state.SkipWithError("kernels went unjoined");
  per_record(state, b.records);
}
BENCHMARK(Decode);

void DecodeToAbi(benchmark::State& state) {
  Buffer b = make_buffer(kKernels);
  StepTable steps(1u << 18);
  const KernelClassifier classifier;
  KernelNames names(classifier, 8192);
  AbiSink sink(&names);
  DecoderOptions options;
  options.steps = &steps;
  ActivityDecoder decoder(options, &sink);
  for (auto _ : state) decoder.decode(b.data(), b.bytes);
  per_record(state, b.records);
}
BENCHMARK(DecodeToAbi);

// A collector that reads and forgets what the agent sends.
std::string discarding_collector() {
  char dir[] = "/tmp/moeprof-cupti-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  const std::string path = std::string(dir) + "/sink.sock";
  const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener, 4) != 0)
    std::abort();
  std::thread([listener] {
    for (int client; (client = accept(listener, nullptr, nullptr)) >= 0;)
      std::thread([client] {
        static thread_local char sink[1 << 16];
        while (read(client, sink, sizeof sink) > 0) {
        }
        close(client);
      }).detach();
  }).detach();
  return path;
}

class AgentSink final : public KernelSink {
 public:
  explicit AgentSink(KernelNames* names) : names_(names) {}
  void kernel(const KernelEvent& event) override {
    const moeprof_gpu_kernel k = to_gpu_kernel(event, names_->lookup(event.name));
    moeprof_record_gpu_kernel(&k);
  }

 private:
  KernelNames* names_;
};

void DecodeAndRecord(benchmark::State& state) {
  static const std::string socket_path = discarding_collector();
  const moeprof_init_options init{sizeof init, MOEPROF_API_VERSION, socket_path.c_str(), MOEPROF_ROUTING_OFF, 0};
  if (moeprof_init(&init) != MOEPROF_OK) {
    state.SkipWithError("moeprof_init failed");
    return;
  }
  Buffer b = make_buffer(kKernels);
  StepTable steps(1u << 18);
  const KernelClassifier classifier;
  KernelNames names(classifier, 8192);
  AgentSink sink(&names);
  DecoderOptions options;
  options.steps = &steps;
  ActivityDecoder decoder(options, &sink);
  moeprof_stats before{sizeof before, 0, 0, 0};
  moeprof_get_stats(&before);
  for (auto _ : state) {
    decoder.decode(b.data(), b.bytes);
    state.PauseTiming();
    moeprof_flush();  // the ring holds one buffer's kernels
    state.ResumeTiming();
  }
  moeprof_stats after{sizeof after, 0, 0, 0};
  moeprof_get_stats(&after);
  state.counters["drops"] = static_cast<double>(after.records_dropped - before.records_dropped);
  per_record(state, b.records);
  moeprof_shutdown();
}
BENCHMARK(DecodeAndRecord);

[[gnu::noinline]] void empty_callback(uint32_t id, int64_t step) { benchmark::DoNotOptimize(id + step); }

void LaunchStepBaseline(benchmark::State& state) {
  uint32_t id = 1;
  for (auto _ : state) empty_callback(id++, 0);
}
BENCHMARK(LaunchStepBaseline);

void LaunchStep(benchmark::State& state) {
  StepTable steps(1u << 18);
  uint32_t id = 1;
  for (auto _ : state) steps.remember(id++, moeprof_current_step());
}
BENCHMARK(LaunchStep);

}  // namespace

BENCHMARK_MAIN();

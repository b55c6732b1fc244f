// moe-engine: the reference expert-parallel MoE engine (CPU, MPI). Every rank parses the
// same command line; problems are agreed on collectively before any real work, so a bad
// flag, preset or placement file ends every rank with one message and a non-zero exit code.
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine.h"
#include "ground_truth.h"
#include "instrumentation.h"
#include "model_config.h"
#include "moeprof/moeprof.h"
#if MOEPROF_ENGINE_CUDA
#include <cuda_runtime_api.h>

#include "moeprof/kernels/moe_kernels_cuda.h"
#endif
#include "moeprof/placement/placement_file.h"
#include "options.h"
#include "output_dump.h"

namespace moeprof::engine {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 1;

struct Setup {
  Options options;
  ModelConfig model;
  std::optional<placement::PlacementFile> placement;
  OutputDump dump;
};

// This rank's place among the ranks of its host: (local rank, ranks on the host).
std::pair<int32_t, int32_t> place_on_host(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int local = 0, size = 1;
  MPI_Comm_rank(node, &local);
  MPI_Comm_size(node, &size);
  MPI_Comm_free(&node);
  return {local, size};
}

// Everything that can be wrong with the command line, checked on every rank. "" when fine.
std::string prepare(const std::vector<std::string>& args, int32_t rank, int32_t ranks, Setup& s) {
  std::string error;
  if (!parse_options(args, &s.options, &error)) return error;
  if (s.options.help || s.options.list_presets) return "";
  const Options& o = s.options;
  if (!resolve_model(o, &s.model, &error)) return error;
  if (o.backend == Backend::kCuda) {
#if MOEPROF_ENGINE_CUDA
    if (!kernels::cuda::device_available())
      return "--backend cuda: no usable CUDA device (no GPU of compute capability 8.0+, or a driver older than "
             "this build's CUDA)";
    int devices = 0;
    cudaGetDeviceCount(&devices);
    if (const int32_t on_host = place_on_host(MPI_COMM_WORLD).second; on_host > devices)
      return "--backend cuda: " + std::to_string(on_host) + " ranks on this host but " + std::to_string(devices) +
             " GPUs (NCCL takes one rank per GPU)";
#else
    return "--backend cuda: this moe-engine was built without CUDA and NCCL (MOEPROF_WITH_CUDA, MOEPROF_WITH_NCCL)";
#endif
  }
  if (o.chunks > o.tokens)
    return "--overlap chunks:" + std::to_string(o.chunks) + " needs at least as many --tokens (" +
           std::to_string(o.tokens) + ")";
  if (!o.placement_file.empty()) {
    placement::PlacementFile file;
    if (!placement::read_placement_file(o.placement_file, &file, &error) ||
        !placement::check_placement_fits(file, o.placement_file, s.model.num_experts, ranks, s.model.num_layers,
                                         &error))
      return error;
    s.placement = std::move(file);
  }
  if (!o.ground_truth_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.ground_truth_dir, ec);
    if (!std::filesystem::is_directory(o.ground_truth_dir))
      return o.ground_truth_dir + ": cannot create the ground-truth directory" + (ec ? ": " + ec.message() : "");
  }
  if (!o.dump_output.empty() && !s.dump.open(o.dump_output, rank, int64_t(o.tokens) * ranks, s.model.hidden, &error))
    return error;
  return "";
}

// Collective: true when every rank is fine; otherwise the lowest rank with a problem prints it.
bool agree(const std::string& error, int32_t rank, int32_t ranks) {
  int32_t mine = error.empty() ? ranks : rank, first = ranks;
  MPI_Allreduce(&mine, &first, 1, MPI_INT32_T, MPI_MIN, MPI_COMM_WORLD);
  if (first < ranks && rank == first) std::cerr << "moe-engine: " << error << std::endl;
  return first == ranks;
}


void print_summary(const Setup& s, int32_t ranks, const RunStats& stats) {
  const Options& o = s.options;
  const std::string overlap = o.chunks ? "chunks:" + std::to_string(o.chunks) : "none";
  std::printf(
      "moe-engine: %s on %d ranks, %d layers, %lld steps x %d tokens/rank, overlap %s: %.3f s, %.0f tokens/s, "
      "%llu tokens dropped over capacity (%s)\n",
      s.model.name.c_str(), ranks, s.model.num_layers, static_cast<long long>(o.steps), o.tokens, overlap.c_str(),
      stats.seconds, stats.seconds > 0 ? double(stats.tokens) / stats.seconds : 0.0,
      static_cast<unsigned long long>(stats.dropped), moeprof_enabled() ? "agent recording" : "agent not active");
  if (o.timing && !stats.step_seconds.empty()) {
    std::vector<double> sorted = stats.step_seconds;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    std::printf("moe-engine timing: median_step_ms=%.4f min_step_ms=%.4f steps=%zu\n", median * 1e3,
                sorted.front() * 1e3, n);
    if (stats.exchanges > 0)
      std::printf(
          "moe-engine timing: a2a_bytes=%llu a2a_seconds=%.6f dispatch_seconds=%.6f a2a_exchanges=%llu "
          "a2a_GBps=%.4f (blocking dispatch+combine: row bytes of all ranks / longest rank time)\n",
          static_cast<unsigned long long>(stats.exchange_bytes), stats.exchange_seconds, stats.dispatch_seconds,
          static_cast<unsigned long long>(stats.exchanges),
          stats.exchange_seconds > 0 ? double(stats.exchange_bytes) / stats.exchange_seconds / 1e9 : 0.0);
    else
      std::printf("moe-engine timing: no blocking all-to-alls timed (--overlap chunks:N)\n");
  }
  std::fflush(stdout);
}

int run(int argc, char** argv) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  Setup s;
  if (!agree(prepare(std::vector<std::string>(argv + 1, argv + argc), rank, ranks, s), rank, ranks)) return kExitUsage;
  if (s.options.help || s.options.list_presets) {
    if (rank == 0) std::cout << (s.options.help ? usage_text() : preset_table()) << std::flush;
    return 0;
  }
  const int32_t local_rank = place_on_host(MPI_COMM_WORLD).first;
  std::unique_ptr<GroundTruth> truth;
  if (!s.options.ground_truth_dir.empty()) truth = std::make_unique<GroundTruth>(rank);
  Recorder recorder(truth.get());
  Engine engine(s.options, s.model,
                expert_maps(s.placement ? &*s.placement : nullptr, s.model.num_layers, s.model.num_experts, ranks),
                MPI_COMM_WORLD, local_rank, recorder);
  const RunStats stats = engine.run(s.dump);

  std::string error;
  if (truth) truth->write(s.options.ground_truth_dir, &error);
  if (error.empty()) s.dump.close(&error);
  if (!agree(error, rank, ranks)) return kExitFailed;
  if (rank == 0) print_summary(s, ranks, stats);
  return 0;
}

}  // namespace
}  // namespace moeprof::engine

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int code = 0;
  try {
    code = moeprof::engine::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "moe-engine: " << e.what() << std::endl;
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return code;
}

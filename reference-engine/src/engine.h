// A run of the expert-parallel MoE forward pass on every rank of a communicator (the
// expert-parallel group is all ranks).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "expert_map.h"
#include "instrumentation.h"
#include "layer_backend.h"
#include "model_config.h"
#include "options.h"
#include "output_dump.h"
#include "skew.h"
#include "weights.h"

namespace moeprof::engine {

struct RunStats {
  double seconds = 0.0;  // the steps, without setup
  uint64_t tokens = 0;   // over all ranks and steps
  uint64_t dropped = 0;  // pairs over capacity, over all ranks, steps and layers
  // --timing only: each step's wall time between barriers; the blocking dispatch/combine
  // exchanges' row bytes summed over ranks and the longest time any rank spent in them.
  std::vector<double> step_seconds;
  uint64_t exchange_bytes = 0;
  double exchange_seconds = 0.0;
  double dispatch_seconds = 0.0;  // the dispatch part, longest rank
  uint64_t exchanges = 0;  // per rank
};

class Engine {
 public:
  // Generates this rank's weights (router and shared experts of every layer, and the experts
  // `maps` put on this rank) and reports topology and placement.
  Engine(const Options& options, const ModelConfig& model, std::vector<ExpertMap> maps, MPI_Comm comm,
         int32_t local_rank, Recorder& recorder);
  // Collective. `dump` may be inactive.
  RunStats run(OutputDump& dump);

 private:
  void update_balance(const std::vector<uint64_t>& step_counts);
  // options.backend's: the CPU MoeLayer, or the CUDA one where this build has it.
  std::unique_ptr<LayerBackend> make_layer_backend();

  const Options& options_;
  const ModelConfig& model_;
  std::vector<ExpertMap> maps_;
  MPI_Comm comm_;
  int32_t rank_ = 0, ranks_ = 1;
  int32_t local_rank_ = 0;
  Recorder& recorder_;
  std::vector<LayerWeights> weights_;
  ZipfSkew skew_;
  std::vector<std::vector<float>> selection_bias_;  // per layer; empty without aux-free balancing
};

}  // namespace moeprof::engine

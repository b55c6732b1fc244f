// The forward pass of one MoE layer on one rank: route, dispatch, experts, combine.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <vector>

#include "chunk.h"
#include "expert_map.h"
#include "instrumentation.h"
#include "model_config.h"
#include "weights.h"

namespace moeprof::engine {

// What one layer does in one step besides its weights and placement.
struct LayerStep {
  int32_t layer = 0;
  int64_t global_first_token = 0;         // global index of the batch's first token
  std::span<const float> logit_bias;      // --skew; empty: none
  std::span<const float> selection_bias;  // --balance aux-free; empty: none
  uint32_t capacity = 0;                  // per expert, pairs of this batch
  bool record_routing = false;
  int32_t chunks = 0;  // 0: blocking all-to-alls; N: N-chunk pipeline
  bool timing = false;  // --timing: time the blocking dispatch/combine exchanges
};

// --timing: this rank's time inside the blocking dispatch (expert ids and rows) and combine
// exchanges, and the row bytes it sent through them.
struct ExchangeTiming {
  double seconds = 0.0;
  double dispatch_seconds = 0.0;  // of `seconds`
  uint64_t send_bytes = 0;
  uint64_t exchanges = 0;
};

class MoeLayer {
 public:
  MoeLayer(const ModelConfig& model, MPI_Comm comm, Recorder& recorder);

  // x (tokens x hidden) becomes x + shared(h) + sum_k w_k expert_k(h), h = rms_norm(x).
  // counts gets this rank's router counts (before drops); returns the pairs dropped.
  uint64_t forward(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map, std::vector<float>& x,
                   std::span<uint32_t> counts);
  const ExchangeTiming& exchange_timing() const { return timing_; }

 private:
  // RMSNorm, router, counts, capacity, and the chunks' dispatch layouts and send rows.
  uint64_t route_batch(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map,
                       const std::vector<float>& x, std::span<uint32_t> counts);
  void shared_expert(int32_t layer, const LayerWeights& weights);
  void run_blocking(const LayerStep& step, const LayerWeights& weights);
  void run_pipelined(const LayerStep& step, const LayerWeights& weights);
  void finish_chunk(int32_t layer, Chunk& chunk);
  uint64_t row_bytes() const { return uint64_t(model_.hidden) * sizeof(float); }

  const ModelConfig& model_;
  MPI_Comm comm_;
  int32_t ranks_ = 1;
  Recorder& recorder_;
  uint32_t tokens_ = 0;
  std::vector<float> h_, logits_, topk_weights_, shared_out_, y_;
  std::vector<int32_t> topk_ids_, kept_ids_;
  std::vector<uint32_t> dropped_;
  std::vector<Chunk> chunks_;
  FfnScratch scratch_;
  ExchangeTiming timing_;
};

}  // namespace moeprof::engine

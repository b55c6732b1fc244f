// The forward pass of one MoE layer on one rank, on the CPU: route, dispatch, experts, combine.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <vector>

#include "chunk.h"
#include "expert_map.h"
#include "instrumentation.h"
#include "layer_backend.h"
#include "model_config.h"
#include "weights.h"

namespace moeprof::engine {

// The CPU backend.
class MoeLayer : public LayerBackend {
 public:
  MoeLayer(const ModelConfig& model, MPI_Comm comm, Recorder& recorder);

  uint64_t forward(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map, std::vector<float>& x,
                   std::span<uint32_t> counts) override;
  const ExchangeTiming& exchange_timing() const override { return timing_; }

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

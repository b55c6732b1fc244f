// What runs one MoE layer's forward pass on a rank: the CPU backend (MoeLayer: OpenBLAS, MPI
// all-to-alls) or the CUDA one (cuda/cuda_moe_layer.h: kernels/, NCCL). Both report through
// the same Recorder calls, so their traces and ground truth have the same shape.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "expert_map.h"
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

class LayerBackend {
 public:
  virtual ~LayerBackend() = default;
  // A step's hidden states x (tokens x hidden) go through every layer between these two
  // calls; a backend may keep them elsewhere meanwhile (the CUDA one keeps them on its GPU),
  // so x is only current again after end_step.
  virtual void begin_step(const std::vector<float>& x) { (void)x; }
  virtual void end_step(std::vector<float>& x) { (void)x; }
  // x becomes x + shared(h) + sum_k w_k expert_k(h), h = rms_norm(x). counts gets this
  // rank's router counts (before drops); returns the pairs dropped.
  virtual uint64_t forward(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map,
                           std::vector<float>& x, std::span<uint32_t> counts) = 0;
  virtual const ExchangeTiming& exchange_timing() const = 0;
};

}  // namespace moeprof::engine

// Model weights, generated per layer from the seed: the same expert has the same weights on
// whichever rank holds it, for any number of ranks (and replicas are identical).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model_config.h"

namespace moeprof::engine {

// A SwiGLU FFN, row-major for cblas_sgemm without transposes: gate_up is hidden x 2*ffn
// (columns [0, ffn) the gate projection, [ffn, 2*ffn) the up projection), down is ffn x hidden.
struct FfnWeights {
  int32_t hidden = 0;
  int32_t ffn = 0;
  std::vector<float> gate_up;
  std::vector<float> down;
  bool empty() const { return ffn == 0; }
};

struct LayerWeights {
  std::vector<float> router;        // hidden x experts
  FfnWeights shared;                // empty without shared experts
  std::vector<FfnWeights> experts;  // by expert id; only the ones this rank holds are filled
};

// held: the experts this rank holds in `layer`.
LayerWeights make_layer_weights(const ModelConfig& model, uint64_t seed, int32_t layer, std::span<const int32_t> held);

}  // namespace moeprof::engine

// A small synthetic job for tests: Mixtral's 8 experts, top-2, on few layers, ranks and steps.
#pragma once

#include <cstdint>

#include "moeprof/synth/synth.h"

namespace moeprof::testing {

inline synth::Options small_mixtral(int32_t layers, int32_t ranks, int64_t steps, uint32_t tokens_per_rank,
                                    double zipf_skew = 0) {
  synth::Options o;
  o.shape = *synth::find_shape("mixtral-8x7b");
  o.shape.num_layers = layers;
  o.ranks = ranks;
  o.steps = steps;
  o.tokens_per_rank = tokens_per_rank;
  o.zipf_skew = zipf_skew;
  return o;
}

}  // namespace moeprof::testing

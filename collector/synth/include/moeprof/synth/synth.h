// Synthetic traces: a realistic MoE job written through the normal store writer, for tests
// and benchmarks of scale (`moeprof synth`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "moeprof/store/rows.h"

namespace moeprof::synth {

// Shape presets of published MoE models (routed experts, top-k, shared experts, layers), as
// listed by moeprof/models/presets.h.
struct ShapePreset {
  std::string name;
  store::ModelShape shape;
};
const std::vector<ShapePreset>& shape_presets();
std::optional<store::ModelShape> find_shape(const std::string& name);

struct Options {
  store::ModelShape shape;
  int32_t ranks = 8;
  int64_t steps = 100;
  uint32_t tokens_per_rank = 4096;   // tokens each rank routes per step and layer
  double zipf_skew = 0.0;            // 0 = uniform routing; S > 0 = Zipf(S) expert popularity
  uint64_t seed = 1;
  bool counts = true;                // expert_load rows
  bool all_to_all = true;            // dispatch + combine per layer, bytes from token counts
  bool compute = true;               // gate + expert spans per layer
  bool routing = false;              // full router decisions
  bool summaries = true;             // window summaries, as `moeprof run` writes them
};

// Writes a complete, finalised trace to `path`. false and a one-line `error` on failure.
bool generate(const Options& options, const std::string& path, std::string* error);

}  // namespace moeprof::synth

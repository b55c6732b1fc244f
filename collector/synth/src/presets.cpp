#include <algorithm>
#include <cctype>

#include "moeprof/synth/synth.h"

namespace moeprof::synth {

// {name, {name, MoE layers, routed experts, top-k, shared experts, hidden size}}.
// Expert counts, top-k and shared experts are the published ones (../shared/DESIGN.md). Where
// a model's layer count or hidden size was not published when this was written (marked
// "assumed"), the value is a plausible one for a model of that size, not a fact about it.
const std::vector<ShapePreset>& shape_presets() {
  static const std::vector<ShapePreset> presets = {
      {"deepseek-v3", {"deepseek-v3", 61, 256, 8, 1, 7168}},
      {"deepseek-v4-pro", {"deepseek-v4-pro", 61, 384, 6, 1, 7168}},      // layers, hidden assumed
      {"deepseek-v4-flash", {"deepseek-v4-flash", 43, 256, 6, 1, 4096}},  // layers, hidden assumed
      {"kimi-k2.5", {"kimi-k2.5", 61, 384, 8, 1, 7168}},
      {"glm-5.1", {"glm-5.1", 78, 256, 8, 1, 6144}},                      // layers, hidden assumed
      {"qwen3.5", {"qwen3.5", 60, 512, 10, 1, 4096}},                     // layers, hidden assumed
      {"gemma-4", {"gemma-4", 30, 128, 8, 1, 2816}},                      // layers, hidden assumed
      {"mixtral-8x7b", {"mixtral-8x7b", 32, 8, 2, 0, 4096}},
      {"qwen3-235b", {"qwen3-235b", 94, 128, 8, 0, 4096}},
  };
  return presets;
}

std::optional<store::ModelShape> find_shape(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const ShapePreset& preset : shape_presets())
    if (preset.name == lower) return preset.shape;
  return std::nullopt;
}

}  // namespace moeprof::synth

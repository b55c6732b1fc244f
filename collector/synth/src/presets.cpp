#include "moeprof/models/presets.h"
#include "moeprof/synth/synth.h"

namespace moeprof::synth {
namespace {

store::ModelShape shape_of(const models::ModelPreset& p) {
  return {std::string(p.name), p.num_layers, p.num_experts, p.top_k, p.num_shared_experts, p.hidden_size};
}

}  // namespace

// The published shapes of moeprof's model presets (schemas/.../models/presets.h).
const std::vector<ShapePreset>& shape_presets() {
  static const std::vector<ShapePreset> presets = [] {
    std::vector<ShapePreset> out;
    for (const models::ModelPreset& p : models::model_presets()) out.push_back({std::string(p.name), shape_of(p)});
    return out;
  }();
  return presets;
}

std::optional<store::ModelShape> find_shape(const std::string& name) {
  if (const models::ModelPreset* preset = models::find_model_preset(name)) return shape_of(*preset);
  return std::nullopt;
}

}  // namespace moeprof::synth

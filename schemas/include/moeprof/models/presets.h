// The MoE model shapes moeprof knows by name: one table shared by the synthetic trace
// generator (`moeprof synth --shape`) and the reference engine (`moe-engine --preset`).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace moeprof::models {

enum class Gating : uint8_t {
  // Softmax over all experts, top-k, selected weights renormalised (Mixtral, Qwen).
  kSoftmaxTopK,
  // DeepSeek-V3 style: sigmoid scores, top-k on score + selection bias, selected weights
  // normalised and multiplied by routed_scaling; with num_groups > 0 only the best
  // topk_groups groups of experts are eligible (group-limited routing).
  kSigmoidTopK,
};

struct ModelPreset {
  std::string_view name;
  int32_t num_layers = 0;   // MoE layers
  int32_t num_experts = 0;  // routed experts per layer
  int32_t top_k = 0;
  int32_t num_shared_experts = 0;
  int32_t hidden_size = 0;  // of the published model
  Gating gating = Gating::kSoftmaxTopK;
  int32_t num_groups = 0;  // group-limited routing; 0 = off
  int32_t topk_groups = 0;
  float routed_scaling = 1.0f;
  // The reference engine's scaled-down sizes (hidden, and intermediate size of one expert):
  // small enough that every layer's experts fit a laptop and 4 ranks run in seconds.
  int32_t engine_hidden = 0;
  int32_t engine_ffn = 0;
  // The published model's intermediate size of one routed expert (a SwiGLU expert holds
  // 3 x hidden_size x expert_ffn weights): what expert-weight memory per rank is reckoned from.
  int32_t expert_ffn = 0;
};

std::span<const ModelPreset> model_presets();
// Case-insensitive; nullptr for an unknown name.
const ModelPreset* find_model_preset(std::string_view name);

}  // namespace moeprof::models

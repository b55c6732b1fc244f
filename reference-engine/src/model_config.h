// The model a run computes: a preset's shape and router with the command line's overrides.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "moeprof/kernels/moe_kernels.h"
#include "options.h"

namespace moeprof::engine {

struct ModelConfig {
  std::string name;
  int32_t num_layers = 0;
  int32_t num_experts = 0;
  int32_t top_k = 0;
  int32_t num_shared_experts = 0;
  int32_t hidden = 0;
  int32_t ffn = 0;  // intermediate size of one expert
  kernels::ScoreFunction score = kernels::ScoreFunction::kSoftmax;
  int32_t num_groups = 0;
  int32_t topk_groups = 0;
  float routed_scaling = 1.0f;
  // The shared experts run as one FFN of their summed intermediate size (as DeepSeek-V3).
  int32_t shared_ffn() const { return num_shared_experts * ffn; }
};

// The preset named by options.preset with --layers/--hidden/--ffn applied. false and a
// one-line `error` for an unknown preset or sizes the engine cannot run.
bool resolve_model(const Options& options, ModelConfig* out, std::string* error);

// The router configuration of `model`; `selection_bias` (aux-free balancing) may be empty.
kernels::GatingConfig gating_config(const ModelConfig& model, std::span<const float> selection_bias);

// The --list-presets table.
std::string preset_table();

}  // namespace moeprof::engine

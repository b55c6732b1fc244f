#include "model_config.h"

#include <climits>
#include <cstdio>

#include "moeprof/models/presets.h"

namespace moeprof::engine {

bool resolve_model(const Options& o, ModelConfig* out, std::string* error) {
  const models::ModelPreset* p = models::find_model_preset(o.preset);
  if (!p) {
    *error = "unknown preset '" + o.preset + "' (see --list-presets)";
    return false;
  }
  ModelConfig m;
  m.name = std::string(p->name);
  m.num_layers = o.layers ? o.layers : p->num_layers;
  m.num_experts = p->num_experts;
  m.top_k = p->top_k;
  m.num_shared_experts = p->num_shared_experts;
  m.hidden = o.hidden ? o.hidden : p->engine_hidden;
  m.ffn = o.ffn ? o.ffn : p->engine_ffn;
  m.score =
      p->gating == models::Gating::kSigmoidTopK ? kernels::ScoreFunction::kSigmoid : kernels::ScoreFunction::kSoftmax;
  m.num_groups = p->num_groups;
  m.topk_groups = p->topk_groups;
  m.routed_scaling = p->routed_scaling;
  // MPI counts are ints: a rank's dispatch buffer (every pair of its batch) must fit one.
  if (int64_t(o.tokens) * m.top_k * m.hidden > INT_MAX) {
    *error = "--tokens x top-k x hidden is too large (at most " + std::to_string(INT_MAX) + " floats per rank)";
    return false;
  }
  if (const char* problem = kernels::validate(gating_config(m, {}))) {
    *error = "preset " + m.name + ": " + problem;
    return false;
  }
  *out = std::move(m);
  return true;
}

kernels::GatingConfig gating_config(const ModelConfig& m, std::span<const float> selection_bias) {
  kernels::GatingConfig c;
  c.num_experts = static_cast<uint32_t>(m.num_experts);
  c.top_k = static_cast<uint32_t>(m.top_k);
  c.score = m.score;
  c.normalize = true;
  c.selection_bias = selection_bias;
  c.num_groups = static_cast<uint32_t>(m.num_groups);
  c.topk_groups = static_cast<uint32_t>(m.topk_groups);
  c.routed_scaling = m.routed_scaling;
  return c;
}

std::string preset_table() {
  std::string out = "preset             layers experts top-k shared router                       engine hidden/ffn\n";
  for (const models::ModelPreset& p : models::model_presets()) {
    std::string router = p.gating == models::Gating::kSoftmaxTopK ? "softmax top-k" : "sigmoid top-k";
    if (p.num_groups)
      router += ", " + std::to_string(p.topk_groups) + " of " + std::to_string(p.num_groups) + " groups";
    if (p.routed_scaling != 1.0f) {
      char scaling[32];
      std::snprintf(scaling, sizeof scaling, ", x%g", double(p.routed_scaling));
      router += scaling;
    }
    char line[256];
    std::snprintf(line, sizeof line, "%-18s %6d %7d %5d %6d %-28s %d/%d\n", std::string(p.name).c_str(), p.num_layers,
                  p.num_experts, p.top_k, p.num_shared_experts, router.c_str(), p.engine_hidden, p.engine_ffn);
    out += line;
  }
  return out;
}

}  // namespace moeprof::engine

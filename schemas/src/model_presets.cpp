#include <algorithm>
#include <array>
#include <cctype>

#include "moeprof/models/presets.h"

namespace moeprof::models {
namespace {

constexpr Gating kSoftmax = Gating::kSoftmaxTopK;
constexpr Gating kSigmoid = Gating::kSigmoidTopK;

// Routed experts, top-k and shared experts are the published ones (../shared/DESIGN.md).
// Where a model's layer count, hidden size or router details were not published when this
// was written ("assumed" below), the value is a plausible one for a model of that family,
// not a fact about it. Engine sizes keep every preset's weights (layers x experts x 3 x
// hidden x ffn floats) near 400 MB in total and the GEMM dimensions <= 256.
// Columns: name, layers, experts, top-k, shared, hidden, router, groups, top groups, routed
// scaling, engine hidden, engine ffn, expert ffn. Assumed: the layers and hidden sizes of
// deepseek-v4-*, glm-5.1, qwen3.5 and gemma-4; the expert ffn sizes of all but deepseek-v3,
// kimi-k2.5 (as Kimi K2), mixtral-8x7b and qwen3-235b; the routers of deepseek-v4-* (as
// DeepSeek-V3), glm-5.1 (as GLM-4.5), kimi-k2.5 (as Kimi K2) and gemma-4.
constexpr std::array kPresets = {
    ModelPreset{"deepseek-v3", 61, 256, 8, 1, 7168, kSigmoid, 8, 4, 2.5f, 64, 32, 2048},
    ModelPreset{"deepseek-v4-pro", 61, 384, 6, 1, 7168, kSigmoid, 8, 4, 2.5f, 64, 16, 2048},
    ModelPreset{"deepseek-v4-flash", 43, 256, 6, 1, 4096, kSigmoid, 8, 4, 2.5f, 64, 32, 2048},
    ModelPreset{"kimi-k2.5", 61, 384, 8, 1, 7168, kSigmoid, 0, 0, 2.827f, 64, 16, 2048},
    ModelPreset{"glm-5.1", 78, 256, 8, 1, 6144, kSigmoid, 0, 0, 2.5f, 64, 24, 1536},
    ModelPreset{"qwen3.5", 60, 512, 10, 1, 4096, kSoftmax, 0, 0, 1.0f, 64, 16, 1024},
    ModelPreset{"gemma-4", 30, 128, 8, 1, 2816, kSoftmax, 0, 0, 1.0f, 128, 64, 704},
    ModelPreset{"mixtral-8x7b", 32, 8, 2, 0, 4096, kSoftmax, 0, 0, 1.0f, 128, 256, 14336},
    ModelPreset{"qwen3-235b", 94, 128, 8, 0, 4096, kSoftmax, 0, 0, 1.0f, 64, 32, 1536},
};

}  // namespace

std::span<const ModelPreset> model_presets() { return kPresets; }

const ModelPreset* find_model_preset(std::string_view name) {
  const auto equal_ignoring_case = [](std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
  };
  for (const ModelPreset& preset : kPresets)
    if (equal_ignoring_case(preset.name, name)) return &preset;
  return nullptr;
}

}  // namespace moeprof::models

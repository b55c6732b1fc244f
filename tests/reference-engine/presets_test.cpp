// The model presets: the published shapes (../shared/DESIGN.md and the issue), router styles,
// and the engine's scaled-down sizes; what the engine makes of a preset and its overrides.
#include "moeprof/models/presets.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>

#include "model_config.h"

namespace moeprof {
namespace {

using models::find_model_preset;
using models::Gating;
using models::model_presets;

TEST(ModelPresets, HoldThePublishedExpertCounts) {
  // routed experts, top-k, shared experts
  const std::map<std::string, std::tuple<int, int, int>> published = {
      {"deepseek-v3", {256, 8, 1}}, {"deepseek-v4-pro", {384, 6, 1}}, {"deepseek-v4-flash", {256, 6, 1}},
      {"kimi-k2.5", {384, 8, 1}},   {"glm-5.1", {256, 8, 1}},         {"qwen3.5", {512, 10, 1}},
      {"gemma-4", {128, 8, 1}},     {"mixtral-8x7b", {8, 2, 0}},      {"qwen3-235b", {128, 8, 0}}};
  EXPECT_EQ(model_presets().size(), published.size());
  for (const auto& [name, shape] : published) {
    const models::ModelPreset* p = find_model_preset(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->name, name);
    EXPECT_EQ(std::tuple(p->num_experts, p->top_k, p->num_shared_experts), shape) << name;
  }
  EXPECT_EQ(find_model_preset("deepseek-v3")->num_layers, 61);
  EXPECT_EQ(find_model_preset("deepseek-v3")->hidden_size, 7168);
  EXPECT_EQ(find_model_preset("mixtral-8x7b")->num_layers, 32);
}

TEST(ModelPresets, DeepSeekRoutesLikeDeepSeekV3) {
  const models::ModelPreset* v3 = find_model_preset("deepseek-v3");
  EXPECT_EQ(v3->gating, Gating::kSigmoidTopK);
  EXPECT_EQ(v3->num_groups, 8);
  EXPECT_EQ(v3->topk_groups, 4);
  EXPECT_FLOAT_EQ(v3->routed_scaling, 2.5f);
  EXPECT_EQ(find_model_preset("mixtral-8x7b")->gating, Gating::kSoftmaxTopK);
  EXPECT_FLOAT_EQ(find_model_preset("mixtral-8x7b")->routed_scaling, 1.0f);
}

TEST(ModelPresets, LookupIgnoresCaseAndRejectsUnknownNames) {
  EXPECT_EQ(find_model_preset("Mixtral-8x7B"), find_model_preset("mixtral-8x7b"));
  EXPECT_EQ(find_model_preset("gpt-2"), nullptr);
  EXPECT_EQ(find_model_preset(""), nullptr);
  EXPECT_EQ(find_model_preset("deepseek-v3x"), nullptr);
}

TEST(ModelPresets, EngineSizesAreSmallAndRoutable) {
  for (const models::ModelPreset& p : model_presets()) {
    SCOPED_TRACE(std::string(p.name));
    EXPECT_GT(p.engine_hidden, 0);
    EXPECT_GT(p.engine_ffn, 0);
    EXPECT_LE(p.engine_hidden, 256);
    EXPECT_LE(p.engine_ffn, 256);
    // Every expert of every layer fits in well under 1 GB of float32 weights in total.
    const double bytes = 4.0 * p.num_layers * p.num_experts * 3.0 * p.engine_hidden * p.engine_ffn;
    EXPECT_LT(bytes, 512e6);
    engine::ModelConfig m;
    std::string error;
    engine::Options o;
    o.preset = std::string(p.name);
    ASSERT_TRUE(engine::resolve_model(o, &m, &error)) << error;
    EXPECT_EQ(kernels::validate(engine::gating_config(m, {})), nullptr);
  }
}

TEST(EngineModel, TakesThePresetAndTheOverrides) {
  engine::Options o;
  o.preset = "DeepSeek-V3";
  engine::ModelConfig m;
  std::string error;
  ASSERT_TRUE(engine::resolve_model(o, &m, &error)) << error;
  EXPECT_EQ(m.name, "deepseek-v3");
  EXPECT_EQ(m.num_layers, 61);
  EXPECT_EQ(m.num_experts, 256);
  EXPECT_EQ(m.top_k, 8);
  EXPECT_EQ(m.hidden, find_model_preset("deepseek-v3")->engine_hidden);
  EXPECT_EQ(m.shared_ffn(), m.ffn);
  EXPECT_EQ(m.score, kernels::ScoreFunction::kSigmoid);
  const kernels::GatingConfig g = engine::gating_config(m, {});
  EXPECT_EQ(g.num_groups, 8u);
  EXPECT_EQ(g.topk_groups, 4u);
  EXPECT_FLOAT_EQ(g.routed_scaling, 2.5f);
  EXPECT_TRUE(g.normalize);

  o.layers = 4;
  o.hidden = 32;
  o.ffn = 16;
  ASSERT_TRUE(engine::resolve_model(o, &m, &error)) << error;
  EXPECT_EQ(std::tuple(m.num_layers, m.hidden, m.ffn), std::tuple(4, 32, 16));
  EXPECT_EQ(m.num_experts, 256);
}

TEST(EngineModel, RejectsUnknownPresetsAndOversizedBatches) {
  engine::Options o;
  engine::ModelConfig m;
  std::string error;
  o.preset = "gpt-2";
  EXPECT_FALSE(engine::resolve_model(o, &m, &error));
  EXPECT_EQ(error, "unknown preset 'gpt-2' (see --list-presets)");
  o.preset = "qwen3.5";
  o.tokens = 1 << 20;
  o.hidden = 65536;
  EXPECT_FALSE(engine::resolve_model(o, &m, &error));
  EXPECT_NE(error.find("too large"), std::string::npos) << error;
}

TEST(EngineModel, PresetTableListsEveryPreset) {
  const std::string table = engine::preset_table();
  for (const models::ModelPreset& p : model_presets()) EXPECT_NE(table.find(std::string(p.name)), std::string::npos);
  EXPECT_NE(table.find("4 of 8 groups"), std::string::npos);
}

}  // namespace
}  // namespace moeprof

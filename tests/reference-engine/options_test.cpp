// moe-engine's flag parsing: every flag, both spellings, and one clear error for bad input.
#include "options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace moeprof::engine {
namespace {

Options parsed(const std::vector<std::string>& args) {
  Options o;
  std::string error;
  EXPECT_TRUE(parse_options(args, &o, &error)) << error;
  return o;
}

std::string error_of(const std::vector<std::string>& args) {
  Options o;
  std::string error;
  EXPECT_FALSE(parse_options(args, &o, &error));
  EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  return error;
}

TEST(EngineOptions, DefaultsRunTheDeepSeekPresetWithoutKnobs) {
  const Options o = parsed({});
  EXPECT_EQ(o.preset, "deepseek-v3");
  EXPECT_GE(o.steps, 1);
  EXPECT_GE(o.tokens, 1);
  EXPECT_EQ(o.layers, 0);
  EXPECT_EQ(o.zipf_skew, 0.0);
  EXPECT_FALSE(o.drift);
  EXPECT_EQ(o.balance, Balance::kNone);
  EXPECT_EQ(o.capacity_factor, 0.0);
  EXPECT_EQ(o.chunks, 0);
  EXPECT_TRUE(o.placement_file.empty() && o.ground_truth_dir.empty() && o.dump_output.empty());
  EXPECT_FALSE(o.help || o.list_presets);
}

TEST(EngineOptions, EveryFlagSetsItsField) {
  const Options o = parsed({"--preset", "mixtral-8x7b",
                            "--steps",  "7",
                            "--tokens", "33",
                            "--seed",   "18446744073709551615",
                            "--layers", "4",
                            "--hidden", "96",
                            "--ffn",    "48",
                            "--skew",   "zipf:1.2",
                            "--drift",  "--balance",
                            "aux-free", "--capacity-factor",
                            "1.25",     "--overlap",
                            "chunks:4", "--placement",
                            "p.json",   "--ground-truth-dir",
                            "gt",       "--dump-output",
                            "out.txt"});
  EXPECT_EQ(o.preset, "mixtral-8x7b");
  EXPECT_EQ(o.steps, 7);
  EXPECT_EQ(o.tokens, 33);
  EXPECT_EQ(o.seed, 18446744073709551615ull);
  EXPECT_EQ(o.layers, 4);
  EXPECT_EQ(o.hidden, 96);
  EXPECT_EQ(o.ffn, 48);
  EXPECT_DOUBLE_EQ(o.zipf_skew, 1.2);
  EXPECT_TRUE(o.drift);
  EXPECT_EQ(o.balance, Balance::kAuxFree);
  EXPECT_DOUBLE_EQ(o.capacity_factor, 1.25);
  EXPECT_EQ(o.chunks, 4);
  EXPECT_EQ(o.placement_file, "p.json");
  EXPECT_EQ(o.ground_truth_dir, "gt");
  EXPECT_EQ(o.dump_output, "out.txt");
}

TEST(EngineOptions, AcceptsFlagEqualsValue) {
  const Options o = parsed({"--steps=9", "--overlap=none", "--balance=none", "--skew=zipf:0.5"});
  EXPECT_EQ(o.steps, 9);
  EXPECT_EQ(o.chunks, 0);
  EXPECT_EQ(o.balance, Balance::kNone);
  EXPECT_DOUBLE_EQ(o.zipf_skew, 0.5);
}

TEST(EngineOptions, HelpAndListPresets) {
  EXPECT_TRUE(parsed({"--help"}).help);
  EXPECT_TRUE(parsed({"-h"}).help);
  EXPECT_TRUE(parsed({"--list-presets"}).list_presets);
  EXPECT_NE(usage_text().find("--capacity-factor"), std::string::npos);
}

TEST(EngineOptions, BadInputGetsOneLineNamingTheProblem) {
  EXPECT_NE(error_of({"--bogus"}).find("unknown option '--bogus'"), std::string::npos);
  EXPECT_NE(error_of({"stray"}).find("unknown option 'stray'"), std::string::npos);
  EXPECT_NE(error_of({"--steps"}).find("--steps needs a value"), std::string::npos);
  EXPECT_NE(error_of({"--drift=yes"}).find("--drift takes no value"), std::string::npos);
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{{"--steps", "0"},
                                                                                    {"--steps", "3x"},
                                                                                    {"--steps", "-1"},
                                                                                    {"--tokens", "2000000"},
                                                                                    {"--seed", "-5"},
                                                                                    {"--layers", "0"},
                                                                                    {"--hidden", "1.5"},
                                                                                    {"--ffn", ""},
                                                                                    {"--skew", "zipf:0"},
                                                                                    {"--skew", "zipf:"},
                                                                                    {"--skew", "pareto:1"},
                                                                                    {"--skew", "zipf:nan"},
                                                                                    {"--balance", "aux"},
                                                                                    {"--capacity-factor", "0"},
                                                                                    {"--capacity-factor", "inf"},
                                                                                    {"--overlap", "chunks:0"},
                                                                                    {"--overlap", "chunks"},
                                                                                    {"--overlap", "chunks:2x"},
                                                                                    {"--overlap", "always"},
                                                                                    {"--placement", ""}}) {
    const std::string error = error_of({flag, value});
    EXPECT_NE(error.find("bad value '" + value + "' for " + flag), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace moeprof::engine

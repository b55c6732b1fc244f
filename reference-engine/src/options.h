// moe-engine's command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace moeprof::engine {

enum class Balance : uint8_t { kNone, kAuxFree };
enum class Backend : uint8_t { kCpu, kCuda };

struct Options {
  std::string preset = "deepseek-v3";
  int64_t steps = 3;
  int32_t tokens = 128;  // per rank per step
  uint64_t seed = 1;
  int32_t layers = 0;      // 0: the preset's
  int32_t hidden = 0;      // 0: the preset's engine size
  int32_t ffn = 0;         // 0: the preset's engine size
  double zipf_skew = 0.0;  // --skew zipf:S; 0: no skew
  bool drift = false;
  Balance balance = Balance::kNone;
  double capacity_factor = 0.0;  // 0: unlimited
  int32_t chunks = 0;            // --overlap chunks:N; 0: --overlap none
  Backend backend = Backend::kCpu;
  std::string placement_file;
  std::string ground_truth_dir;
  std::string dump_output;
  bool timing = false;  // --timing: per-step times and all-to-all bandwidth (rank 0 prints)
  bool help = false;
  bool list_presets = false;
};

// Parses the arguments after the program name. false and a one-line `error` on bad input.
bool parse_options(const std::vector<std::string>& args, Options* out, std::string* error);

std::string usage_text();

}  // namespace moeprof::engine

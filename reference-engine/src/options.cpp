#include "options.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

namespace moeprof::engine {
namespace {

template <class T>
bool parse_integer(const std::string& text, T min, T max, T* out) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return false;
  *out = value;
  return true;
}

bool parse_real(const std::string& text, double min_exclusive, double max, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value) || value <= min_exclusive || value > max) return false;
  *out = value;
  return true;
}

// What one flag does with its value; false means the value is bad (the caller says so).
using Setter = std::function<bool(const std::string&, Options&)>;

template <class T>
Setter integer_into(T Options::*field, T min, T max) {
  return [=](const std::string& v, Options& o) { return parse_integer(v, min, max, &(o.*field)); };
}

Setter string_into(std::string Options::*field) {
  return [=](const std::string& v, Options& o) {
    o.*field = v;
    return !v.empty();
  };
}

const std::map<std::string, std::pair<Setter, const char*>>& value_flags() {
  static const std::map<std::string, std::pair<Setter, const char*>> flags = {
      {"--preset", {string_into(&Options::preset), "a preset name"}},
      {"--steps", {integer_into<int64_t>(&Options::steps, 1, 1'000'000'000), "an integer in 1..1000000000"}},
      {"--tokens", {integer_into<int32_t>(&Options::tokens, 1, 1 << 20), "an integer in 1..1048576"}},
      {"--seed", {integer_into<uint64_t>(&Options::seed, 0, UINT64_MAX), "a non-negative integer"}},
      {"--layers", {integer_into<int32_t>(&Options::layers, 1, 10'000), "an integer in 1..10000"}},
      {"--hidden", {integer_into<int32_t>(&Options::hidden, 1, 65'536), "an integer in 1..65536"}},
      {"--ffn", {integer_into<int32_t>(&Options::ffn, 1, 65'536), "an integer in 1..65536"}},
      {"--skew",
       {[](const std::string& v, Options& o) {
          return v.rfind("zipf:", 0) == 0 && parse_real(v.substr(5), 0.0, 10.0, &o.zipf_skew);
        },
        "zipf:S with 0 < S <= 10"}},
      {"--balance",
       {[](const std::string& v, Options& o) {
          if (v == "none" || v == "aux-free") o.balance = v == "none" ? Balance::kNone : Balance::kAuxFree;
          return v == "none" || v == "aux-free";
        },
        "none or aux-free"}},
      {"--capacity-factor",
       {[](const std::string& v, Options& o) { return parse_real(v, 0.0, 1000.0, &o.capacity_factor); },
        "a number in (0, 1000]"}},
      {"--overlap",
       {[](const std::string& v, Options& o) {
          if (v == "none") {
            o.chunks = 0;
            return true;
          }
          return v.rfind("chunks:", 0) == 0 && parse_integer<int32_t>(v.substr(7), 1, 4096, &o.chunks);
        },
        "none or chunks:N with 1 <= N <= 4096"}},
      {"--backend",
       {[](const std::string& v, Options& o) {
          if (v == "cpu" || v == "cuda") o.backend = v == "cpu" ? Backend::kCpu : Backend::kCuda;
          return v == "cpu" || v == "cuda";
        },
        "cpu or cuda"}},
      {"--placement", {string_into(&Options::placement_file), "a file name"}},
      {"--ground-truth-dir", {string_into(&Options::ground_truth_dir), "a directory name"}},
      {"--dump-output", {string_into(&Options::dump_output), "a file name"}},
  };
  return flags;
}

}  // namespace

bool parse_options(const std::vector<std::string>& args, Options* out, std::string* error) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    bool has_value = false;
    if (const size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
      has_value = true;
    }
    if (flag == "--help" || flag == "-h" || flag == "--list-presets" || flag == "--drift" || flag == "--timing") {
      if (has_value) {
        *error = flag + " takes no value";
        return false;
      }
      (flag == "--drift"          ? o.drift
       : flag == "--timing"       ? o.timing
       : flag == "--list-presets" ? o.list_presets
                                  : o.help) = true;
      continue;
    }
    const auto it = value_flags().find(flag);
    if (it == value_flags().end()) {
      *error = "unknown option '" + args[i] + "' (see --help)";
      return false;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        *error = flag + " needs a value: " + it->second.second;
        return false;
      }
      value = args[++i];
    }
    if (!it->second.first(value, o)) {
      *error = "bad value '" + value + "' for " + flag + ": expected " + it->second.second;
      return false;
    }
  }
  *out = std::move(o);
  return true;
}

std::string usage_text() {
  return R"(usage: mpirun -np R moe-engine [options]
An expert-parallel MoE forward pass over MPI ranks (one expert-parallel group of all ranks),
instrumented through the moeprof C API (recorded when run under `moeprof run`).
  --preset NAME            model preset (default deepseek-v3; see --list-presets)
  --list-presets           print the presets and exit
  --steps N                forward steps (default 3)
  --tokens N               tokens per rank per step (default 128)
  --seed N                 seed of weights and tokens (default 1)
  --layers N               MoE layers (default: the preset's)
  --hidden N               hidden size (default: the preset's scaled-down size)
  --ffn N                  intermediate size of one expert (default: the preset's scaled-down size)
  --skew zipf:S            router bias making expert popularity Zipf(S), per layer
  --drift                  the popular experts change step by step
  --balance none|aux-free  aux-loss-free bias balancing, updated every step (default none)
  --capacity-factor F      expert capacity per rank batch: ceil(F * tokens * top-k / experts);
                           tokens over it are dropped and counted (default: unlimited)
  --overlap none|chunks:N  pipeline N chunks: all-to-alls overlap expert compute (default none)
  --backend cpu|cuda       cpu: OpenBLAS and MPI all-to-alls (default); cuda: one GPU per rank,
                           the kernels of kernels/ and NCCL all-to-alls on a stream of their own
  --placement FILE         expert -> rank placement with replicas (schemas/placement.md)
  --ground-truth-dir DIR   write what the engine recorded: DIR/expert-load.rank<R>.csv and
                           DIR/a2a.rank<R>.csv
  --dump-output FILE       write every step's final hidden states (rank 0, global token order)
  --timing                 time every step between barriers and the blocking dispatch/combine
                           exchanges; rank 0 prints the median step time and their bandwidth
  --help                   print this help and exit
)";
}

}  // namespace moeprof::engine

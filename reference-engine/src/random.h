// Deterministic pseudo-random numbers: std::mt19937_64 (its output sequence is fixed by the
// C++ standard) with our own transforms, because std::*_distribution differ between standard
// libraries and a run must not depend on which one built it.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <numbers>
#include <random>

namespace moeprof::engine {

// A seed derived from several values (splitmix64 chain): e.g. {seed, what, layer, expert}.
inline uint64_t derive_seed(std::initializer_list<uint64_t> values) {
  uint64_t state = 0x6D6F652D656E67ull;  // "moe-eng"
  for (uint64_t v : values) {
    state ^= v;
    state += 0x9E3779B97F4A7C15ull;
    state = (state ^ (state >> 30)) * 0xBF58476D1CE4E5B9ull;
    state = (state ^ (state >> 27)) * 0x94D049BB133111EBull;
    state ^= state >> 31;
  }
  return state;
}

// What derive_seed's second value says a stream is for.
enum class Stream : uint64_t { kRouter = 1, kSharedExpert, kExpert, kTokens, kSkew };

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1) with 53 random bits.
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in [-limit, limit).
  float symmetric(float limit) { return static_cast<float>((2.0 * unit() - 1.0) * limit); }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(engine_()) * n) >> 64); }
  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  float normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u = 1.0 - unit();  // (0, 1]: log(u) is finite
    const double v = unit();
    const double r = std::sqrt(-2.0 * std::log(u));
    spare_ = static_cast<float>(r * std::sin(2.0 * std::numbers::pi * v));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(2.0 * std::numbers::pi * v));
  }

 private:
  std::mt19937_64 engine_;
  float spare_ = 0.0f;
  bool has_spare_ = false;
};

}  // namespace moeprof::engine

// Deterministic random numbers for synth: std::mt19937_64 (specified bit for bit by the
// standard) and distributions of our own, because std::*_distribution output differs between
// standard libraries and synth must give the same trace for the same seed everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace moeprof::synth {

// SplitMix64 finaliser: turns (seed, stream number) into well-separated engine seeds.
inline uint64_t mix_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n) (multiply-shift; the bias of at most n / 2^32 is irrelevant here).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((engine_() >> 32) * n) >> 32); }
  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u = 1.0 - uniform();  // (0, 1]: log(u) is finite
    const double v = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u));
    spare_ = radius * std::sin(2.0 * std::numbers::pi * v);
    has_spare_ = true;
    return radius * std::cos(2.0 * std::numbers::pi * v);
  }
  // Exponential with mean 1.
  double exponential() { return -std::log(1.0 - uniform()); }

  // Binomial(n, p): exact by CDF inversion (one uniform, O(mean) multiplications) while n·p
  // is small; normal approximation (rounded, clamped to [0, n]) once the mean is large.
  uint64_t binomial(uint64_t n, double p) {
    if (n == 0 || p <= 0.0) return 0;
    if (p >= 1.0) return n;
    if (p > 0.5) return n - binomial(n, 1.0 - p);
    const double nd = static_cast<double>(n);
    const double mean = nd * p;
    if (mean >= 30.0) {
      const double x = std::round(mean + std::sqrt(mean * (1.0 - p)) * normal());
      return x <= 0.0 ? 0 : x >= nd ? n : static_cast<uint64_t>(x);
    }
    // pmf(0) = (1-p)^n; pmf(x) = pmf(x-1) · (n+1-x)/x · p/(1-p).
    const double odds = p / (1.0 - p);
    double pmf = std::exp(nd * std::log1p(-p));
    double u = uniform();
    uint64_t x = 0;
    while (u > pmf && x < n) {
      u -= pmf;
      ++x;
      pmf *= odds * (nd + 1.0 - static_cast<double>(x)) / static_cast<double>(x);
    }
    return x;
  }

  template <class It>
  void shuffle(It first, It last) {
    for (auto n = last - first; n > 1; --n) std::swap(first[n - 1], first[below(static_cast<uint32_t>(n))]);
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace moeprof::synth

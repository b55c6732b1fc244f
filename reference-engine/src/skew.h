// --skew zipf:S: a per-layer logit bias that makes expert popularity follow Zipf(S) over a
// random per-layer order of the experts; with --drift the order rotates by one place per step.
#pragma once

#include <cstdint>
#include <vector>

namespace moeprof::engine {

class ZipfSkew {
 public:
  // s = 0: no skew (every bias is 0).
  ZipfSkew(double s, bool drift, uint64_t seed, int32_t num_layers, int32_t num_experts);
  // The popularity rank (0 = hottest) of `expert` in `layer` at `step`.
  int32_t popularity_rank(int32_t layer, int64_t step, int32_t expert) const;
  // bias[e] = -S * ln(1 + popularity rank of e): softmax probabilities scale by 1/(1+rank)^S.
  void logit_bias(int32_t layer, int64_t step, float* bias) const;
  bool active() const { return s_ > 0.0; }

 private:
  double s_;
  bool drift_;
  int32_t num_experts_;
  std::vector<std::vector<int32_t>> rank_of_;  // [layer][expert] at step 0
};

}  // namespace moeprof::engine

#include "skew.h"

#include <cmath>
#include <numeric>

#include "random.h"

namespace moeprof::engine {

ZipfSkew::ZipfSkew(double s, bool drift, uint64_t seed, int32_t num_layers, int32_t num_experts)
    : s_(s), drift_(drift), num_experts_(num_experts) {
  if (s_ <= 0.0) return;
  for (int32_t layer = 0; layer < num_layers; ++layer) {
    // Fisher-Yates shuffle of the popularity ranks.
    std::vector<int32_t> rank(static_cast<size_t>(num_experts));
    std::iota(rank.begin(), rank.end(), 0);
    Random random(derive_seed({seed, uint64_t(Stream::kSkew), uint64_t(layer)}));
    for (size_t i = rank.size(); i > 1; --i) std::swap(rank[i - 1], rank[random.below(i)]);
    rank_of_.push_back(std::move(rank));
  }
}

int32_t ZipfSkew::popularity_rank(int32_t layer, int64_t step, int32_t expert) const {
  const int64_t shift = drift_ ? step % num_experts_ : 0;
  return static_cast<int32_t>((rank_of_[static_cast<size_t>(layer)][static_cast<size_t>(expert)] + shift) %
                              num_experts_);
}

void ZipfSkew::logit_bias(int32_t layer, int64_t step, float* bias) const {
  for (int32_t e = 0; e < num_experts_; ++e)
    bias[e] = active() ? static_cast<float>(-s_ * std::log1p(double(popularity_rank(layer, step, e)))) : 0.0f;
}

}  // namespace moeprof::engine

#include "weights.h"

#include <cmath>

#include "random.h"

namespace moeprof::engine {
namespace {

// Uniform with variance 1/fan_in: outputs keep the scale of their inputs.
void fill(std::vector<float>& w, size_t n, int32_t fan_in, Random& random) {
  const float limit = static_cast<float>(std::sqrt(3.0 / fan_in));
  w.resize(n);
  for (float& v : w) v = random.symmetric(limit);
}

FfnWeights make_ffn(int32_t hidden, int32_t ffn, uint64_t seed) {
  FfnWeights f;
  f.hidden = hidden;
  f.ffn = ffn;
  Random random(seed);
  fill(f.gate_up, size_t(hidden) * 2 * size_t(ffn), hidden, random);
  fill(f.down, size_t(ffn) * size_t(hidden), ffn, random);
  return f;
}

}  // namespace

LayerWeights make_layer_weights(const ModelConfig& m, uint64_t seed, int32_t layer, std::span<const int32_t> held) {
  LayerWeights w;
  Random router(derive_seed({seed, uint64_t(Stream::kRouter), uint64_t(layer)}));
  fill(w.router, size_t(m.hidden) * size_t(m.num_experts), m.hidden, router);
  if (m.num_shared_experts > 0)
    w.shared =
        make_ffn(m.hidden, m.shared_ffn(), derive_seed({seed, uint64_t(Stream::kSharedExpert), uint64_t(layer)}));
  w.experts.resize(static_cast<size_t>(m.num_experts));
  for (int32_t e : held)
    w.experts[static_cast<size_t>(e)] =
        make_ffn(m.hidden, m.ffn, derive_seed({seed, uint64_t(Stream::kExpert), uint64_t(layer), uint64_t(e)}));
  return w;
}

}  // namespace moeprof::engine

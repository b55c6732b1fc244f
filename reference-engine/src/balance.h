// --balance aux-free: DeepSeek-V3's auxiliary-loss-free balancing. Every expert has a bias
// added to its router score for selection only; after each step an expert loaded below the
// mean gets gamma more, one above it gamma less.
#pragma once

#include <cstdint>
#include <span>

namespace moeprof::engine {

inline constexpr float kAuxFreeGamma = 1e-3f;  // DeepSeek-V3's bias update speed

// bias[e] += gamma * sign(mean load - load[e]); `load` is the step's global load of the layer.
void update_aux_free_bias(std::span<float> bias, std::span<const uint64_t> load, float gamma);

}  // namespace moeprof::engine

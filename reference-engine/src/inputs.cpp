#include "inputs.h"

#include "random.h"

namespace moeprof::engine {

void make_tokens(uint64_t seed, int64_t step, int64_t first_token, uint32_t tokens, uint32_t hidden, float* x) {
  for (uint32_t t = 0; t < tokens; ++t) {
    Random random(derive_seed({seed, uint64_t(Stream::kTokens), uint64_t(step), uint64_t(first_token + t)}));
    for (uint32_t i = 0; i < hidden; ++i) x[size_t(t) * hidden + i] = random.normal();
  }
}

}  // namespace moeprof::engine

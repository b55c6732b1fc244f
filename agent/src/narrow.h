// Narrowing uint32 arrays to 16 or 8 bits while they are copied into a ring, so the hot path
// writes half or a quarter of the bytes (writing is what a record costs). The kernels come
// in one variant per instruction set; the best the CPU has is picked once, at load.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moeprof::agent {

// Each kernel copies the low bits of in[0..n) to out[0..n) and returns true when every value
// fits, so the copy is exact. Otherwise it returns false, the vector ones at the first block
// that does not fit; out[0..n) then holds anything and the caller writes the values another
// way. Nothing past out[n - 1] is ever written.
struct NarrowKernels {
  bool (*to_u16)(const uint32_t* in, size_t n, uint16_t* out);
  bool (*to_u8)(const uint32_t* in, size_t n, uint8_t* out);
};

enum class NarrowIsa : uint8_t { kPortable, kAvx2, kAvx512bw };

// Whether this build and this CPU can run `isa`'s kernels.
bool narrow_isa_available(NarrowIsa isa);
// The kernels of `isa` (for tests that compare the variants); only where available.
NarrowKernels narrow_kernels(NarrowIsa isa);

// The best kernels of this CPU. Portable until the library's load-time initialiser has run.
[[gnu::visibility("hidden")]] extern NarrowKernels g_narrow;

}  // namespace moeprof::agent

#include "narrow.h"

#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace moeprof::agent {
namespace {

// One OR over the whole array instead of a branch per value: GCC does not vectorise this at
// -O2, but it is only the fallback (and the vector kernels' tail).
template <class Out>
bool narrow_portable(const uint32_t* in, size_t n, Out* out) {
  uint32_t all = 0;
  for (size_t i = 0; i < n; ++i) {
    all |= in[i];
    out[i] = static_cast<Out>(in[i]);
  }
  return all <= std::numeric_limits<Out>::max();
}
constexpr auto to_u16_portable = narrow_portable<uint16_t>;
constexpr auto to_u8_portable = narrow_portable<uint8_t>;

#if defined(__x86_64__)

// The pack instructions saturate and work within 128-bit lanes, so the kernels test the
// values before packing and then put the lanes back in order with one permute. Testing
// each block (rather than OR-ing everything and testing once) lets a too-wide array stop
// early, at no measurable cost to one that fits.

[[gnu::target("avx2")]] bool to_u16_avx2(const uint32_t* in, size_t n, uint16_t* out) {
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 8));
    if (!_mm256_testz_si256(_mm256_or_si256(a, b), high)) return false;
    // Packed 64-bit groups come as a0 b0 a1 b1.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0b11'01'10'00));
  }
  return to_u16_portable(in + i, n - i, out + i);
}

[[gnu::target("avx2")]] bool to_u8_avx2(const uint32_t* in, size_t n, uint8_t* out) {
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xFFFFFF00u));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);  // packed 32-bit groups: a0 b0 c0 d0 a1 b1 c1 d1
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 8));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 16));
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 24));
    if (!_mm256_testz_si256(_mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, d)), high)) return false;
    const __m256i packed = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permutevar8x32_epi32(packed, order));
  }
  return to_u8_portable(in + i, n - i, out + i);
}

// The last, partial block goes through masked loads (masked-off lanes read as 0) and a
// masked store. The permutes are the zero-masking forms with every lane on: GCC 12's
// unmasked ones start from _mm512_undefined_epi32(), which -Wmaybe-uninitialized rejects.

[[gnu::target("avx512f,avx512bw")]] inline bool u16_block_avx512bw(__m512i a, __m512i b, uint16_t* out,
                                                                    __mmask32 store_mask) {
  if (_mm512_test_epi32_mask(_mm512_or_si512(a, b), _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))) != 0)
    return false;
  const __m512i order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);  // packed 64-bit groups: a0 b0 a1 b1 a2 ...
  _mm512_mask_storeu_epi16(out, store_mask, _mm512_maskz_permutexvar_epi64(0xFF, order, _mm512_packus_epi32(a, b)));
  return true;
}

[[gnu::target("avx512f,avx512bw")]] bool to_u16_avx512bw(const uint32_t* in, size_t n, uint16_t* out) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    if (!u16_block_avx512bw(_mm512_loadu_si512(in + i), _mm512_loadu_si512(in + i + 16), out + i, ~__mmask32{0}))
      return false;
  if (i == n) return true;
  const auto mask = static_cast<__mmask32>((1u << (n - i)) - 1);
  return u16_block_avx512bw(_mm512_maskz_loadu_epi32(static_cast<__mmask16>(mask), in + i),
                            _mm512_maskz_loadu_epi32(static_cast<__mmask16>(mask >> 16), in + i + 16), out + i, mask);
}

[[gnu::target("avx512f,avx512bw")]] inline bool u8_block_avx512bw(__m512i a, __m512i b, __m512i c, __m512i d,
                                                                   uint8_t* out, __mmask64 store_mask) {
  const __m512i all = _mm512_or_si512(_mm512_or_si512(a, b), _mm512_or_si512(c, d));
  if (_mm512_test_epi32_mask(all, _mm512_set1_epi32(static_cast<int>(0xFFFFFF00u))) != 0) return false;
  // Packed 32-bit groups: a0 b0 c0 d0 a1 b1 c1 d1 ...
  const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  const __m512i packed = _mm512_packus_epi16(_mm512_packus_epi32(a, b), _mm512_packus_epi32(c, d));
  _mm512_mask_storeu_epi8(out, store_mask, _mm512_maskz_permutexvar_epi32(0xFFFF, order, packed));
  return true;
}

[[gnu::target("avx512f,avx512bw")]] bool to_u8_avx512bw(const uint32_t* in, size_t n, uint8_t* out) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64)
    if (!u8_block_avx512bw(_mm512_loadu_si512(in + i), _mm512_loadu_si512(in + i + 16),
                           _mm512_loadu_si512(in + i + 32), _mm512_loadu_si512(in + i + 48), out + i,
                           ~__mmask64{0}))
      return false;
  if (i == n) return true;
  const __mmask64 mask = (uint64_t{1} << (n - i)) - 1;
  return u8_block_avx512bw(_mm512_maskz_loadu_epi32(static_cast<__mmask16>(mask), in + i),
                           _mm512_maskz_loadu_epi32(static_cast<__mmask16>(mask >> 16), in + i + 16),
                           _mm512_maskz_loadu_epi32(static_cast<__mmask16>(mask >> 32), in + i + 32),
                           _mm512_maskz_loadu_epi32(static_cast<__mmask16>(mask >> 48), in + i + 48), out + i, mask);
}

#endif

}  // namespace

bool narrow_isa_available(NarrowIsa isa) {
#if defined(__x86_64__)
  // Fills in the CPU model that __builtin_cpu_supports reads: at load time libgcc's own
  // initialiser may not have run yet.
  __builtin_cpu_init();
#endif
  switch (isa) {
    case NarrowIsa::kPortable:
      return true;
#if defined(__x86_64__)
    case NarrowIsa::kAvx2:
      return __builtin_cpu_supports("avx2");
    case NarrowIsa::kAvx512bw:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#endif
    default:
      return false;
  }
}

NarrowKernels narrow_kernels(NarrowIsa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case NarrowIsa::kAvx2:
      return {to_u16_avx2, to_u8_avx2};
    case NarrowIsa::kAvx512bw:
      return {to_u16_avx512bw, to_u8_avx512bw};
#endif
    default:
      return {to_u16_portable, to_u8_portable};
  }
}

constinit NarrowKernels g_narrow{to_u16_portable, to_u8_portable};

namespace {

// At load, before any thread of the workload can record.
[[gnu::constructor]] void pick_narrow_kernels() {
  if (narrow_isa_available(NarrowIsa::kAvx512bw))
    g_narrow = narrow_kernels(NarrowIsa::kAvx512bw);
  else if (narrow_isa_available(NarrowIsa::kAvx2))
    g_narrow = narrow_kernels(NarrowIsa::kAvx2);
}

}  // namespace
}  // namespace moeprof::agent

// The narrowing kernels, every variant this CPU runs: exact copies when the values fit, a
// refusal when one does not, and never a byte written past the end, whatever the length.
#include "narrow.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace moeprof::agent {

// Names the variants in test names and failure messages (gtest finds it by argument-
// dependent lookup, so it lives in the enum's namespace).
void PrintTo(NarrowIsa isa, std::ostream* out) {
  switch (isa) {
    case NarrowIsa::kPortable: *out << "Portable"; return;
    case NarrowIsa::kAvx2: *out << "Avx2"; return;
    case NarrowIsa::kAvx512bw: *out << "Avx512bw"; return;
  }
  *out << "Unknown";
}

namespace {

constexpr size_t kLengths[] = {0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 1000};
constexpr uint8_t kGuard = 0xA5;
constexpr size_t kGuardSize = 128;  // more than one vector of output

std::string param_name(const ::testing::TestParamInfo<NarrowIsa>& info) { return ::testing::PrintToString(info.param); }

std::vector<uint32_t> values_up_to(uint32_t max, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> values(n);
  for (auto& v : values) v = static_cast<uint32_t>(rng() % (uint64_t{max} + 1));
  if (n > 0) values[n / 2] = max;  // the boundary itself fits
  return values;
}

// Runs `kernel` on `in` with guard bytes after the output; returns its verdict and checks
// that the guard survived.
template <class T, class Kernel>
bool run(Kernel kernel, const std::vector<uint32_t>& in, std::vector<T>* out) {
  std::vector<uint8_t> buffer(in.size() * sizeof(T) + kGuardSize, kGuard);
  const bool fits = kernel(in.data(), in.size(), reinterpret_cast<T*>(buffer.data()));
  for (size_t i = in.size() * sizeof(T); i < buffer.size(); ++i)
    if (buffer[i] != kGuard) {
      ADD_FAILURE() << "byte " << i - in.size() * sizeof(T) << " past the end of " << in.size() << " values written";
      break;
    }
  out->resize(in.size());
  if (!in.empty()) std::memcpy(out->data(), buffer.data(), in.size() * sizeof(T));
  return fits;
}

class Narrow : public ::testing::TestWithParam<NarrowIsa> {
 protected:
  void SetUp() override {
    if (!narrow_isa_available(GetParam())) GTEST_SKIP() << "this CPU lacks " << ::testing::PrintToString(GetParam());
    kernels = narrow_kernels(GetParam());
  }
  NarrowKernels kernels{};
};

TEST_P(Narrow, ValuesThatFitAreCopiedExactly) {
  for (const size_t n : kLengths) {
    const std::vector<uint32_t> in16 = values_up_to(0xFFFF, n, 1);
    std::vector<uint16_t> out16;
    EXPECT_TRUE(run(kernels.to_u16, in16, &out16)) << n;
    EXPECT_EQ(std::vector<uint32_t>(out16.begin(), out16.end()), in16) << n;

    const std::vector<uint32_t> in8 = values_up_to(0xFF, n, 2);
    std::vector<uint8_t> out8;
    EXPECT_TRUE(run(kernels.to_u8, in8, &out8)) << n;
    EXPECT_EQ(std::vector<uint32_t>(out8.begin(), out8.end()), in8) << n;
  }
}

// One value too wide, at every position of every length (first, last, inside the vector
// loop and in the tail), is noticed; -1 and INT32_MIN seen as uint32 are among them.
TEST_P(Narrow, OneValueTooWideAnywhereIsNoticed) {
  const uint32_t too_wide_for_16[] = {0x10000, 0x12345678, 0x80000000, 0xFFFFFFFF};
  const uint32_t too_wide_for_8[] = {0x100, 0xFFFF, 0x10000, 0xFFFFFFFF};
  for (const size_t n : kLengths) {
    for (size_t at = 0; at < n; ++at) {
      for (const uint32_t wide : too_wide_for_16) {
        std::vector<uint32_t> in = values_up_to(0xFFFF, n, 3);
        in[at] = wide;
        std::vector<uint16_t> out;
        EXPECT_FALSE(run(kernels.to_u16, in, &out)) << "n " << n << " at " << at << " value " << wide;
      }
      for (const uint32_t wide : too_wide_for_8) {
        std::vector<uint32_t> in = values_up_to(0xFF, n, 4);
        in[at] = wide;
        std::vector<uint8_t> out;
        EXPECT_FALSE(run(kernels.to_u8, in, &out)) << "n " << n << " at " << at << " value " << wide;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryIsa, Narrow,
                         ::testing::Values(NarrowIsa::kPortable, NarrowIsa::kAvx2, NarrowIsa::kAvx512bw), param_name);

TEST(NarrowDispatch, PicksTheWidestTheCpuHas) {
  const NarrowIsa best = narrow_isa_available(NarrowIsa::kAvx512bw) ? NarrowIsa::kAvx512bw
                         : narrow_isa_available(NarrowIsa::kAvx2)   ? NarrowIsa::kAvx2
                                                                    : NarrowIsa::kPortable;
  EXPECT_EQ(g_narrow.to_u16, narrow_kernels(best).to_u16);
  EXPECT_EQ(g_narrow.to_u8, narrow_kernels(best).to_u8);
}

}  // namespace
}  // namespace moeprof::agent

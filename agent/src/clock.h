// Timestamps. The hot path reads raw ticks: the TSC when the CPU has an invariant one
// (~10 ns cheaper than clock_gettime), else CLOCK_MONOTONIC nanoseconds, or a clock a test
// installed. The flusher turns ticks into CLOCK_MONOTONIC nanoseconds with TickConverter.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace moeprof::agent {

enum class ClockKind : uint8_t { kMonotonic = 0, kTsc = 1, kTest = 2 };
using TestClock = int64_t (*)();

// Chosen at moeprof_init; the hot path reads it on every record (hidden: no GOT indirection).
[[gnu::visibility("hidden")]] extern std::atomic<ClockKind> g_clock_kind;
[[gnu::visibility("hidden")]] extern std::atomic<TestClock> g_test_clock;

inline int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

inline int64_t now_ticks() {
  switch (g_clock_kind.load(std::memory_order_relaxed)) {
#if defined(__x86_64__) || defined(__i386__)
    case ClockKind::kTsc:
      return static_cast<int64_t>(__rdtsc());
#endif
    case ClockKind::kTest: {
      const TestClock clock = g_test_clock.load(std::memory_order_relaxed);
      return clock != nullptr ? clock() : monotonic_ns();
    }
    default:
      return monotonic_ns();
  }
}

// cpuid 0x80000007 EDX bit 8: the TSC runs at a constant rate in every power state.
bool has_invariant_tsc();

// The clock the hot path will use: the test clock if one is installed, else the TSC unless
// unavailable or `prefer_monotonic`.
ClockKind choose_clock(bool prefer_monotonic);

// A TSC reading paired with the CLOCK_MONOTONIC time it was taken at.
struct ClockAnchor {
  int64_t ticks;
  int64_t ns;
};
// The tightest of a few (tsc, monotonic, tsc) samples; the TSC value is the midpoint.
ClockAnchor take_tsc_anchor();

// Maps TSC ticks to CLOCK_MONOTONIC ns: the rate comes from the longest baseline (the first
// anchor to the newest), the offset from the newest anchor at or before the tick, so the
// map follows any slewing of CLOCK_MONOTONIC without picking up the noise of short baselines.
class TickConverter {
 public:
  // kMonotonic and kTest ticks are already nanoseconds.
  void reset(ClockKind kind, ClockAnchor first);
  // A new anchor: ticks taken before it map from the previous one.
  void add(ClockAnchor anchor);
  int64_t to_ns(int64_t ticks) const;
  ClockKind kind() const { return kind_; }

 private:
  ClockKind kind_ = ClockKind::kMonotonic;
  ClockAnchor first_{0, 0};
  ClockAnchor previous_{0, 0};
  ClockAnchor latest_{0, 0};
  double ns_per_tick_ = 1.0;
};

}  // namespace moeprof::agent

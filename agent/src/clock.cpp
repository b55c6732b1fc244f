#include "clock.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace moeprof::agent {

std::atomic<ClockKind> g_clock_kind{ClockKind::kMonotonic};
std::atomic<TestClock> g_test_clock{nullptr};

bool has_invariant_tsc() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
  __cpuid(0x80000007u, eax, ebx, ecx, edx);
  return (edx & (1u << 8)) != 0;
#else
  return false;
#endif
}

ClockKind choose_clock(bool prefer_monotonic) {
  if (g_test_clock.load(std::memory_order_relaxed) != nullptr) return ClockKind::kTest;
  if (!prefer_monotonic && has_invariant_tsc()) return ClockKind::kTsc;
  return ClockKind::kMonotonic;
}

ClockAnchor take_tsc_anchor() {
#if defined(__x86_64__) || defined(__i386__)
  ClockAnchor best{0, 0};
  uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const uint64_t before = __rdtsc();
    const int64_t ns = monotonic_ns();
    const uint64_t after = __rdtsc();
    if (after - before < best_width) {
      best_width = after - before;
      best = {static_cast<int64_t>(before + (after - before) / 2), ns};
    }
  }
  return best;
#else
  const int64_t ns = monotonic_ns();
  return {ns, ns};
#endif
}

void TickConverter::reset(ClockKind kind, ClockAnchor first) {
  kind_ = kind;
  first_ = previous_ = latest_ = first;
}

void TickConverter::add(ClockAnchor anchor) {
  previous_ = latest_;
  latest_ = anchor;
  if (latest_.ticks > first_.ticks)
    ns_per_tick_ = static_cast<double>(latest_.ns - first_.ns) / static_cast<double>(latest_.ticks - first_.ticks);
}

int64_t TickConverter::to_ns(int64_t ticks) const {
  if (kind_ != ClockKind::kTsc) return ticks;
  const ClockAnchor& base = ticks >= latest_.ticks ? latest_ : ticks >= previous_.ticks ? previous_ : first_;
  return base.ns + static_cast<int64_t>(static_cast<double>(ticks - base.ticks) * ns_per_tick_);
}

}  // namespace moeprof::agent

// Tick sources and the tick -> CLOCK_MONOTONIC conversion.
#include "clock.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "testing.h"

namespace moeprof::agent {
namespace {

// A synthetic TSC: ticks = 3 * ns + 1000 (plus a drift the anchors reveal).
TEST(TickConverter, MapsTicksLinearlyBetweenAnchors) {
  TickConverter c;
  c.reset(ClockKind::kTsc, {1000 + 3 * 5'000'000, 5'000'000});
  c.add({1000 + 3 * 105'000'000LL, 105'000'000});
  for (int64_t ns : {5'000'000LL, 6'000'123LL, 55'555'555LL, 104'999'999LL})
    EXPECT_NEAR(c.to_ns(1000 + 3 * ns), ns, 1) << ns;
}

TEST(TickConverter, TakesTheRateFromTheLongestBaselineAndTheOffsetFromTheLatestAnchor) {
  TickConverter c;
  c.reset(ClockKind::kTsc, {0, 0});
  c.add({3'000'000'000LL, 1'000'000'000});  // 3 ticks per ns over the first second
  // CLOCK_MONOTONIC was slewed: the newest anchor sits 500 ns later than the rate predicts.
  c.add({6'000'000'000LL, 2'000'000'500LL});
  // Ticks after the previous anchor map from it with the long-baseline rate.
  const double rate = 2'000'000'500.0 / 6'000'000'000.0;
  EXPECT_NEAR(c.to_ns(3'000'000'300LL), 1'000'000'000 + 300 * rate, 1);
  // Ticks past the newest anchor map from it.
  EXPECT_NEAR(c.to_ns(6'000'000'030LL), 2'000'000'500 + 30 * rate, 1);
}

TEST(TickConverter, NanosecondClocksPassThrough) {
  TickConverter c;
  c.reset(ClockKind::kMonotonic, {0, 0});
  EXPECT_EQ(c.to_ns(123456789), 123456789);
  c.reset(ClockKind::kTest, {0, 0});
  EXPECT_EQ(c.to_ns(42), 42);
}

TEST(Clock, RealTscAnchorsConvertToTheMonotonicClock) {
  if (!has_invariant_tsc()) GTEST_SKIP() << "no invariant TSC on this CPU";
  TickConverter c;
  c.reset(ClockKind::kTsc, take_tsc_anchor());
  const int64_t before = monotonic_ns();
  const int64_t ticks = static_cast<int64_t>(__rdtsc());
  const int64_t after = monotonic_ns();
  struct timespec pause{0, 20'000'000};
  nanosleep(&pause, nullptr);
  c.add(take_tsc_anchor());
  const int64_t ns = c.to_ns(ticks);
  EXPECT_GE(ns, before - 2000);
  EXPECT_LE(ns, after + 2000);
}

int64_t fixed_clock() { return 777; }

TEST(Clock, AnInstalledTestClockWinsOverTheRealOnes) {
  set_clock_for_testing(&fixed_clock);
  EXPECT_EQ(choose_clock(false), ClockKind::kTest);
  set_clock_for_testing(nullptr);
  EXPECT_EQ(choose_clock(true), ClockKind::kMonotonic);
  EXPECT_EQ(choose_clock(false), has_invariant_tsc() ? ClockKind::kTsc : ClockKind::kMonotonic);
}

}  // namespace
}  // namespace moeprof::agent

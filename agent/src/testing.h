// Hooks for tests of the agent (not part of the C ABI).
#pragma once

#include "clock.h"

namespace moeprof::agent {

// From the next moeprof_init on, the hot path reads `clock` (CLOCK_MONOTONIC-like
// nanoseconds, callable from any thread) instead of the real clock; nullptr restores it.
void set_clock_for_testing(TestClock clock);
// How long a send may block before the collector counts as gone (default 2000 ms); from
// the next moeprof_init on.
void set_send_timeout_for_testing(int milliseconds);

}  // namespace moeprof::agent

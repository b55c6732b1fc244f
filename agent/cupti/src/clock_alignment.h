// Putting CUPTI's times on the agent's clock (CLOCK_MONOTONIC, moeprof_now_ns). The glue
// first asks CUPTI to read that clock itself (cuptiActivityRegisterTimestampCallback), and
// then no conversion is needed. Where CUPTI refuses, the offset between the two clocks is
// measured: each sample reads ours, then CUPTI's, then ours again, and the narrowest bracket
// gives the offset (CUPTI's clock is CLOCK_REALTIME on Linux, which steps only when the
// system time is set).
#pragma once

#include <cstdint>
#include <optional>

namespace moeprof::cupti {

// ours: the agent's clock; theirs: CUPTI's (false on failure). nullopt when CUPTI's clock
// could not be read at all.
std::optional<int64_t> measure_clock_offset(int64_t (*ours)(), bool (*theirs)(uint64_t*), int samples = 9);

}  // namespace moeprof::cupti

// Which NVTX ranges a GPU kernel was launched under, as Nsight Systems shows it: the ranges
// open on the launching thread when the launch call started.
//
// A kernel's launch is (rank, launch_tid, launch_ns). A range contains it when the range was
// recorded on that rank and thread, is a push/pop or start/end range (marks, and any kind added
// later, have no extent to be inside), and start_ns <= launch_ns < end_ns. The path names every
// containing range, outermost first: in order of start, a longer range before a shorter one
// starting with it, ranges with equal start and end in their input order. Each name reads
// "domain:name", or just "name" in the default (empty) domain; names are joined by
// kRangePathSeparator.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moeprof/store/rows.h"

namespace moeprof::analysis {

inline constexpr std::string_view kRangePathSeparator = " > ";

// One path per kernel, in the kernels' order; empty when the launch is unknown (launch_tid or
// launch_ns 0) or no range contains it. Ranges and kernels in any order. Costs a sort of each
// plus one sweep over every thread's ranges: O((R + K) log(R + K) + total path length).
std::vector<std::string> kernel_range_paths(std::span<const store::Range> ranges,
                                            std::span<const store::GpuKernel> kernels);

}  // namespace moeprof::analysis

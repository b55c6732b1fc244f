// `moeprof export --format chrome`: the trace as Chrome trace-event JSON, which Perfetto's UI
// and chrome://tracing open. One process per rank; steps, compute spans and all-to-alls as
// complete ("X") events on the thread that recorded them; markers as instant events; expert
// load as counters per (rank, layer) at the start of each step; ranges (NVTX, NCCL) on their
// thread, marks as instants; GPU kernels on a track per (device, stream), with the path of the
// NVTX ranges they were launched under (analysis/kernel_ranges.h) as arg "nvtx_range". Events
// stream from the reader, so memory stays bounded whatever the trace's size.
#pragma once

#include <cstdint>
#include <ostream>

#include "moeprof/store/reader.h"

namespace moeprof::cli {

// What was written, by kind (tests compare these with the trace).
struct ChromeExportCounts {
  int64_t steps = 0, compute_spans = 0, all_to_alls = 0, markers = 0, load_counters = 0, ranges = 0, gpu_kernels = 0;
  // Expert-load (rank, step, layer)s without a recorded step start to place them at.
  int64_t load_without_step = 0;
};

ChromeExportCounts write_chrome_trace(const store::Reader& reader, std::ostream& out);

}  // namespace moeprof::cli

// Value types for what a trace holds: one struct per table of schemas/trace.sql. The writer
// takes them, the reader returns them; the CLI, reports and GUI see nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "moeprof/wire/codec.h"

namespace moeprof::store {

using wire::PeerBytes;
using wire::PlacementSlot;

struct RunInfo {
  std::string command;           // the command `moeprof run` started, argv joined by ' '
  std::string host;
  std::string moeprof_version;
  std::string routing_mode;      // "off", "sample:N" or "full"
  int64_t start_realtime_ns = 0;
  int64_t end_realtime_ns = 0;
  int32_t exit_code = -1;        // the workload's exit code; -1 while running
  bool finalized = false;        // set by Writer::finalize
  bool operator==(const RunInfo&) const = default;
};

// One agent stream (a process, or a forked child).
struct ProcessInfo {
  int64_t id = 0;                // assigned by the writer
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::string host;
  std::string command;
  int32_t rank = -1;
  int32_t local_rank = -1;
  int32_t world_size = 0;
  int32_t ep_size = 0;
  int64_t realtime_ns = 0;       // clock pair read together at agent start
  int64_t monotonic_ns = 0;
  int64_t end_ns = 0;            // monotonic time of the last record, or of Goodbye
  uint32_t agent_version = 0;
  bool clean_exit = false;       // the stream ended with Goodbye
  bool operator==(const ProcessInfo&) const = default;
};

struct ModelShape {
  std::string name;
  int32_t num_layers = 0;
  int32_t num_experts = 0;
  int32_t top_k = 0;
  int32_t num_shared_experts = 0;
  int32_t hidden_size = 0;
  bool operator==(const ModelShape&) const = default;
};

struct LayerPlacement {
  int32_t rank = -1;             // the rank that reported it
  int32_t layer = 0;
  std::vector<PlacementSlot> slots;
  bool operator==(const LayerPlacement&) const = default;
};

struct StepSpan {
  int32_t rank = -1;
  int64_t step = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  bool operator==(const StepSpan&) const = default;
};

struct ExpertLoad {
  int32_t rank = -1;
  int64_t step = 0;
  int32_t layer = 0;
  std::vector<uint32_t> counts;  // index = expert id
  bool operator==(const ExpertLoad&) const = default;
};

struct RouterDecisionBatch {
  int32_t rank = -1;
  int64_t step = 0;
  int32_t layer = 0;
  uint32_t token_offset = 0;
  wire::Routing routing;
};

struct AllToAllEvent {
  int32_t rank = -1;
  int64_t step = 0;
  int32_t layer = 0;
  wire::Phase phase = wire::Phase::kDispatch;
  wire::Source source = wire::Source::kApi;
  uint32_t tid = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::vector<PeerBytes> peers;
  bool operator==(const AllToAllEvent&) const = default;
};

struct ComputeSpan {
  int32_t rank = -1;
  int64_t step = 0;
  int32_t layer = 0;
  wire::ComputeKind kind = wire::ComputeKind::kOther;
  wire::Source source = wire::Source::kApi;
  uint32_t tid = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string name;
  bool operator==(const ComputeSpan&) const = default;
};

struct Marker {
  int32_t rank = -1;
  int64_t step = 0;
  uint32_t tid = 0;
  int64_t ts_ns = 0;
  wire::Source source = wire::Source::kApi;
  std::string name;
  bool operator==(const Marker&) const = default;
};

// A generic annotated range or instant (NVTX push/pop, start/end, mark; NCCL collectives).
struct Range {
  int32_t rank = -1;
  uint32_t tid = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  wire::Source source = wire::Source::kNvtx;
  std::string domain;   // empty: the default domain
  std::string name;
  uint32_t category = 0;
  uint32_t color = 0;   // 0xAARRGGBB, 0: none
  int64_t step = 0;
  wire::RangeKind kind = wire::RangeKind::kPushPop;
  std::string payload;  // JSON text; empty: none
  bool operator==(const Range&) const = default;
};

// A GPU kernel execution (CUPTI kernel activity).
struct GpuKernel {
  int32_t rank = -1;
  uint32_t device = 0;
  uint32_t stream = 0;
  uint32_t correlation_id = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string name;
  uint32_t grid[3] = {0, 0, 0};
  uint32_t block[3] = {0, 0, 0};
  int64_t step = 0;           // of its launch
  int64_t launch_ns = 0;      // the launching call's start; 0: unknown
  uint32_t launch_tid = 0;    // its thread; 0: unknown
  int32_t layer = -1;
  int32_t compute_kind = -1;  // wire::ComputeKind it was classified as; -1: none
  bool operator==(const GpuKernel&) const = default;
};

// What a summary row holds (schemas/trace.sql, "Summaries"); values only grow at the end.
enum class SummaryKind : int32_t {
  kExpertLoad = 0,
  kExpertDrops = 1,
  kCapacity = 2,
  kAllToAll = 3,
  kOverlap = 4,
  kStragglers = 5,
  kVolume = 6,
};

// One summary row: a window of steps, of one rank or (rank -1) of all ranks. The store keeps
// `data` as it is; collector/analysis encodes and decodes it.
struct SummaryRow {
  SummaryKind kind = SummaryKind::kExpertLoad;
  int32_t rank = -1;
  int64_t window = 0;
  wire::Bytes data;
  bool operator==(const SummaryRow&) const = default;
};

// Records one process's agent delivered from one capture source.
struct RecordedCount {
  int64_t process_id = 0;
  int32_t rank = -1;
  wire::Source source = wire::Source::kApi;
  uint64_t count = 0;
  bool operator==(const RecordedCount&) const = default;
};

// What one capture source delivered and lost over all processes of a trace.
struct SourceTally {
  wire::Source source = wire::Source::kApi;
  std::optional<uint64_t> recorded;  // nullopt: not counted (older trace, or no agent delivered it)
  uint64_t dropped = 0;
  bool operator==(const SourceTally&) const = default;
};

// A note to the user from a capture source: a mark in the wire::kNoteDomain domain.
struct Note {
  int32_t rank = -1;
  wire::Source source = wire::Source::kApi;
  std::string text;
  bool operator==(const Note&) const = default;
};

struct DropCount {
  int64_t process_id = 0;
  int32_t rank = -1;
  wire::Source source = wire::Source::kAgent;
  wire::DropReason reason = wire::DropReason::kRingFull;
  uint64_t count = 0;
  bool operator==(const DropCount&) const = default;
};

}  // namespace moeprof::store

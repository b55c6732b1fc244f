// The wire format between agent and collector: packed, fixed-width, little-endian records,
// each starting with a one-byte tag. Shared by both sides; schemas/wire.md is the prose spec.
//
// Rules that keep old and new builds compatible:
//   * RecordType values only grow at the end; a number is never reused.
//   * A record's fixed part never changes once released; new fields mean a new record type.
//   * Records with a variable part end their fixed part with `uint32_t var_size`, the number
//     of bytes that follow (the encodings are in wire/codec.h).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace moeprof::wire {

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian and records are copied as they lie in memory");

inline constexpr uint32_t kFrameMagic = 0x4657504Du;  // "MPWF" in memory order
// 2 added the Range, GpuKernel and Recorded records; readers take frames of every version
// from kOldestWireVersion on (a version-1 stream is a version-2 stream without them).
inline constexpr uint16_t kWireVersion = 2;
inline constexpr uint16_t kOldestWireVersion = 1;
// Frames above this size are rejected before anything is allocated for them.
inline constexpr uint32_t kMaxPayloadSize = 64u << 20;

enum class RecordType : uint8_t {
  kHello = 1,            // first record of every stream: who is talking
  kTopology = 2,         // rank / world / model shape
  kPlacement = 3,        // expert -> rank slots of one layer
  kStepBegin = 4,
  kStepEnd = 5,
  kExpertCounts = 6,     // token count per expert for (step, layer)
  kRouterDecisions = 7,  // top-k ids + gate weights per token
  kAllToAll = 8,         // one all-to-all with per-peer bytes
  kComputeSpan = 9,
  kMarker = 10,
  kDrops = 11,           // events the agent had to drop since the last Drops record
  kGoodbye = 12,         // clean end of stream
  kExpertDrops = 13,     // tokens per expert dropped over capacity; ExpertCounts layout
  kRange = 14,           // generic annotated range or instant (NVTX)
  kGpuKernel = 15,       // one GPU kernel execution (CUPTI)
  kRecorded = 16,        // events the agent recorded per source since the last Recorded record
  // Append new types here.
};
inline constexpr uint8_t kRecordTypeCount = 17;  // one past the largest tag

enum class Phase : uint8_t { kDispatch = 0, kCombine = 1, kOther = 2 };
enum class ComputeKind : uint8_t {
  kGate = 0, kExpert = 1, kSharedExpert = 2, kAttention = 3, kOther = 4,
};
enum class Source : uint8_t {
  kApi = 0, kMpi = 1, kNccl = 2, kNvtx = 3, kCupti = 4, kPython = 5, kAgent = 6,
};
// kCategoryName is no event: its name names (domain, category) from start_ns on.
enum class RangeKind : uint8_t { kPushPop = 0, kStartEnd = 1, kMark = 2, kCategoryName = 3 };
// A mark in this domain is a note to the user from a capture source (a model it could not
// read, a hook that turned itself off); `moeprof info` lists them. MOEPROF_NOTE_DOMAIN in
// moeprof.h.
inline constexpr std::string_view kNoteDomain = "moeprof.note";
// A GpuKernel's compute_kind when the kernel is not MoE compute.
inline constexpr int8_t kNoComputeKind = -1;
enum class DropReason : uint8_t {
  kRingFull = 0,         // a thread's ring had no room
  kNoRing = 1,           // the ring pool was exhausted (too many threads)
  kTooLarge = 2,         // one record larger than a ring can ever hold
  kSendFailed = 3,       // the collector was gone or too slow
  kBadFrame = 4,         // collector side: a frame failed its checks (counted in frames)
  kAdapterFull = 5,      // a capture adapter's own pool was full (moeprof_count_drops)
};

#pragma pack(push, 1)

// 32 bytes, then `payload_size` bytes of records. crc32 (IEEE) covers the payload.
struct FrameHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t header_size;   // sizeof(FrameHeader) of the writer
  uint32_t payload_size;
  uint32_t record_count;
  uint64_t sequence;      // per stream, starts at 0, +1 per frame: gaps are visible
  uint32_t payload_crc32;
  uint32_t reserved;
};

struct Hello {
  uint8_t tag;
  uint32_t pid;
  uint32_t ppid;
  int32_t rank_hint;       // from launcher variables (RANK, OMPI_COMM_WORLD_RANK, ...), -1 if none
  int64_t realtime_ns;     // CLOCK_REALTIME at agent start ...
  int64_t monotonic_ns;    // ... and CLOCK_MONOTONIC read at the same moment
  uint32_t agent_version;  // MOEPROF_API_VERSION of the agent
  uint16_t host_size;      // var part: host bytes then command bytes (argv joined by '\0')
  uint32_t var_size;
};

struct Topology {
  uint8_t tag;
  int32_t rank;
  int32_t local_rank;
  int32_t world_size;
  int32_t ep_size;
  int32_t num_layers;
  int32_t num_experts;
  int32_t top_k;
  int32_t num_shared_experts;
  int32_t hidden_size;
  uint32_t var_size;       // var part: model name bytes
};

struct Placement {
  uint8_t tag;
  int32_t layer;
  uint32_t var_size;       // var part: placement encoding (codec.h)
};

struct StepMark {          // kStepBegin and kStepEnd
  uint8_t tag;
  int64_t ts_ns;
  int64_t step;
};

struct ExpertCounts {      // kExpertCounts and kExpertDrops
  uint8_t tag;
  int64_t ts_ns;           // 0: not time-stamped (the moeprof agent leaves it so; wire.md)
  int64_t step;
  int32_t layer;
  uint32_t var_size;       // var part: counts encoding (codec.h)
};

struct RouterDecisions {
  uint8_t tag;
  int64_t ts_ns;
  int64_t step;
  int32_t layer;
  uint32_t token_offset;   // index of the first token of this batch within (step, layer)
  uint32_t var_size;       // var part: routing encoding (codec.h)
};

struct AllToAll {
  uint8_t tag;
  int64_t start_ns;
  int64_t end_ns;
  int64_t step;
  int32_t layer;
  uint32_t tid;
  uint8_t phase;           // Phase
  uint8_t source;          // Source
  uint32_t var_size;       // var part: peer bytes encoding (codec.h)
};

struct ComputeSpan {
  uint8_t tag;
  int64_t start_ns;
  int64_t end_ns;
  int64_t step;
  int32_t layer;
  uint32_t tid;
  uint8_t kind;            // ComputeKind
  uint8_t source;          // Source
  uint32_t var_size;       // var part: optional name bytes
};

struct Marker {
  uint8_t tag;
  int64_t ts_ns;
  int64_t step;
  uint32_t tid;
  uint8_t source;
  uint32_t var_size;       // var part: name bytes
};

struct Drops {
  uint8_t tag;
  uint8_t source;          // Source
  uint8_t reason;          // DropReason
  uint64_t count;          // dropped since the previous Drops record of this (source, reason)
};

struct Range {
  uint8_t tag;
  int64_t start_ns;
  int64_t end_ns;          // == start_ns for a mark
  int64_t step;
  uint32_t tid;
  uint8_t source;          // Source
  uint8_t kind;            // RangeKind
  uint32_t category;
  uint32_t color;          // 0xAARRGGBB, 0: none
  uint16_t domain_size;    // var part: domain bytes ("" = default domain), name bytes,
  uint16_t name_size;      // then payload text (JSON) to the end, none when empty
  uint32_t var_size;
};

struct GpuKernel {
  uint8_t tag;
  int64_t start_ns;
  int64_t end_ns;
  int64_t step;            // of its launch
  int64_t launch_ns;       // the launching call's start, 0: unknown
  uint32_t launch_tid;     // its thread, 0: unknown
  uint32_t device;
  uint32_t stream;
  uint32_t correlation_id;
  int32_t layer;
  int8_t compute_kind;     // ComputeKind, or kNoComputeKind
  uint32_t grid[3];
  uint32_t block[3];
  uint32_t var_size;       // var part: name bytes
};

struct Recorded {
  uint8_t tag;
  uint8_t source;          // Source
  uint64_t count;          // records of this source since the previous Recorded record of it
};

struct Goodbye {
  uint8_t tag;
  int64_t ts_ns;
};

#pragma pack(pop)

// Size of each record's fixed part (tag included), indexed by tag; 0 = no such record.
inline constexpr uint16_t kRecordFixedSize[kRecordTypeCount] = {
    0,
    sizeof(Hello),
    sizeof(Topology),
    sizeof(Placement),
    sizeof(StepMark),
    sizeof(StepMark),
    sizeof(ExpertCounts),
    sizeof(RouterDecisions),
    sizeof(AllToAll),
    sizeof(ComputeSpan),
    sizeof(Marker),
    sizeof(Drops),
    sizeof(Goodbye),
    sizeof(ExpertCounts),
    sizeof(Range),
    sizeof(GpuKernel),
    sizeof(Recorded),
};

// Whether a record type ends its fixed part with `uint32_t var_size`.
inline constexpr bool kRecordHasVarPart[kRecordTypeCount] = {
    false, true, true, true, false, false, true, true, true, true, true, false, false, true, true, true, false,
};

static_assert(sizeof(FrameHeader) == 32);
static_assert(sizeof(Hello) == 39);
static_assert(sizeof(StepMark) == 17);
static_assert(sizeof(AllToAll) == 39);
static_assert(sizeof(Range) == 47);
static_assert(sizeof(GpuKernel) == 82);
static_assert(sizeof(Recorded) == 10);

}  // namespace moeprof::wire

// One NCCL profiler event as the model needs it, whichever interface version brought it.
#pragma once

#include <cstdint>

#include "moeprof/nccl/profiler_abi.h"

namespace moeprof::nccl {

enum class EventKind : uint8_t {
  kOther,       // not one moeprof records (API-level, proxy and kernel events)
  kGroup,       // a Group event: one kernel plan of the communicator
  kCollective,  // a Coll event
  kP2p          // a P2p event: one send or receive
};

struct Event {
  EventKind kind = EventKind::kOther;
  void* group = nullptr;          // Collective/P2p: the Group event's handle (may be null)
  const char* func = nullptr;     // "AllReduce", "Send", "Recv", ...
  const char* datatype = nullptr; // "ncclFloat32", ...
  uint64_t count = 0;             // elements
  int32_t peer = -1;              // P2p: the peer's communicator rank; Collective: the root
  uint64_t seq = 0;               // Collective: NCCL's per-function sequence number
  const char* algo = nullptr;     // Collective
  const char* proto = nullptr;    // Collective
  uint32_t channels = 0;
};

// Reads a descriptor of version 5 or 4; nullptr reads as kOther.
Event decode(const moeprof_nccl_event_v5* descriptor) noexcept;
Event decode(const moeprof_nccl_event_v4* descriptor) noexcept;

}  // namespace moeprof::nccl

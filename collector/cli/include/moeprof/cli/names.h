// How the CLI spells the trace's enumerations (CSV columns, info output).
#pragma once

#include <string>

#include "moeprof/wire/records.h"

namespace moeprof::cli {

// "dispatch", "combine", "other"; values from a newer agent print as their number.
std::string phase_name(wire::Phase phase);
// "gate", "expert", "shared_expert", "attention", "other".
std::string compute_kind_name(wire::ComputeKind kind);
// "api", "mpi", "nccl", "nvtx", "cupti", "python", "agent".
std::string source_name(wire::Source source);
std::string range_kind_name(wire::RangeKind kind);
// "ring_full", "no_ring", "too_large", "send_failed", "bad_frame".
std::string drop_reason_name(wire::DropReason reason);

}  // namespace moeprof::cli

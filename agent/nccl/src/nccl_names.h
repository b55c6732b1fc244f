// What NCCL's profiler strings mean: the size of a datatype NCCL names, and which function
// names are an all-to-all. NCCL passes these as the strings its ncclDatatypeToString() and
// ncclFuncToString() return ("ncclFloat32", "AllReduce", "Send", ...).
#pragma once

#include <cstdint>

namespace moeprof::nccl {

// Bytes of one element of `datatype`, 0 when the name is not one NCCL uses. NCCL up to 2.29
// names every type but ncclUint8, which it reports as "Unknown": that counts as 1 byte.
uint32_t datatype_size(const char* datatype) noexcept;

// The collective function name of an all-to-all ("AlltoAll" in NCCL 2.28, "AllToAll"
// elsewhere): compared without case.
bool is_all_to_all(const char* func) noexcept;

// "Send" (true) or "Recv" (false) for a P2p event's function; anything else is a receive
// only when it says so, so an unexpected name counts as a send.
bool is_send(const char* func) noexcept;

}  // namespace moeprof::nccl

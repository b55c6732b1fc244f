#include "moeprof/cli/names.h"

namespace moeprof::cli {
namespace {

template <size_t N>
std::string name_of(const char* const (&names)[N], uint8_t value) {
  return value < N ? names[value] : std::to_string(value);
}

}  // namespace

std::string phase_name(wire::Phase phase) {
  static const char* const kNames[] = {"dispatch", "combine", "other"};
  return name_of(kNames, static_cast<uint8_t>(phase));
}

std::string compute_kind_name(wire::ComputeKind kind) {
  static const char* const kNames[] = {"gate", "expert", "shared_expert", "attention", "other"};
  return name_of(kNames, static_cast<uint8_t>(kind));
}

std::string range_kind_name(wire::RangeKind kind) {
  static const char* const kNames[] = {"push_pop", "start_end", "mark", "category_name"};
  return name_of(kNames, static_cast<uint8_t>(kind));
}

std::string source_name(wire::Source source) {
  static const char* const kNames[] = {"api", "mpi", "nccl", "nvtx", "cupti", "python", "agent"};
  return name_of(kNames, static_cast<uint8_t>(source));
}

std::string drop_reason_name(wire::DropReason reason) {
  static const char* const kNames[] = {"ring_full", "no_ring", "too_large", "send_failed", "bad_frame", "adapter_full"};
  return name_of(kNames, static_cast<uint8_t>(reason));
}

}  // namespace moeprof::cli

// A range between its opening and closing NVTX calls. Everything the opening call said that
// the closing call needs (the program's strings and arrays are only valid during the call)
// is serialised into fixed storage: a thread's push/pop stack arena or a start/end slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace moeprof::nvtx {

struct Domain;

// What a range turns into when it closes.
enum class RangeMeaning : uint8_t {
  kRange,         // a range of the trace's range table
  kMoeAllToAll,   // an all-to-all of the moeprof domain (moeprof_nvtx_all_to_all payload)
  kNcclAllToAll,  // NCCL's own ncclAlltoAll range: an all-to-all and a range
};

struct OpenRangeHeader {
  int64_t start_ns = 0;
  int64_t step = 0;
  const Domain* domain = nullptr;
  uint32_t tid = 0;
  uint32_t category = 0;
  uint32_t color = 0;
  int32_t kind = 0;  // moeprof_range_kind
  RangeMeaning meaning = RangeMeaning::kRange;
  int32_t layer = -1;
  int32_t phase = 0;
  uint32_t num_peers = 0;
  bool has_peer_list = false;  // false: peers are 0 .. num_peers-1
  uint64_t nccl_communicator = 0;
  uint64_t nccl_bytes_per_peer = 0;
  uint32_t name_size = 0;
  uint32_t payload_size = 0;
};

struct OpenRangeParts {
  std::string_view name;     // read back NUL-terminated
  std::string_view payload;  // JSON text, or empty; read back NUL-terminated
  const int32_t* peers = nullptr;
  const uint64_t* send_bytes = nullptr;
  const uint64_t* recv_bytes = nullptr;
};

// Bytes the serialised range takes.
size_t open_range_size(OpenRangeHeader header, const OpenRangeParts& parts) noexcept;

// Serialises into `out` (8-byte aligned, `capacity` bytes); false when it does not fit.
// header.name_size / payload_size / num_peers / has_peer_list are taken from `parts`.
bool write_open_range(unsigned char* out, size_t capacity, OpenRangeHeader header, const OpenRangeParts& parts) noexcept;

struct OpenRangeView {
  OpenRangeHeader header;
  OpenRangeParts parts;
};

OpenRangeView read_open_range(const unsigned char* in) noexcept;

}  // namespace moeprof::nvtx

#include "nccl_names.h"

#include <cstring>

namespace moeprof::nccl {

uint32_t datatype_size(const char* datatype) noexcept {
  struct Size {
    const char* name;  // after "nccl"
    uint32_t bytes;
  };
  // Grouped by first letter, so a lookup compares with one or three names, not all.
  static constexpr Size kFloat[] = {{"Float32", 4}, {"Float16", 2}, {"Float64", 8}, {"Float8e4m3", 1}, {"Float8e5m2", 1}};
  static constexpr Size kInt[] = {{"Int32", 4}, {"Int64", 8}, {"Int8", 1}};
  static constexpr Size kUint[] = {{"Uint32", 4}, {"Uint64", 8}, {"Uint8", 1}};
  static constexpr Size kBfloat[] = {{"Bfloat16", 2}};
  if (datatype == nullptr) return 0;
  // NCCL's name for ncclUint8, the only type it leaves unnamed.
  if (datatype[0] != 'n' || datatype[1] != 'c' || datatype[2] != 'c' || datatype[3] != 'l')
    return std::strcmp(datatype, "Unknown") == 0 ? 1 : 0;
  const char* rest = datatype + 4;
  const auto find = [rest](const auto& table) -> uint32_t {
    for (const Size& s : table)
      if (std::strcmp(rest, s.name) == 0) return s.bytes;
    return 0;
  };
  switch (rest[0]) {
    case 'F': return find(kFloat);
    case 'I': return find(kInt);
    case 'U': return find(kUint);
    case 'B': return find(kBfloat);
    default: return 0;
  }
}

namespace {

// `text` equals `lower` (lower-case letters) in any case.
bool equals_ignoring_case(const char* text, const char* lower) {
  for (; *lower != '\0'; ++text, ++lower)
    if ((*text | 0x20) != *lower) return false;
  return *text == '\0';
}

}  // namespace

bool is_all_to_all(const char* func) noexcept { return func != nullptr && equals_ignoring_case(func, "alltoall"); }

bool is_send(const char* func) noexcept { return func == nullptr || !equals_ignoring_case(func, "recv"); }

}  // namespace moeprof::nccl

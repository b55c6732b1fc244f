#include "nccl_names.h"

#include <strings.h>

#include <cstring>

namespace moeprof::nccl {

uint32_t datatype_size(const char* datatype) noexcept {
  struct Size {
    const char* name;
    uint32_t bytes;
  };
  static constexpr Size kSizes[] = {
      {"ncclFloat32", 4},    {"ncclBfloat16", 2},   {"ncclFloat16", 2}, {"ncclInt8", 1},
      {"ncclInt32", 4},      {"ncclUint32", 4},     {"ncclInt64", 8},   {"ncclUint64", 8},
      {"ncclFloat64", 8},    {"ncclFloat8e4m3", 1}, {"ncclFloat8e5m2", 1}, {"ncclUint8", 1},
      {"Unknown", 1},  // NCCL's name for ncclUint8 (the only type it leaves unnamed)
  };
  if (datatype == nullptr) return 0;
  for (const Size& s : kSizes)
    if (std::strcmp(datatype, s.name) == 0) return s.bytes;
  return 0;
}

bool is_all_to_all(const char* func) noexcept { return func != nullptr && strcasecmp(func, "alltoall") == 0; }

bool is_send(const char* func) noexcept { return func == nullptr || strcasecmp(func, "recv") != 0; }

}  // namespace moeprof::nccl

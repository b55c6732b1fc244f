// What one NVTX event says, read out of the program's nvtxEventAttributes_t (or a plain
// message): its name, category, colour and payload. Fields past the struct's stated size,
// unknown message types and unknown payload types read as absent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nvtx_api.h"

namespace moeprof::nvtx {

struct ScalarPayload {
  int32_t type = 0;  // nvtxPayloadType_t; 0: none
  uint64_t bits = 0; // the union's 8 bytes
};

struct EventView {
  std::string_view name;
  bool name_is_registered = false;  // name points into a registered string (lives forever)
  uint32_t category = 0;
  uint32_t color = 0;  // 0xAARRGGBB; 0: none
  ScalarPayload scalar;
  const nvtxPayloadData_t* payloads = nullptr;  // the payload extension's binary payloads
  size_t payload_count = 0;
};

// `scratch` holds a converted wide message (NUL-terminated) while the view is used.
EventView view_of(const nvtxEventAttributes_t* attributes, char* scratch, size_t scratch_size) noexcept;
EventView view_of_ascii(const char* message) noexcept;
EventView view_of_wide(const wchar_t* message, char* scratch, size_t scratch_size) noexcept;

}  // namespace moeprof::nvtx

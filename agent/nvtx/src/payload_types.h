// Sizes and alignments of NVTX's predefined payload entry types on this platform (LP64 C),
// and which of them read as integers, reals or text.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nvtx_api.h"

namespace moeprof::nvtx {

struct PredefinedType {
  uint16_t size = 0;   // 0: not a predefined type
  uint16_t align = 0;
};

PredefinedType predefined_type(uint64_t type) noexcept;

// Types whose value is an integer read from `size` bytes (signed ones sign-extended).
bool is_signed_integer(uint64_t type) noexcept;
bool is_unsigned_integer(uint64_t type) noexcept;
// Character types: an array of them is text.
bool is_character(uint64_t type) noexcept;

// The integer at `p` of an integer type (false for other types).
bool read_integer(uint64_t type, const void* p, int64_t* as_signed, uint64_t* as_unsigned) noexcept;

// A type id naming a registered schema or enum rather than a predefined type.
inline bool is_registered_type_id(uint64_t type) noexcept { return type >= NVTX_PAYLOAD_SCHEMA_ID_STATIC_START; }

}  // namespace moeprof::nvtx

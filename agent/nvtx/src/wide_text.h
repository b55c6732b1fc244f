// NVTX's W entry points pass wchar_t strings (UTF-32 on Linux); the trace keeps UTF-8.
// Conversion into a caller's fixed buffer: no allocation, no locale.
#pragma once

#include <cstddef>
#include <string_view>

namespace moeprof::nvtx {

// UTF-8 of the NUL-terminated `text` (code points past U+10FFFF or surrogates become U+FFFD),
// cut at a character boundary to fit `capacity` - 1 bytes; NUL-terminated. Null text: "".
std::string_view utf8_of_wide(const wchar_t* text, char* buffer, size_t capacity) noexcept;

// The same for UTF-16 code units (char16_t strings in payloads); lone surrogates become U+FFFD.
std::string_view utf8_of_utf16(const char16_t* text, size_t max_units, char* buffer, size_t capacity) noexcept;

// Appends the UTF-8 encoding of one code point to `out` if `room` allows; returns the bytes
// written (0 when it does not fit).
size_t encode_utf8(char32_t code_point, char* out, size_t room) noexcept;

}  // namespace moeprof::nvtx

#include "wide_text.h"

namespace moeprof::nvtx {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool is_surrogate(char32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

}  // namespace

size_t encode_utf8(char32_t c, char* out, size_t room) noexcept {
  if (c > 0x10FFFF || is_surrogate(c)) c = kReplacement;
  if (c < 0x80) {
    if (room < 1) return 0;
    out[0] = static_cast<char>(c);
    return 1;
  }
  if (c < 0x800) {
    if (room < 2) return 0;
    out[0] = static_cast<char>(0xC0 | (c >> 6));
    out[1] = static_cast<char>(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    if (room < 3) return 0;
    out[0] = static_cast<char>(0xE0 | (c >> 12));
    out[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (c & 0x3F));
    return 3;
  }
  if (room < 4) return 0;
  out[0] = static_cast<char>(0xF0 | (c >> 18));
  out[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (c & 0x3F));
  return 4;
}

std::string_view utf8_of_wide(const wchar_t* text, char* buffer, size_t capacity) noexcept {
  if (buffer == nullptr || capacity == 0) return {};
  size_t size = 0;
  if (text != nullptr) {
    for (const wchar_t* p = text; *p != 0; ++p) {
      const size_t n = encode_utf8(static_cast<char32_t>(*p), buffer + size, capacity - 1 - size);
      if (n == 0) break;
      size += n;
    }
  }
  buffer[size] = '\0';
  return {buffer, size};
}

std::string_view utf8_of_utf16(const char16_t* text, size_t max_units, char* buffer, size_t capacity) noexcept {
  if (buffer == nullptr || capacity == 0) return {};
  size_t size = 0;
  if (text != nullptr) {
    for (size_t i = 0; i < max_units && text[i] != 0; ++i) {
      char32_t c = text[i];
      if (c >= 0xD800 && c <= 0xDBFF && i + 1 < max_units && text[i + 1] >= 0xDC00 && text[i + 1] <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<char32_t>(text[i + 1]) - 0xDC00);
        ++i;
      }
      const size_t n = encode_utf8(c, buffer + size, capacity - 1 - size);
      if (n == 0) break;
      size += n;
    }
  }
  buffer[size] = '\0';
  return {buffer, size};
}

}  // namespace moeprof::nvtx

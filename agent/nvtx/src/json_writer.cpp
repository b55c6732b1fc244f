#include "json_writer.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "wide_text.h"

namespace moeprof::nvtx {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[0] (s has n bytes), 0 when invalid.
size_t utf8_sequence(const unsigned char* s, size_t n) {
  const unsigned char c = s[0];
  size_t len;
  char32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (len > n) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

void JsonWriter::put(const char* s, size_t n) noexcept {
  if (overflow_ || n >= capacity_ - size_) {  // one byte stays free for the NUL
    overflow_ = true;
    return;
  }
  std::memcpy(buffer_ + size_, s, n);
  size_ += n;
}

void JsonWriter::value_separator() noexcept {
  if (need_comma_) put(',');
  need_comma_ = true;
}

void JsonWriter::open(char c) noexcept {
  value_separator();
  put(c);
  need_comma_ = false;
}

void JsonWriter::close(char c) noexcept {
  put(c);
  need_comma_ = true;
}

void JsonWriter::key(std::string_view name) noexcept {
  string(name);
  put(':');
  need_comma_ = false;
}

void JsonWriter::unsigned_number(uint64_t value) noexcept {
  value_separator();
  char digits[20];
  size_t n = sizeof digits;
  do {
    digits[--n] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  put(digits + n, sizeof digits - n);
}

void JsonWriter::signed_number(int64_t value) noexcept {
  if (value >= 0) {
    unsigned_number(static_cast<uint64_t>(value));
    return;
  }
  value_separator();
  put('-');
  need_comma_ = false;
  unsigned_number(0 - static_cast<uint64_t>(value));
}

void JsonWriter::real(double value) noexcept {
  if (!std::isfinite(value)) {
    null();
    return;
  }
  value_separator();
  // %.17g round-trips a double; the C locale's '.' is what snprintf uses unless a program
  // changed LC_NUMERIC, so a ',' is put back to '.'.
  char text[32];
  const int n = std::snprintf(text, sizeof text, "%.17g", value);
  for (int i = 0; i < n; ++i)
    if (text[i] == ',') text[i] = '.';
  put(text, static_cast<size_t>(n));
}

void JsonWriter::boolean(bool value) noexcept {
  value_separator();
  if (value)
    put("true", 4);
  else
    put("false", 5);
}

void JsonWriter::null() noexcept {
  value_separator();
  put("null", 4);
}

void JsonWriter::string(std::string_view text) noexcept {
  value_separator();
  put('"');
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  while (i < text.size() && !overflow_) {
    const unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      const char esc[2] = {'\\', static_cast<char>(c)};
      put(esc, 2);
      ++i;
    } else if (c < 0x20) {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      put(esc, 6);
      ++i;
    } else {
      const size_t len = utf8_sequence(s + i, text.size() - i);
      if (len == 0) {
        char replacement[4];
        put(replacement, encode_utf8(0xFFFD, replacement, sizeof replacement));
        ++i;
      } else {
        put(text.data() + i, len);
        i += len;
      }
    }
  }
  put('"');
}

std::string_view JsonWriter::text() noexcept {
  if (overflow_) return {};
  buffer_[size_] = '\0';
  return {buffer_, size_};
}

}  // namespace moeprof::nvtx

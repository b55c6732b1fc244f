#include "json_object.h"

namespace moeprof::nccl {

JsonObject::JsonObject(char* buffer, size_t capacity) noexcept : buffer_(buffer), capacity_(capacity) {
  if (buffer_ == nullptr || capacity_ == 0) overflow_ = true;
  put('{');
}

void JsonObject::put(char c) noexcept {
  // One byte stays free for the terminating NUL.
  if (size_ + 1 >= capacity_) {
    overflow_ = true;
    return;
  }
  buffer_[size_++] = c;
}

void JsonObject::put(const char* s) noexcept {
  while (*s != '\0') put(*s++);
}

void JsonObject::put_unsigned(uint64_t value) noexcept {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) put(digits[--n]);
}

void JsonObject::key(const char* name) noexcept {
  if (!first_) put(',');
  first_ = false;
  put('"');
  put(name);
  put("\":");
}

JsonObject& JsonObject::integer(const char* name, int64_t value) noexcept {
  key(name);
  if (value < 0) {
    put('-');
    put_unsigned(0 - static_cast<uint64_t>(value));
  } else {
    put_unsigned(static_cast<uint64_t>(value));
  }
  return *this;
}

JsonObject& JsonObject::unsigned_integer(const char* name, uint64_t value) noexcept {
  key(name);
  put_unsigned(value);
  return *this;
}

JsonObject& JsonObject::text(const char* name, const char* value) noexcept {
  if (value == nullptr) return *this;
  key(name);
  put('"');
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char* p = value; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      put('\\');
      put(static_cast<char>(c));
    } else if (c < 0x20) {
      put("\\u00");
      put(kHex[c >> 4]);
      put(kHex[c & 0xf]);
    } else {
      put(static_cast<char>(c));
    }
  }
  put('"');
  return *this;
}

JsonObject& JsonObject::hex_text(const char* name, uint64_t value) noexcept {
  key(name);
  put("\"0x");
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) put(kHex[(value >> shift) & 0xf]);
  put('"');
  return *this;
}

JsonObject& JsonObject::boolean(const char* name, bool value) noexcept {
  key(name);
  put(value ? "true" : "false");
  return *this;
}

const char* JsonObject::finish() noexcept {
  put('}');
  if (overflow_) return nullptr;
  buffer_[size_] = '\0';
  return buffer_;
}

}  // namespace moeprof::nccl

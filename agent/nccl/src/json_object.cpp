#include "json_object.h"

#include <cstring>

namespace moeprof::nccl {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool needs_escape(unsigned char c) { return c == '"' || c == '\\' || c < 0x20; }

}  // namespace

JsonObject::JsonObject(char* buffer, size_t capacity) noexcept : buffer_(buffer), capacity_(capacity) {
  if (buffer_ == nullptr || capacity_ == 0) overflow_ = true;
  append('{');
}

void JsonObject::append(const char* s, size_t n) noexcept {
  // One byte stays free for the terminating NUL.
  if (overflow_ || n >= capacity_ - size_) {
    overflow_ = true;
    return;
  }
  std::memcpy(buffer_ + size_, s, n);
  size_ += n;
}

void JsonObject::append_unsigned(uint64_t value) noexcept {
  char digits[20];
  size_t n = sizeof digits;
  do {
    digits[--n] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  append(digits + n, sizeof digits - n);
}

void JsonObject::key(const char* name) noexcept {
  // ,"name": written in one go (this is most of a payload's pieces).
  const size_t n = std::strlen(name);
  if (overflow_ || n + 4 >= capacity_ - size_) {
    overflow_ = true;
    return;
  }
  char* p = buffer_ + size_;
  if (!first_) *p++ = ',';
  first_ = false;
  *p++ = '"';
  std::memcpy(p, name, n);
  p += n;
  *p++ = '"';
  *p++ = ':';
  size_ = static_cast<size_t>(p - buffer_);
}

JsonObject& JsonObject::integer(const char* name, int64_t value) noexcept {
  key(name);
  if (value < 0) {
    append('-');
    append_unsigned(0 - static_cast<uint64_t>(value));
  } else {
    append_unsigned(static_cast<uint64_t>(value));
  }
  return *this;
}

JsonObject& JsonObject::unsigned_integer(const char* name, uint64_t value) noexcept {
  key(name);
  append_unsigned(value);
  return *this;
}

JsonObject& JsonObject::text(const char* name, const char* value) noexcept {
  if (value == nullptr) return *this;
  key(name);
  append('"');
  // Runs of plain characters are copied whole; the rest is escaped one by one.
  const char* p = value;
  while (*p != '\0') {
    const char* run = p;
    while (*p != '\0' && !needs_escape(static_cast<unsigned char>(*p))) ++p;
    append(run, static_cast<size_t>(p - run));
    if (*p == '\0') break;
    const auto c = static_cast<unsigned char>(*p++);
    if (c == '"' || c == '\\') {
      const char escaped[2] = {'\\', static_cast<char>(c)};
      append(escaped, 2);
    } else {
      const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      append(escaped, 6);
    }
  }
  append('"');
  return *this;
}

JsonObject& JsonObject::hex_text(const char* name, uint64_t value) noexcept {
  key(name);
  char text[21] = {'"', '0', 'x'};
  for (int i = 0; i < 16; ++i) text[3 + i] = kHex[(value >> (60 - 4 * i)) & 0xf];
  text[19] = '"';
  append(text, 20);
  return *this;
}

JsonObject& JsonObject::boolean(const char* name, bool value) noexcept {
  key(name);
  if (value)
    append("true", 4);
  else
    append("false", 5);
  return *this;
}

JsonObject& JsonObject::members(const char* text, size_t size) noexcept {
  if (size == 0) return *this;
  if (!first_) append(',');
  first_ = false;
  append(text, size);
  return *this;
}

const char* JsonObject::finish() noexcept {
  append('}');
  if (overflow_) return nullptr;
  buffer_[size_] = '\0';
  return buffer_;
}

}  // namespace moeprof::nccl

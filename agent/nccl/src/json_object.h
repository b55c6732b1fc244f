// Writes one flat JSON object into a caller's fixed buffer: no allocation, no locale, no
// printf. Keys are the caller's literals (written as they are); text values are escaped.
// When the buffer is too small the result is null rather than cut JSON.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moeprof::nccl {

class JsonObject {
 public:
  JsonObject(char* buffer, size_t capacity) noexcept;

  JsonObject& integer(const char* key, int64_t value) noexcept;
  JsonObject& unsigned_integer(const char* key, uint64_t value) noexcept;
  JsonObject& text(const char* key, const char* value) noexcept;  // a null value is left out
  JsonObject& hex_text(const char* key, uint64_t value) noexcept;  // "0x..." (a string: JSON
                                                                   // numbers lose 64-bit values)
  JsonObject& boolean(const char* key, bool value) noexcept;
  // Members another JsonObject wrote (the text between its braces), appended as they are.
  JsonObject& members(const char* text, size_t size) noexcept;
  // Bytes of this object's members so far (its text after the opening brace, before
  // finish()); 0 once it overflowed.
  size_t members_size() const noexcept { return overflow_ ? 0 : size_ - 1; }

  // The object's text ("{...}"), or nullptr when it did not fit.
  const char* finish() noexcept;

 private:
  void key(const char* name) noexcept;
  void append(const char* s, size_t n) noexcept;
  void append(char c) noexcept { append(&c, 1); }
  void append_unsigned(uint64_t value) noexcept;

  char* buffer_;
  size_t capacity_;
  size_t size_ = 0;
  bool overflow_ = false;
  bool first_ = true;
};

}  // namespace moeprof::nccl

// A bounded JSON writer for NVTX payloads: objects, arrays, numbers and strings written into
// a caller's fixed buffer. No allocation, no locale. Once the text would not fit, the writer
// stops and reports overflow (never a cut document).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace moeprof::nvtx {

class JsonWriter {
 public:
  JsonWriter(char* buffer, size_t capacity) noexcept : buffer_(buffer), capacity_(capacity) {
    overflow_ = buffer_ == nullptr || capacity_ == 0;
  }

  void begin_object() noexcept { open('{'); }
  void end_object() noexcept { close('}'); }
  void begin_array() noexcept { open('['); }
  void end_array() noexcept { close(']'); }
  void key(std::string_view name) noexcept;  // inside an object, before its value

  void signed_number(int64_t value) noexcept;
  void unsigned_number(uint64_t value) noexcept;
  void real(double value) noexcept;  // not finite: null (JSON has no NaN or infinity)
  void string(std::string_view text) noexcept;  // escaped; invalid UTF-8 bytes become U+FFFD
  void boolean(bool value) noexcept;
  void null() noexcept;

  bool overflowed() const noexcept { return overflow_; }
  size_t size() const noexcept { return overflow_ ? 0 : size_; }
  // The text so far, NUL-terminated; empty once it overflowed.
  std::string_view text() noexcept;

 private:
  void value_separator() noexcept;
  void open(char c) noexcept;
  void close(char c) noexcept;
  void put(const char* s, size_t n) noexcept;
  void put(char c) noexcept { put(&c, 1); }

  char* buffer_;
  size_t capacity_;
  size_t size_ = 0;
  bool overflow_;
  bool need_comma_ = false;  // a value was written at this level: the next one needs ','
};

}  // namespace moeprof::nvtx

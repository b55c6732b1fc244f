#include "capture_settings.h"

#include <bit>
#include <charconv>
#include <string_view>

namespace moeprof::cupti {
namespace {

void read(const char* (*getenv)(const char*), const char* name, uint32_t min, uint32_t max, uint32_t* value,
          std::vector<std::string>* warnings) {
  const char* text = getenv(name);
  if (text == nullptr || *text == '\0') return;
  const std::string_view s(text);
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && end == s.data() + s.size() && v >= min && v <= max) {
    *value = v;
    return;
  }
  warnings->push_back("moeprof: " + std::string(name) + "='" + text + "' is not a whole number in [" +
                      std::to_string(min) + ", " + std::to_string(max) + "]; using " + std::to_string(*value));
}

}  // namespace

CaptureSettings read_settings(const char* (*getenv)(const char*), std::vector<std::string>* warnings) {
  CaptureSettings s;
  read(getenv, "MOEPROF_CUPTI_BUFFER_KB", 16, 1u << 20, &s.buffer_kb, warnings);
  read(getenv, "MOEPROF_CUPTI_BUFFERS", 2, 64, &s.buffers, warnings);
  read(getenv, "MOEPROF_CUPTI_FLUSH_MS", 0, 3600000, &s.flush_ms, warnings);
  read(getenv, "MOEPROF_CUPTI_CORRELATION_SLOTS", 1024, 1u << 24, &s.correlation_slots, warnings);
  s.correlation_slots = std::bit_ceil(s.correlation_slots);
  read(getenv, "MOEPROF_CUPTI_PENDING_KERNELS", 0, 1u << 20, &s.pending_kernels, warnings);
  read(getenv, "MOEPROF_CUPTI_KERNEL_NAMES", 16, 1u << 20, &s.kernel_names, warnings);
  return s;
}

}  // namespace moeprof::cupti

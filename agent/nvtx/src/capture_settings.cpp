#include "capture_settings.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace moeprof::nvtx {
namespace {

void read_size(GetEnv get_env, const char* name, size_t min, size_t max, size_t scale, size_t* out,
               std::string* warnings) {
  const char* text = get_env(name);
  if (text == nullptr || *text == '\0') return;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || *text == '-' || v < min || v > max) {
    if (warnings != nullptr)
      *warnings += std::string("moeprof: ") + name + "='" + text + "' is not a number in [" + std::to_string(min) +
                   ", " + std::to_string(max) + "]; using " + std::to_string(*out / scale) + "\n";
    return;
  }
  *out = static_cast<size_t>(v) * scale;
}

}  // namespace

CaptureSettings capture_settings_from(GetEnv get_env, std::string* warnings) {
  CaptureSettings s;
  if (get_env == nullptr) return s;
  read_size(get_env, "MOEPROF_NVTX_STACK_KB", 4, 1024 * 1024, 1024, &s.stack_bytes, warnings);
  read_size(get_env, "MOEPROF_NVTX_OPEN_RANGES", 1, 1 << 20, 1, &s.open_ranges, warnings);
  const char* plugin = get_env("NCCL_PROFILER_PLUGIN");
  if (plugin != nullptr && std::strstr(plugin, "moeprof_nccl") != nullptr) s.nccl_all_to_all = false;
  return s;
}

}  // namespace moeprof::nvtx

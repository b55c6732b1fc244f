#include "config.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace moeprof::agent {
namespace {

bool parse_uint(std::string_view text, uint64_t min, uint64_t max, uint64_t* value) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) return false;
  *value = v;
  return true;
}

// Reads an unsigned environment variable in [min, max]; unset leaves `value` alone.
bool env_uint(const char* name, uint64_t min, uint64_t max, uint64_t* value, std::string* error) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return true;
  if (parse_uint(text, min, max, value)) return true;
  *error = std::string(name) + "='" + text + "' is not a whole number in [" + std::to_string(min) + ", " +
           std::to_string(max) + "]";
  return false;
}

bool env_flag(const char* name) {
  const char* text = std::getenv(name);
  return text != nullptr && std::strcmp(text, "1") == 0;
}

}  // namespace

bool parse_routing_mode(const char* text, int32_t* mode, uint32_t* every) {
  const std::string_view s(text);
  if (s == "off") {
    *mode = MOEPROF_ROUTING_OFF;
    *every = 1;
    return true;
  }
  if (s == "full") {
    *mode = MOEPROF_ROUTING_FULL;
    *every = 1;
    return true;
  }
  constexpr std::string_view kSample = "sample:";
  uint64_t n;
  if (s.starts_with(kSample) && parse_uint(s.substr(kSample.size()), 1, UINT32_MAX, &n)) {
    *mode = MOEPROF_ROUTING_SAMPLE;
    *every = static_cast<uint32_t>(n);
    return true;
  }
  return false;
}

moeprof_status load_config(const moeprof_init_options* options, Config* config, std::string* error) {
  if (env_flag("MOEPROF_DISABLE")) {
    *error = "disabled by MOEPROF_DISABLE=1";
    return MOEPROF_ERROR_DISABLED;
  }
  // An older caller's shorter struct: the fields it does not have keep their defaults.
  moeprof_init_options opts{sizeof(moeprof_init_options), MOEPROF_API_VERSION, nullptr, -1, 0};
  if (options != nullptr) {
    if (options->struct_size < offsetof(moeprof_init_options, socket_path)) {
      *error = "moeprof_init_options.struct_size " + std::to_string(options->struct_size) + " is too small";
      return MOEPROF_ERROR_INVALID_ARGUMENT;
    }
    std::memcpy(&opts, options, std::min<size_t>(options->struct_size, sizeof opts));
    if (opts.api_version > MOEPROF_API_VERSION) {
      *error = "caller needs agent API version " + std::to_string(opts.api_version) + ", this agent has " +
               std::to_string(MOEPROF_API_VERSION);
      return MOEPROF_ERROR_VERSION;
    }
  }

  Config c;
  if (opts.socket_path != nullptr) {
    c.socket_path = opts.socket_path;
  } else if (const char* env = std::getenv("MOEPROF_SOCKET"); env != nullptr) {
    c.socket_path = env;
  }

  if (opts.routing_mode == -1) {
    if (const char* env = std::getenv("MOEPROF_ROUTING"); env != nullptr && *env != '\0' &&
                                                          !parse_routing_mode(env, &c.routing_mode, &c.routing_every)) {
      *error = std::string("MOEPROF_ROUTING='") + env + "' is not off, full or sample:N";
      return MOEPROF_ERROR_INVALID_ARGUMENT;
    }
  } else if (opts.routing_mode == MOEPROF_ROUTING_OFF || opts.routing_mode == MOEPROF_ROUTING_FULL) {
    c.routing_mode = opts.routing_mode;
  } else if (opts.routing_mode == MOEPROF_ROUTING_SAMPLE && opts.routing_sample_every >= 1) {
    c.routing_mode = opts.routing_mode;
    c.routing_every = opts.routing_sample_every;
  } else {
    *error = "bad routing mode " + std::to_string(opts.routing_mode) + " (sample every " +
             std::to_string(opts.routing_sample_every) + ")";
    return MOEPROF_ERROR_INVALID_ARGUMENT;
  }

  uint64_t ring_kb = c.ring_bytes / 1024, max_threads = c.max_threads, flush_ms = c.flush_ms;
  if (!env_uint("MOEPROF_RING_KB", 4, 64 * 1024, &ring_kb, error) ||
      !env_uint("MOEPROF_MAX_THREADS", 1, 1u << 16, &max_threads, error) ||
      !env_uint("MOEPROF_FLUSH_MS", 1, 60'000, &flush_ms, error))
    return MOEPROF_ERROR_INVALID_ARGUMENT;
  c.ring_bytes = ring_kb * 1024;
  c.max_threads = static_cast<uint32_t>(max_threads);
  c.flush_ms = static_cast<uint32_t>(flush_ms);

  if (const char* env = std::getenv("MOEPROF_CLOCK"); env != nullptr && *env != '\0') {
    if (std::strcmp(env, "monotonic") == 0) {
      c.prefer_monotonic_clock = true;
    } else if (std::strcmp(env, "tsc") != 0) {
      *error = std::string("MOEPROF_CLOCK='") + env + "' is not tsc or monotonic";
      return MOEPROF_ERROR_INVALID_ARGUMENT;
    }
  }
  c.install_signal_handlers = !env_flag("MOEPROF_NO_SIGNALS");
  *config = std::move(c);
  return MOEPROF_OK;
}

}  // namespace moeprof::agent

// Agent settings: moeprof_init's options first, then the MOEPROF_* environment variables
// that `moeprof run` sets, then defaults.
#pragma once

#include <cstdint>
#include <string>

#include "clock.h"
#include "moeprof/moeprof.h"

namespace moeprof::agent {

struct Config {
  std::string socket_path;
  int32_t routing_mode = MOEPROF_ROUTING_OFF;
  uint32_t routing_every = 1;
  uint64_t ring_bytes = 1024 * 1024;
  uint32_t max_threads = 256;
  uint32_t flush_ms = 50;
  bool prefer_monotonic_clock = false;
  bool install_signal_handlers = true;
};

// MOEPROF_OK with `config` filled; MOEPROF_ERROR_DISABLED when MOEPROF_DISABLE=1;
// MOEPROF_ERROR_VERSION / MOEPROF_ERROR_INVALID_ARGUMENT with a one-line `error`.
moeprof_status load_config(const moeprof_init_options* options, Config* config, std::string* error);

// "off", "full" or "sample:N" (N >= 1).
bool parse_routing_mode(const char* text, int32_t* mode, uint32_t* every);

}  // namespace moeprof::agent

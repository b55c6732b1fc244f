// The NVTX source's sizes, from the environment (MOEPROF_NVTX_*), and whether NCCL's own
// all-to-all ranges should become all-to-alls.
#pragma once

#include <cstddef>
#include <string>

namespace moeprof::nvtx {

struct CaptureSettings {
  size_t stack_bytes = 64 * 1024;  // MOEPROF_NVTX_STACK_KB: each thread's push/pop arena
  size_t open_ranges = 1024;       // MOEPROF_NVTX_OPEN_RANGES: start/end ranges open at once
  size_t open_range_bytes = 4096;  // per start/end range (its name, payload and peers)
  // NCCL's ncclAlltoAll ranges time the host call; when the NCCL profiler plugin of moeprof
  // records the transfers themselves, those ranges stay ranges only (no double count).
  bool nccl_all_to_all = true;
};

using GetEnv = const char* (*)(const char*);

// Settings from `get_env` (std::getenv in the library). A malformed value keeps the default
// and adds a line to *warnings.
CaptureSettings capture_settings_from(GetEnv get_env, std::string* warnings);

}  // namespace moeprof::nvtx

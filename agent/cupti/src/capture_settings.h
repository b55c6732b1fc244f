// The CUPTI source's settings, from the workload's environment:
//   MOEPROF_CUPTI_BUFFER_KB           size of each activity buffer (default 2048)
//   MOEPROF_CUPTI_BUFFERS             number of buffers, 2..64 (default 8)
//   MOEPROF_CUPTI_FLUSH_MS            how often completed records are fetched (default 500;
//                                     0: only when a buffer fills and at exit)
//   MOEPROF_CUPTI_CORRELATION_SLOTS   launches remembered for joining kernels with their
//                                     launch and step (default 262144; rounded up to
//                                     a power of two)
//   MOEPROF_CUPTI_PENDING_KERNELS     kernels that may wait for their launch record
//                                     (default 8192)
//   MOEPROF_CUPTI_KERNEL_NAMES        distinct kernel names kept demangled (default 8192)
// A bad value keeps the default and yields one warning line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace moeprof::cupti {

struct CaptureSettings {
  uint32_t buffer_kb = 2048;
  uint32_t buffers = 8;
  uint32_t flush_ms = 500;
  uint32_t correlation_slots = 1u << 18;
  uint32_t pending_kernels = 8192;
  uint32_t kernel_names = 8192;
};

// `getenv` is the lookup (std::getenv in the library, a map in tests).
CaptureSettings read_settings(const char* (*getenv)(const char*), std::vector<std::string>* warnings);

}  // namespace moeprof::cupti

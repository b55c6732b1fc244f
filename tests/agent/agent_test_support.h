// Shared by the C API tests: a fake clock, starting the agent against a fake collector, and
// picking records out of a decoded stream.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "fake_collector.h"
#include "moeprof/moeprof.h"

namespace moeprof::agent::testing {

// The hot path's clock while a test installs it: whatever the test sets.
inline std::atomic<int64_t> g_fake_now{0};
inline int64_t fake_clock() { return g_fake_now.load(); }

inline moeprof_status start_agent(const FakeCollector& collector, int32_t routing = MOEPROF_ROUTING_OFF,
                                  uint32_t every = 0) {
  const moeprof_init_options options{sizeof options, MOEPROF_API_VERSION, collector.socket_path().c_str(), routing,
                                     every};
  return moeprof_init(&options);
}

inline std::vector<Record> of_type(const Stream& stream, wire::RecordType type) {
  std::vector<Record> out;
  for (const Record& r : stream.records)
    if (r.type == type) out.push_back(r);
  return out;
}

inline std::vector<std::string> marker_names(const Stream& stream) {
  std::vector<std::string> out;
  for (const Record& r : of_type(stream, wire::RecordType::kMarker)) out.emplace_back(r.var.begin(), r.var.end());
  return out;
}

// Sum of the Drops records of (source api, reason).
inline uint64_t drops(const Stream& stream, wire::DropReason reason) {
  uint64_t n = 0;
  for (const Record& r : of_type(stream, wire::RecordType::kDrops)) {
    const auto d = r.as<wire::Drops>();
    if (d.source == static_cast<uint8_t>(wire::Source::kApi) && d.reason == static_cast<uint8_t>(reason)) n += d.count;
  }
  return n;
}

inline uint32_t hello_pid(const Stream& stream) {
  return stream.records.empty() || stream.records[0].type != wire::RecordType::kHello
             ? 0
             : stream.records[0].as<wire::Hello>().pid;
}

inline moeprof_stats stats() {
  moeprof_stats s{};
  s.struct_size = sizeof s;
  moeprof_get_stats(&s);
  return s;
}

}  // namespace moeprof::agent::testing

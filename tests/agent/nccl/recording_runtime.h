// Test support: a Runtime that keeps every record the model makes, profiler tables that bind
// the plugin callbacks to it (what plugin.cpp does with the agent), and a clock the NCCL
// emulator's hook moves so every event has a time of its own.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nccl_emulator.h"
#include "plugin_core.h"

namespace moeprof::nccl::testing {

struct RecordedAllToAll {
  int64_t start_ns, end_ns, step;
  uint32_t tid;
  std::vector<int32_t> peers;
  std::vector<uint64_t> send, recv;
};

struct RecordedRange {
  int64_t start_ns, end_ns, step;
  uint32_t tid;
  std::string name;
  std::optional<std::string> payload;
};

inline uint32_t this_thread_id() { return static_cast<uint32_t>(syscall(SYS_gettid)); }

class RecordingRuntime final : public Runtime {
 public:
  bool recording() noexcept override { return recording_on; }
  const Config& config() noexcept override { return settings; }
  int64_t now_ns() noexcept override { return now.load(); }
  int64_t current_step() noexcept override { return step.load(); }
  uint32_t thread_id() noexcept override { return this_thread_id(); }
  bool in_engine_all_to_all() noexcept override { return in_engine.load(); }

  void all_to_all(const AllToAllRecord& r) noexcept override {
    const std::lock_guard lock(mutex);
    all_to_alls.push_back({r.start_ns, r.end_ns, r.step, r.tid, {r.peers, r.peers + r.num_peers},
                           {r.send_bytes, r.send_bytes + r.num_peers}, {r.recv_bytes, r.recv_bytes + r.num_peers}});
  }
  void range(const RangeRecord& r) noexcept override {
    const std::lock_guard lock(mutex);
    ranges.push_back({r.start_ns, r.end_ns, r.step, r.tid, r.name != nullptr ? r.name : "",
                      r.payload != nullptr ? std::optional<std::string>(r.payload) : std::nullopt});
  }
  void drops(uint64_t count) noexcept override { dropped += count; }

  bool recording_on = true;
  Config settings;
  std::atomic<int64_t> now{0};
  std::atomic<int64_t> step{0};
  std::atomic<bool> in_engine{false};
  std::mutex mutex;
  std::vector<RecordedAllToAll> all_to_alls;
  std::vector<RecordedRange> ranges;
  std::atomic<uint64_t> dropped{0};
};

// The runtime the test tables' init binds communicators to (set by each test).
inline RecordingRuntime* g_runtime = nullptr;

inline const moeprof_nccl_profiler_v5 kTestV5 = {
    "test",
    [](void** context, uint64_t comm_id, int* mask, const char* name, int n_nodes, int n_ranks, int rank,
       moeprof_nccl_logger log) {
      return plugin_init(*g_runtime, context, comm_id, mask, name, n_nodes, n_ranks, rank, log);
    },
    plugin_start_v5, plugin_stop, plugin_record_state, plugin_finalize};

inline const moeprof_nccl_profiler_v4 kTestV4 = {
    "test",
    [](void** context, int* mask, const char* name, uint64_t comm_hash, int n_nodes, int n_ranks, int rank,
       moeprof_nccl_logger log) {
      return plugin_init(*g_runtime, context, comm_hash, mask, name, n_nodes, n_ranks, rank, log);
    },
    plugin_start_v4, plugin_stop, plugin_record_state, plugin_finalize};

inline const void* test_table(int version) {
  return version == 5 ? static_cast<const void*>(&kTestV5) : static_cast<const void*>(&kTestV4);
}

// Moves the runtime's clock by 10 ns and its step by 1 before every Group/Coll/P2p call the
// emulator makes, and notes when each call happened: the ground truth of times and steps.
struct CallLog {
  struct Call {
    emu_call call;
    int peer;
    int64_t time;
    int64_t step;
  };
  RecordingRuntime* runtime = nullptr;
  std::vector<Call> calls;

  static void hook(void* user, emu_call call, int peer) {
    auto* log = static_cast<CallLog*>(user);
    const int64_t time = log->runtime->now += 10;
    const int64_t step = ++log->runtime->step;
    log->calls.push_back({call, peer, time, step});
  }
  void attach(nccl_emulator& emu, RecordingRuntime& r) {
    runtime = &r;
    emu.hook = &CallLog::hook;
    emu.hook_user = this;
  }
  // The first / last call of a kind.
  const Call& first(emu_call call) const {
    for (const Call& c : calls)
      if (c.call == call) return c;
    ADD_FAILURE() << "no call " << call;
    return calls.front();
  }
  const Call& last(emu_call call) const {
    for (auto c = calls.rbegin(); c != calls.rend(); ++c)
      if (c->call == call) return *c;
    ADD_FAILURE() << "no call " << call;
    return calls.back();
  }
};

// A flat JSON object's members as text (strings unescaped, numbers and booleans as written);
// nullopt when the text is not such an object.
std::optional<std::map<std::string, std::string>> parse_flat_json(const std::string& text);

}  // namespace moeprof::nccl::testing

// The agent's lifecycle: init / shutdown / flush, process metadata, stats, and keeping all
// of that right across fork(). One instance per process, never destroyed (threads and exit
// handlers may still reach it while the process ends).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "clock.h"
#include "config.h"
#include "flusher.h"
#include "metadata.h"
#include "moeprof/moeprof.h"
#include "ring_pool.h"

namespace moeprof::agent {

class Agent {
 public:
  static Agent& instance();

  moeprof_status init(const moeprof_init_options* options);
  void shutdown();
  void flush();
  void set_topology(const wire::Topology& topology, std::string model_name);
  void set_placement(int32_t layer, std::span<const wire::PlacementSlot> slots);
  void get_stats(moeprof_stats* stats);

 private:
  Agent() = default;
  // Connects, sends Hello, starts the flusher.
  // Connects and sends Hello.
  bool open_stream(Connection* connection, std::string* error);
  // Starts the flusher on a stream opened now, or (open_now false: a forked child) opened
  // by the flusher once there is something to send.
  bool start_session(bool open_now, std::string* error);
  RingPool* pool_for(const Config& config, std::string* error);
  void install_process_hooks();

  static void before_fork();
  static void after_fork_in_parent();
  static void after_fork_in_child();

  std::mutex lifecycle_;
  bool running_ = false;
  bool process_hooks_installed_ = false;
  Config config_;
  // Every pool ever made: a thread may still hold a ring of an older one.
  std::vector<std::unique_ptr<RingPool>> pools_;
  RingPool* pool_ = nullptr;
  ClockKind clock_kind_ = ClockKind::kMonotonic;
  // The process's first TSC anchor: the longest baseline for converting ticks.
  ClockAnchor first_tsc_anchor_{0, 0};
  bool have_tsc_anchor_ = false;
  Metadata metadata_;
  std::unique_ptr<Flusher> flusher_;
  // Stats since moeprof_init.
  uint64_t written_baseline_ = 0;
  uint64_t dropped_baseline_ = 0;
  uint64_t frames_sent_ = 0;  // by finished flushers and the Hello frame
};

}  // namespace moeprof::agent

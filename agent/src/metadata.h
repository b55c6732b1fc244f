// Process metadata the engine declares once (topology, expert placement per layer). Kept as
// "latest value" state: the flusher sends what changed at the start of each flush, before
// any event records, and a forked child sends all of it again on its own stream.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>

#include "moeprof/wire/codec.h"

namespace moeprof::agent {

class Metadata {
 public:
  void clear();
  void set_topology(const wire::Topology& topology, std::string model_name);
  void set_placement(int32_t layer, std::span<const wire::PlacementSlot> slots);
  // Appends a record for everything set since the last call.
  void append_changes(wire::FrameWriter& frame);
  // Everything is sent again (a forked child's new stream).
  void mark_all_changed();
  // Held across fork() so the child never inherits it locked.
  std::mutex& mutex() { return mutex_; }

 private:
  struct Layer {
    wire::Bytes encoded;
    bool changed = false;
  };
  std::mutex mutex_;
  bool has_topology_ = false;
  bool topology_changed_ = false;
  wire::Topology topology_{};
  std::string model_name_;
  std::map<int32_t, Layer> placement_;
};

}  // namespace moeprof::agent

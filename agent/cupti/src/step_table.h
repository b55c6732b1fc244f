// The step current when each kernel was launched, by CUPTI correlation id. The launch
// callback (any application thread, at the launch call's entry) stores; the activity decoder
// (CUPTI's delivery thread, later) looks up. Direct-mapped: id i lives in slot i mod N and is
// overwritten by id i + N, so a kernel finds its step while fewer than N launches have
// happened since its own. No locks: each slot is a tiny seqlock whose writer marks it busy
// (id 0, which CUPTI never hands out) while it writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace moeprof::cupti {

class StepTable {
 public:
  explicit StepTable(uint32_t slots);  // rounded up to a power of two
  uint32_t slots() const { return mask_ + 1; }

  void remember(uint32_t correlation_id, int64_t step) noexcept;
  // The step stored for `correlation_id`, unless its slot was taken by a later id.
  std::optional<int64_t> find(uint32_t correlation_id) const noexcept;

 private:
  struct Slot {
    std::atomic<uint32_t> id{0};
    std::atomic<int64_t> step{0};
  };
  std::unique_ptr<Slot[]> slots_;
  uint32_t mask_;
};

}  // namespace moeprof::cupti

#include "step_table.h"

#include <algorithm>
#include <bit>

namespace moeprof::cupti {

StepTable::StepTable(uint32_t slots)
    : slots_(new Slot[std::bit_ceil(std::max<uint32_t>(slots, 1))]),
      mask_(std::bit_ceil(std::max<uint32_t>(slots, 1)) - 1) {}

void StepTable::remember(uint32_t correlation_id, int64_t step) noexcept {
  if (correlation_id == 0) return;
  Slot& slot = slots_[correlation_id & mask_];
  slot.id.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot.step.store(step, std::memory_order_relaxed);
  slot.id.store(correlation_id, std::memory_order_release);
}

std::optional<int64_t> StepTable::find(uint32_t correlation_id) const noexcept {
  if (correlation_id == 0) return std::nullopt;
  const Slot& slot = slots_[correlation_id & mask_];
  if (slot.id.load(std::memory_order_acquire) != correlation_id) return std::nullopt;
  const int64_t step = slot.step.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  // A writer that started meanwhile has cleared or replaced the id.
  if (slot.id.load(std::memory_order_relaxed) != correlation_id) return std::nullopt;
  return step;
}

}  // namespace moeprof::cupti

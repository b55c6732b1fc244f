#include "nccl_communicators.h"

namespace moeprof::nvtx {
namespace {

size_t home(uint64_t id) { return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> 56) % NcclCommunicators::kCapacity; }

uint64_t pack(CommunicatorShape s) { return (static_cast<uint64_t>(s.ranks) << 32) | s.rank; }

}  // namespace

void NcclCommunicators::remember(uint64_t id, CommunicatorShape shape) noexcept {
  if (id == 0 || shape.ranks == 0) return;
  for (size_t probe = 0, i = home(id); probe < kCapacity; ++probe, i = (i + 1) % kCapacity) {
    uint64_t current = slots_[i].id.load(std::memory_order_acquire);
    if (current == 0 && slots_[i].id.compare_exchange_strong(current, id, std::memory_order_acq_rel))
      current = id;
    if (current == id) {
      slots_[i].shape.store(pack(shape), std::memory_order_release);
      return;
    }
  }
}

bool NcclCommunicators::find(uint64_t id, CommunicatorShape* shape) const noexcept {
  if (id == 0) return false;
  for (size_t probe = 0, i = home(id); probe < kCapacity; ++probe, i = (i + 1) % kCapacity) {
    const uint64_t current = slots_[i].id.load(std::memory_order_acquire);
    if (current == 0) return false;
    if (current != id) continue;
    const uint64_t packed = slots_[i].shape.load(std::memory_order_acquire);
    if (packed == 0) return false;
    shape->ranks = static_cast<uint32_t>(packed >> 32);
    shape->rank = static_cast<uint32_t>(packed);
    return true;
  }
  return false;
}

}  // namespace moeprof::nvtx

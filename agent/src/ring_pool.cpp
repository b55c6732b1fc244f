#include "ring_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>

namespace moeprof::agent {

std::unique_ptr<RingPool> RingPool::create(uint32_t ring_count, uint64_t ring_bytes, std::string* error) {
  if (ring_count == 0) {
    *error = "ring pool needs at least one ring";
    return nullptr;
  }
  ring_bytes = std::bit_ceil(std::max<uint64_t>(ring_bytes, 4096));
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t slots_size = (sizeof(Slot) * ring_count + page - 1) / page * page;
  const size_t total = slots_size + static_cast<size_t>(ring_bytes) * ring_count;
  void* mapping = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) {
    *error = "cannot map " + std::to_string(total >> 20) + " MiB for " + std::to_string(ring_count) +
             " rings: " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<RingPool> pool(new RingPool);
  pool->mapping_ = mapping;
  pool->mapping_size_ = total;
  pool->slots_ = static_cast<Slot*>(mapping);
  pool->count_ = ring_count;
  pool->ring_bytes_ = ring_bytes;
  auto* data = static_cast<uint8_t*>(mapping) + slots_size;
  for (uint32_t i = 0; i < ring_count; ++i) {
    new (&pool->slots_[i]) Slot;
    pool->slots_[i].ring.attach(data + i * ring_bytes, ring_bytes);
  }
  return pool;
}

RingPool::~RingPool() {
  for (uint32_t i = 0; i < count_; ++i) slots_[i].~Slot();
  munmap(mapping_, mapping_size_);
}

Ring* RingPool::claim() {
  for (uint32_t i = 0; i < count_; ++i) {
    uint32_t expected = kFree;
    if (slots_[i].state.load(std::memory_order_relaxed) != kFree ||
        !slots_[i].state.compare_exchange_strong(expected, kOwned, std::memory_order_acq_rel))
      continue;
    slots_[i].ring.adopt();
    uint32_t hw = high_water_.load(std::memory_order_relaxed);
    while (hw < i + 1 && !high_water_.compare_exchange_weak(hw, i + 1, std::memory_order_acq_rel)) {
    }
    return &slots_[i].ring;
  }
  return nullptr;
}

uint32_t RingPool::index_of(const Ring* ring) const {
  // Ring is the first member of its Slot.
  return static_cast<uint32_t>(reinterpret_cast<const Slot*>(ring) - slots_);
}

void RingPool::retire(Ring* ring) { slots_[index_of(ring)].state.store(kRetired, std::memory_order_release); }

void RingPool::release(uint32_t i) { slots_[i].state.store(kFree, std::memory_order_release); }

uint64_t RingPool::records_written() const {
  uint64_t total = 0;
  const uint32_t hw = high_water();
  for (uint32_t i = 0; i < hw; ++i) total += slots_[i].ring.records_written();
  return total;
}

void RingPool::reset_after_fork() {
  for (uint32_t i = 0; i < count_; ++i) {
    slots_[i].ring.reset_all();
    slots_[i].state.store(kFree, std::memory_order_relaxed);
  }
  high_water_.store(0, std::memory_order_relaxed);
}

}  // namespace moeprof::agent

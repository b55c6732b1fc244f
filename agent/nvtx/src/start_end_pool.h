// Open start/end ranges (nvtxRangeStart .. nvtxRangeEnd, possibly on another thread): a fixed
// pool of slots sized at start, claimed and released without locks. A range's id names its
// slot and the slot's generation, so a stale or forged id ends nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace moeprof::nvtx {

class StartEndPool {
 public:
  StartEndPool(size_t slots, size_t slot_bytes);

  size_t slot_bytes() const noexcept { return slot_bytes_; }

  // A free slot's storage and the id naming it; id 0 when the pool is full.
  uint64_t claim(unsigned char** storage) noexcept;
  // The storage of the range `id` names, now closing (only one caller gets it), or null.
  const unsigned char* close(uint64_t id) noexcept;
  // Frees the slot of a range close() returned.
  void release(uint64_t id) noexcept;

 private:
  // A slot's generation and state in one word: (generation << 2) | state, so that one
  // compare-exchange checks both.
  static constexpr uint64_t kFree = 0, kOpen = 1, kClosing = 2, kStateMask = 3;

  size_t count_;
  size_t slot_bytes_;
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  std::unique_ptr<unsigned char[]> storage_;
  std::atomic<size_t> cursor_{0};
};

}  // namespace moeprof::nvtx

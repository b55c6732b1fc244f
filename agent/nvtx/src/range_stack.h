// One thread's open push/pop ranges. NVTX keeps a stack per domain per thread; here one
// stack holds all of a thread's domains and a pop closes the innermost open range of its
// domain (usually the top). Entries live in one fixed arena allocated on the thread's first
// push: a push reserves the top of it, closing the top range gives its space back. A push
// that does not fit (arena or depth) is still counted on the stack, as dropped, so pops stay
// matched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace moeprof::nvtx {

struct Domain;

class RangeStack {
 public:
  static constexpr size_t kMaxDepth = 256;

  explicit RangeStack(size_t arena_bytes);

  // Opens a range of `domain` needing `bytes` of storage. Returns the storage (8-byte
  // aligned), or null when it was dropped; *level is its NVTX nesting level in its domain.
  unsigned char* push(const Domain* domain, size_t bytes, int* level) noexcept;

  struct Popped {
    bool found = false;          // false: no open range of that domain (an unmatched pop)
    const unsigned char* entry = nullptr;  // null: it had been dropped
    int level = -1;
  };
  // Closes the innermost open range of `domain`. The entry stays readable until the next
  // push or pop on this thread.
  Popped pop(const Domain* domain) noexcept;

  size_t depth() const noexcept { return depth_ + overflow_; }

 private:
  struct Slot {
    const Domain* domain;
    uint32_t offset;
    uint32_t size;
    int32_t level;
    bool dropped;
    bool closed;
  };
  void reclaim() noexcept;  // drops closed entries from the top

  std::unique_ptr<unsigned char[]> arena_;
  size_t arena_bytes_;
  size_t used_ = 0;
  Slot slots_[kMaxDepth];
  size_t depth_ = 0;
  size_t overflow_ = 0;  // pushes beyond kMaxDepth, matched by later pops
  bool reclaim_pending_ = false;
};

}  // namespace moeprof::nvtx

// NCCL communicators seen in NCCL's own NVTX ranges: ncclCommInitRank and its siblings carry
// the communicator's id, size and this process's rank in their payload; ncclAlltoAll carries
// only the id and the bytes per peer. This table joins the two. Fixed size, lock-free: a few
// communicators per process, looked up on every all-to-all.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace moeprof::nvtx {

struct CommunicatorShape {
  uint32_t ranks = 0;
  uint32_t rank = 0;
};

class NcclCommunicators {
 public:
  static constexpr size_t kCapacity = 256;

  // Records (or updates) a communicator; id 0 (not yet created) is ignored.
  void remember(uint64_t id, CommunicatorShape shape) noexcept;
  bool find(uint64_t id, CommunicatorShape* shape) const noexcept;

 private:
  struct Slot {
    std::atomic<uint64_t> id{0};
    std::atomic<uint64_t> shape{0};  // ranks << 32 | rank; 0 until published
  };
  Slot slots_[kCapacity];
};

}  // namespace moeprof::nvtx

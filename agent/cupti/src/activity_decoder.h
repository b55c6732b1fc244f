// Completed CUPTI activity buffers -> GPU kernels joined with the runtime/driver call that
// launched them (same correlation id).
//
// A kernel's record and its launch call's record often sit in different buffers: CUPTI
// reserves the kernel's record at launch and writes the call's record when the call returns,
// so a buffer that filled in between holds the kernel but not its call, and a call's record
// can come a buffer before its kernel's. Both directions are kept, in fixed tables:
//   - launch calls, direct-mapped by correlation id (`correlation_slots`, a power of two):
//     a call's record stays findable until the id `correlation_slots` higher arrives, so
//     every kernel of a graph launch (they share the launch's id) finds it;
//   - kernels whose call has not come yet (`pending_kernels`, oldest first): each later
//     buffer may bring the call; after `pending_buffers` buffers without it, when the pool
//     is full (the oldest goes), or at finish() the kernel goes out without its launch
//     (launch_ns 0, launch_tid 0; counted in kernels_unjoined). Nothing is held longer.
// Kernels without timestamps (CUPTI lacked device memory for them) are dropped and counted.
// Records of other kinds are skipped (counted). A record CUPTI cannot walk past (invalid
// kind) ends that buffer's walk (counted in invalid_buffers).
//
// Not thread-safe: one decoder is fed by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "step_table.h"

namespace moeprof::cupti {

struct KernelEvent {
  int64_t start_ns;
  int64_t end_ns;
  int64_t step;         // of its launch, or MOEPROF_STEP_CURRENT when not known
  int64_t launch_ns;    // start of the launching call; 0: unknown
  uint32_t launch_tid;  // its thread; 0: unknown
  uint32_t device;
  uint32_t stream;
  uint32_t correlation_id;
  uint32_t grid[3];
  uint32_t block[3];
  const char* name;  // CUPTI's (mangled), valid for the whole process
};

class KernelSink {
 public:
  virtual void kernel(const KernelEvent& event) = 0;

 protected:
  ~KernelSink() = default;
};

struct DecoderOptions {
  uint32_t correlation_slots = 1u << 18;
  uint32_t pending_kernels = 8192;
  uint32_t pending_buffers = 4;
  // Added to every CUPTI time (0 when CUPTI already reads the agent's clock).
  int64_t clock_offset_ns = 0;
  // CUPTI's thread ids are the kernel's (gettid) ones; otherwise launch_tid stays 0.
  bool thread_ids_are_tids = true;
  // Steps remembered at launch; NULL: every kernel gets MOEPROF_STEP_CURRENT.
  const StepTable* steps = nullptr;
};

struct DecoderStats {
  uint64_t buffers = 0;
  uint64_t records = 0;               // every record walked
  uint64_t kernels = 0;               // kernel records
  uint64_t launches = 0;              // runtime/driver API records
  uint64_t other_records = 0;         // other kinds, skipped
  uint64_t kernels_joined = 0;        // sent with their launch
  uint64_t kernels_unjoined = 0;      // sent without it
  uint64_t kernels_untimed = 0;       // dropped: no timestamps
  uint64_t kernels_without_step = 0;  // sent with MOEPROF_STEP_CURRENT
  uint64_t launches_unmatched = 0;    // launch records replaced before any kernel found them
  uint64_t invalid_buffers = 0;       // walks ended early at a record CUPTI rejected
};

class ActivityDecoder {
 public:
  ActivityDecoder(const DecoderOptions& options, KernelSink* sink);

  // One buffer CUPTI completed: `valid_bytes` of records, 8-byte aligned.
  void decode(uint8_t* buffer, size_t valid_bytes);
  // No more buffers will bring launch records: pending kernels are sent (joined if they can).
  void finish();

  const DecoderStats& stats() const { return stats_; }
  size_t pending() const { return pending_count_; }

 private:
  struct Launch {
    uint32_t correlation_id = 0;  // 0: empty
    uint32_t tid = 0;
    int64_t start_ns = 0;
    bool matched = false;
  };
  struct Pending {
    KernelEvent event;
    uint32_t buffers_waited;
  };

  void add_launch(uint32_t correlation_id, uint32_t tid, uint64_t start);
  const Launch* find_launch(uint32_t correlation_id);
  void add_kernel(const void* record);
  void send(KernelEvent event, const Launch* launch);
  void retry_pending(bool final);
  void push_pending(const KernelEvent& event);
  int64_t time(uint64_t cupti_ns) const;

  DecoderOptions options_;
  KernelSink* sink_;
  std::vector<Launch> launches_;
  uint32_t launch_mask_;
  std::vector<const void*> kernels_;  // this buffer's kernel records (grows to the most a buffer held)
  std::vector<Pending> pending_;      // ring: pending_head_ is the oldest
  size_t pending_head_ = 0;
  size_t pending_count_ = 0;
  DecoderStats stats_;
};

}  // namespace moeprof::cupti

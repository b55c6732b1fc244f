// What the event model needs from its surroundings: the clock, the step, the thread, whether
// the engine reports the current all-to-all itself, and where finished records go. The plugin
// binds it to the agent's C ABI (agent_host.cpp); tests bind it to a recorder.
#pragma once

#include <cstdint>

namespace moeprof::nccl {

// One all-to-all: bytes this rank sent to and received from each peer (communicator ranks).
struct AllToAllRecord {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t step = 0;
  uint32_t tid = 0;  // the thread NCCL issued it on
  uint32_t num_peers = 0;
  const int32_t* peers = nullptr;
  const uint64_t* send_bytes = nullptr;
  const uint64_t* recv_bytes = nullptr;
};

// A collective or point-to-point operation other than an all-to-all.
struct RangeRecord {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t step = 0;
  uint32_t tid = 0;
  const char* name = nullptr;     // NCCL's function name: "AllReduce", "Send", ...
  const char* payload = nullptr;  // JSON object text (payload.h)
};

class Host {
 public:
  virtual int64_t now_ns() noexcept = 0;
  virtual int64_t current_step() noexcept = 0;
  virtual uint32_t thread_id() noexcept = 0;
  // True while the calling thread is inside an all-to-all the engine reports itself.
  virtual bool in_engine_all_to_all() noexcept = 0;

  virtual void all_to_all(const AllToAllRecord& record) noexcept = 0;
  virtual void range(const RangeRecord& record) noexcept = 0;
  // Events the model could not record (a pool was full).
  virtual void drops(uint64_t count) noexcept = 0;

 protected:
  ~Host() = default;
};

}  // namespace moeprof::nccl

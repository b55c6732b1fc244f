// The profiler plugin's callbacks, over a Runtime that says whether moeprof records, what the
// settings are and where records go. libmoeprof_nccl.so binds them to the agent and exports
// them as ncclProfiler_v5 / ncclProfiler_v4 (plugin.cpp); tests bind them to a recorder.
//
// Every callback accepts null arguments, never throws, never blocks and returns success;
// only init fails (so that NCCL carries on without the plugin for that communicator), when
// moeprof is not recording or the communicator's pools cannot be allocated.
#pragma once

#include <cstdint>

#include "config.h"
#include "host.h"
#include "moeprof/nccl/profiler_abi.h"

namespace moeprof::nccl {

class Runtime : public Host {
 public:
  virtual bool recording() noexcept = 0;
  virtual const Config& config() noexcept = 0;

 protected:
  ~Runtime() = default;
};

moeprof_nccl_result plugin_init(Runtime& runtime, void** context, uint64_t comm_hash, int* activation_mask,
                                const char* comm_name, int n_nodes, int n_ranks, int rank,
                                moeprof_nccl_logger log) noexcept;
moeprof_nccl_result plugin_start_v5(void* context, void** handle, moeprof_nccl_event_v5* event) noexcept;
moeprof_nccl_result plugin_start_v4(void* context, void** handle, moeprof_nccl_event_v4* event) noexcept;
moeprof_nccl_result plugin_stop(void* handle) noexcept;
moeprof_nccl_result plugin_record_state(void* handle, int state, moeprof_nccl_state_args* args) noexcept;
moeprof_nccl_result plugin_finalize(void* context) noexcept;

}  // namespace moeprof::nccl

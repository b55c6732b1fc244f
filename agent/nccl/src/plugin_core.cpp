#include "plugin_core.h"

#include <atomic>
#include <cstring>
#include <initializer_list>

#include "communicator.h"

namespace moeprof::nccl {
namespace {

template <class Descriptor>
moeprof_nccl_result start(void* context, void** handle, const Descriptor* event) noexcept {
  if (handle == nullptr) return MOEPROF_NCCL_SUCCESS;
  // NCCL keeps whatever is here; null means "no event" (its stop is then never called).
  *handle = nullptr;
  if (context == nullptr || event == nullptr) return MOEPROF_NCCL_SUCCESS;
  *handle = static_cast<Communicator*>(context)->start(decode(event));
  return MOEPROF_NCCL_SUCCESS;
}

}  // namespace

moeprof_nccl_result plugin_init(Runtime& runtime, void** context, uint64_t comm_hash, int* activation_mask,
                                const char* comm_name, int n_nodes, int n_ranks, int rank,
                                moeprof_nccl_logger log) noexcept {
  if (context == nullptr) return MOEPROF_NCCL_INVALID_ARGUMENT;
  *context = nullptr;
  if (!runtime.recording()) {
    // NCCL logs that init failed and carries on without the plugin for this communicator.
    if (log != nullptr)
      log(MOEPROF_NCCL_LOG_INFO, MOEPROF_NCCL_LOG_INIT_SUBSYSTEM, __FILE__, __LINE__,
          "moeprof: not recording (not under `moeprof run`?); NCCL capture is off");
    return MOEPROF_NCCL_INTERNAL_ERROR;
  }
  const Config& config = runtime.config();
  static std::atomic<bool> warned{false};  // once per process, not per communicator
  if (log != nullptr && !warned.exchange(true, std::memory_order_relaxed)) {
    for (const char* bad : {config.bad_pool, config.bad_events})
      if (bad != nullptr)
        log(MOEPROF_NCCL_LOG_WARN, MOEPROF_NCCL_LOG_INIT_SUBSYSTEM, __FILE__, __LINE__,
            "moeprof: %s is not valid; using its default", bad);
  }
  CommunicatorInfo info;
  info.hash = comm_hash;
  info.rank = rank;
  info.nranks = n_ranks;
  info.nnodes = n_nodes;
  info.world_ranks = spans_world(config, n_ranks, rank);
  if (comm_name != nullptr) {
    const size_t n = strnlen(comm_name, sizeof info.name - 1);
    std::memcpy(info.name, comm_name, n);
    info.name[n] = '\0';
  }
  Communicator* communicator = Communicator::create(info, config.pools, runtime);
  if (communicator == nullptr) {
    if (log != nullptr)
      log(MOEPROF_NCCL_LOG_WARN, MOEPROF_NCCL_LOG_INIT_SUBSYSTEM, __FILE__, __LINE__,
          "moeprof: no memory for the event pools of communicator 0x%lx (%d ranks); NCCL capture is off for it",
          static_cast<unsigned long>(comm_hash), n_ranks);
    return MOEPROF_NCCL_SYSTEM_ERROR;
  }
  // NCCL keeps one mask for the process; every communicator asks for the same one.
  if (activation_mask != nullptr) __atomic_store_n(activation_mask, config.event_mask, __ATOMIC_RELAXED);
  *context = communicator;
  if (log != nullptr)
    log(MOEPROF_NCCL_LOG_INFO, MOEPROF_NCCL_LOG_INIT_SUBSYSTEM, __FILE__, __LINE__,
        "moeprof: capturing communicator 0x%lx rank %d of %d (events 0x%x, %u event objects, peers are %s ranks)",
        static_cast<unsigned long>(comm_hash), rank, n_ranks, config.event_mask, config.pools.tasks,
        info.world_ranks ? "world" : "communicator");
  return MOEPROF_NCCL_SUCCESS;
}

moeprof_nccl_result plugin_start_v5(void* context, void** handle, moeprof_nccl_event_v5* event) noexcept {
  return start(context, handle, event);
}

moeprof_nccl_result plugin_start_v4(void* context, void** handle, moeprof_nccl_event_v4* event) noexcept {
  return start(context, handle, event);
}

moeprof_nccl_result plugin_stop(void* handle) noexcept {
  Communicator::stop(handle);
  return MOEPROF_NCCL_SUCCESS;
}

moeprof_nccl_result plugin_record_state(void*, int, moeprof_nccl_state_args*) noexcept {
  // No state moeprof records: the Group/Coll/P2p events it asks for carry none.
  return MOEPROF_NCCL_SUCCESS;
}

moeprof_nccl_result plugin_finalize(void* context) noexcept {
  delete static_cast<Communicator*>(context);
  return MOEPROF_NCCL_SUCCESS;
}

}  // namespace moeprof::nccl

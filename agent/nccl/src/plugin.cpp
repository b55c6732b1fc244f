// libmoeprof_nccl.so: moeprof's NCCL capture source, an NCCL profiler plugin. `moeprof run
// --capture nccl` points NCCL_PROFILER_PLUGIN at it; NCCL (2.27 and later) dlopens it and
// looks up ncclProfiler_v5 (NCCL 2.28, 2.29) or ncclProfiler_v4 (2.27). Both tables share
// the callbacks of plugin_core.h, bound here to the agent's C ABI (moeprof.h): records go
// out as source nccl, times on the agent's clock. The library exports these two tables and
// nothing else (exports.map).
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "moeprof/moeprof.h"
#include "plugin_core.h"

namespace moeprof::nccl {
namespace {

class AgentRuntime final : public Runtime {
 public:
  bool recording() noexcept override { return moeprof_enabled() != 0; }
  const Config& config() noexcept override {
    // Read once, on the first communicator's init (NCCL serialises plugin loading; a static
    // local's initialisation is thread-safe anyway).
    static const Config config = config_from([](const char* name) -> const char* { return std::getenv(name); });
    return config;
  }

  int64_t now_ns() noexcept override { return moeprof_now_ns(); }
  int64_t current_step() noexcept override { return moeprof_current_step(); }
  uint32_t thread_id() noexcept override {
    thread_local uint32_t tid = static_cast<uint32_t>(syscall(SYS_gettid));
    return tid;
  }
  bool in_engine_all_to_all() noexcept override { return moeprof_in_engine_all_to_all() != 0; }

  void all_to_all(const AllToAllRecord& r) noexcept override {
    const moeprof_peer_bytes bytes{sizeof bytes, r.num_peers, r.peers, r.send_bytes, r.recv_bytes};
    const moeprof_all_to_all_event event{sizeof event, MOEPROF_SOURCE_NCCL, r.start_ns, r.end_ns, r.step, -1,
                                         MOEPROF_PHASE_OTHER, r.tid, 0, &bytes};
    moeprof_record_all_to_all(&event);
  }
  void range(const RangeRecord& r) noexcept override {
    const moeprof_range range{sizeof range, MOEPROF_SOURCE_NCCL, r.start_ns, r.end_ns, r.step, r.tid,
                              MOEPROF_RANGE_START_END, 0, 0, "NCCL", r.name, r.payload};
    moeprof_record_range(&range);
  }
  void drops(uint64_t count) noexcept override { moeprof_count_drops(MOEPROF_SOURCE_NCCL, count); }
};

// No state and a trivial destructor: communicators NCCL finalizes during exit still find it.
constinit AgentRuntime g_runtime;

moeprof_nccl_result init_v5(void** context, uint64_t comm_id, int* activation_mask, const char* comm_name, int n_nodes,
                            int n_ranks, int rank, moeprof_nccl_logger log) {
  return plugin_init(g_runtime, context, comm_id, activation_mask, comm_name, n_nodes, n_ranks, rank, log);
}

moeprof_nccl_result init_v4(void** context, int* activation_mask, const char* comm_name, uint64_t comm_hash,
                            int n_nodes, int n_ranks, int rank, moeprof_nccl_logger log) {
  return plugin_init(g_runtime, context, comm_hash, activation_mask, comm_name, n_nodes, n_ranks, rank, log);
}

}  // namespace
}  // namespace moeprof::nccl

extern "C" {

__attribute__((visibility("default"))) moeprof_nccl_profiler_v5 ncclProfiler_v5 = {
    "moeprof",
    moeprof::nccl::init_v5,
    moeprof::nccl::plugin_start_v5,
    moeprof::nccl::plugin_stop,
    moeprof::nccl::plugin_record_state,
    moeprof::nccl::plugin_finalize,
};

__attribute__((visibility("default"))) moeprof_nccl_profiler_v4 ncclProfiler_v4 = {
    "moeprof",
    moeprof::nccl::init_v4,
    moeprof::nccl::plugin_start_v4,
    moeprof::nccl::plugin_stop,
    moeprof::nccl::plugin_record_state,
    moeprof::nccl::plugin_finalize,
};

}  // extern "C"

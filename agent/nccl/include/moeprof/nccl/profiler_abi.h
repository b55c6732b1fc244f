/* NCCL's profiler plugin interface, versions 4 and 5, as moeprof needs it.
 *
 * NCCL does not install the headers of its plugin interfaces, so this file declares the
 * structs and constants under moeprof's own names with the layout NCCL passes. Derived from
 * NCCL's sources (ext-profiler/example/nccl/profiler_v4.h, profiler_v5.h, profiler.h and
 * src/plugin/profiler*.cc of 2.27 to 2.29):
 *   - NCCL 2.28 looks up `ncclProfiler_v5`, then `ncclProfiler_v4`, ... in the library
 *     NCCL_PROFILER_PLUGIN names; 2.27 looks up v4 first; 2.29 v6, then v5 (through a
 *     translating shim). A v4 plugin under 2.28 gets v5 events translated by NCCL: the
 *     API-level event types (GroupApi, CollApi, P2pApi, KernelLaunch) are not passed on and
 *     a Coll/P2p event's parentObj is its Group event.
 *   - v5 widened `type` to 64 bits, added the API-level event types and, in the Coll/P2p
 *     descriptors, `parentGroup` (the Group event; `parentObj` is then the CollApi/P2pApi
 *     event).
 * The static assertions at the end pin the layout on LP64 targets (x86-64, aarch64).
 * C and C++ both include this file (the plugin, its tests, the e2e workload in C). */
#ifndef MOEPROF_NCCL_PROFILER_ABI_H
#define MOEPROF_NCCL_PROFILER_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ncclResult_t: an enum, passed as int. */
typedef int moeprof_nccl_result;
#define MOEPROF_NCCL_SUCCESS 0
#define MOEPROF_NCCL_SYSTEM_ERROR 2
#define MOEPROF_NCCL_INTERNAL_ERROR 3
#define MOEPROF_NCCL_INVALID_ARGUMENT 4

/* Event types: bits of `type` and of the activation mask the plugin sets at init. */
#define MOEPROF_NCCL_PROFILE_GROUP (1 << 0)         /* one kernel plan of one communicator */
#define MOEPROF_NCCL_PROFILE_COLL (1 << 1)          /* a collective task of that plan */
#define MOEPROF_NCCL_PROFILE_P2P (1 << 2)           /* a send or a receive task of that plan */
#define MOEPROF_NCCL_PROFILE_PROXY_OP (1 << 3)
#define MOEPROF_NCCL_PROFILE_PROXY_STEP (1 << 4)
#define MOEPROF_NCCL_PROFILE_PROXY_CTRL (1 << 5)
#define MOEPROF_NCCL_PROFILE_KERNEL_CH (1 << 6)
#define MOEPROF_NCCL_PROFILE_NET_PLUGIN (1 << 7)
#define MOEPROF_NCCL_PROFILE_GROUP_API (1 << 8)     /* v5: ncclGroupStart..End (outermost) */
#define MOEPROF_NCCL_PROFILE_COLL_API (1 << 9)      /* v5: one collective call */
#define MOEPROF_NCCL_PROFILE_P2P_API (1 << 10)      /* v5: one ncclSend/ncclRecv (task) */
#define MOEPROF_NCCL_PROFILE_KERNEL_LAUNCH (1 << 11) /* v5 */

/* ncclProfilerEventState_t values the plugin may see in recordEventState (moeprof uses none). */
#define MOEPROF_NCCL_STATE_KERNEL_CH_STOP 22
#define MOEPROF_NCCL_STATE_GROUP_END_API_START 23
#define MOEPROF_NCCL_STATE_GROUP_START_API_STOP 24

/* ncclDebugLogger_t; level 2 is a warning, 3 information; flags 1 is NCCL_INIT. */
typedef void (*moeprof_nccl_logger)(int level, unsigned long flags, const char* file, int line, const char* format, ...);
#define MOEPROF_NCCL_LOG_WARN 2
#define MOEPROF_NCCL_LOG_INFO 3
#define MOEPROF_NCCL_LOG_INIT_SUBSYSTEM 1ul

/* The descriptor fields of a collective task (v4 ends before parent_group). */
#define MOEPROF_NCCL_COLL_FIELDS  \
  uint64_t seq_number;            \
  const char* func;               \
  const void* send_buff;          \
  void* recv_buff;                \
  size_t count;                   \
  int root;                       \
  const char* datatype;           \
  uint8_t n_channels;             \
  uint8_t n_warps;                \
  const char* algo;               \
  const char* proto;

#define MOEPROF_NCCL_P2P_FIELDS \
  const char* func;             \
  void* buff;                   \
  const char* datatype;         \
  size_t count;                 \
  int peer;                     \
  uint8_t n_channels;

#define MOEPROF_NCCL_PROXY_FIELDS                                                           \
  struct {                                                                                 \
    pid_t pid;                                                                             \
    uint8_t channel_id;                                                                    \
    int peer;                                                                              \
    int n_steps;                                                                           \
    int chunk_size;                                                                        \
    int is_send;                                                                           \
  } proxy_op;                                                                              \
  struct {                                                                                 \
    int step;                                                                              \
  } proxy_step;                                                                            \
  struct {                                                                                 \
    uint8_t channel_id;                                                                    \
    uint64_t p_timer; /* GPU globaltimer */                                                \
  } kernel_ch;                                                                             \
  struct {                                                                                 \
    int64_t id;                                                                            \
    void* data;                                                                            \
  } net_plugin;

/* ncclProfilerEventDescr_v5_t */
typedef struct moeprof_nccl_event_v5 {
  uint64_t type;    /* one MOEPROF_NCCL_PROFILE_* bit */
  void* parent_obj; /* Coll/P2p: the CollApi/P2pApi event; API events: the GroupApi event */
  int rank;         /* the communicator rank (Coll, P2p, proxy events) */
  union {
    struct {
      int graph_captured;
      int group_depth;
    } group_api;
    struct {
      const char* func;
      size_t count;
      const char* datatype;
      int root;
      void* stream;
      bool graph_captured;
    } coll_api;
    struct {
      const char* func;
      size_t count;
      const char* datatype;
      void* stream;
      bool graph_captured;
    } p2p_api;
    struct {
      void* stream;
    } kernel_launch;
    struct {
      MOEPROF_NCCL_COLL_FIELDS
      void* parent_group; /* the Group event (v4's parentObj) */
    } coll;
    struct {
      MOEPROF_NCCL_P2P_FIELDS
      void* parent_group;
    } p2p;
    MOEPROF_NCCL_PROXY_FIELDS
  };
} moeprof_nccl_event_v5;

/* ncclProfilerEventDescr_v4_t */
typedef struct moeprof_nccl_event_v4 {
  uint8_t type;
  void* parent_obj; /* Coll/P2p: the Group event */
  int rank;
  union {
    struct {
      MOEPROF_NCCL_COLL_FIELDS
    } coll;
    struct {
      MOEPROF_NCCL_P2P_FIELDS
    } p2p;
    MOEPROF_NCCL_PROXY_FIELDS
  };
} moeprof_nccl_event_v4;

/* ncclProfilerEventStateArgs_v4_t and _v5_t (the same union). */
typedef union moeprof_nccl_state_args {
  struct {
    size_t trans_size;
  } proxy_step;
  struct {
    int appended_proxy_ops;
  } proxy_ctrl;
  struct {
    void* data;
  } net_plugin;
  struct {
    uint64_t p_timer;
  } kernel_ch;
} moeprof_nccl_state_args;

/* ncclProfiler_v5_t: what `ncclProfiler_v5` holds. */
typedef struct moeprof_nccl_profiler_v5 {
  const char* name;
  moeprof_nccl_result (*init)(void** context, uint64_t comm_id, int* activation_mask, const char* comm_name,
                              int n_nodes, int n_ranks, int rank, moeprof_nccl_logger log);
  moeprof_nccl_result (*start_event)(void* context, void** handle, moeprof_nccl_event_v5* event);
  moeprof_nccl_result (*stop_event)(void* handle);
  moeprof_nccl_result (*record_event_state)(void* handle, int state, moeprof_nccl_state_args* args);
  moeprof_nccl_result (*finalize)(void* context);
} moeprof_nccl_profiler_v5;

/* ncclProfiler_v4_t: the communicator hash comes after the name. */
typedef struct moeprof_nccl_profiler_v4 {
  const char* name;
  moeprof_nccl_result (*init)(void** context, int* activation_mask, const char* comm_name, uint64_t comm_hash,
                              int n_nodes, int n_ranks, int rank, moeprof_nccl_logger log);
  moeprof_nccl_result (*start_event)(void* context, void** handle, moeprof_nccl_event_v4* event);
  moeprof_nccl_result (*stop_event)(void* handle);
  moeprof_nccl_result (*record_event_state)(void* handle, int state, moeprof_nccl_state_args* args);
  moeprof_nccl_result (*finalize)(void* context);
} moeprof_nccl_profiler_v4;

/* The layout NCCL passes on LP64 (offsets worked out from NCCL's declarations). */
#if defined(__LP64__)
#ifdef __cplusplus
#define MOEPROF_NCCL_ASSERT static_assert
#else
#define MOEPROF_NCCL_ASSERT _Static_assert
#endif
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, parent_obj) == 8, "v5 parentObj");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, rank) == 16, "v5 rank");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, coll) == 24, "v5 union");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, coll.count) == 24 + 32, "v5 coll.count");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, coll.datatype) == 24 + 48, "v5 coll.datatype");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, coll.n_channels) == 24 + 56, "v5 coll.nChannels");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, coll.proto) == 24 + 72, "v5 coll.proto");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, coll.parent_group) == 24 + 80, "v5 coll.parentGroup");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, p2p.count) == 24 + 24, "v5 p2p.count");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, p2p.peer) == 24 + 32, "v5 p2p.peer");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, p2p.parent_group) == 24 + 40, "v5 p2p.parentGroup");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, coll_api.graph_captured) == 24 + 40, "v5 collApi");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, proxy_op.is_send) == 24 + 20, "v5 proxyOp");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v5, kernel_ch.p_timer) == 24 + 8, "v5 kernelCh");
MOEPROF_NCCL_ASSERT(sizeof(moeprof_nccl_event_v5) == 112, "v5 descriptor size");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v4, parent_obj) == 8, "v4 parentObj");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v4, rank) == 16, "v4 rank");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v4, coll.func) == 24 + 8, "v4 coll.func");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v4, coll.proto) == 24 + 72, "v4 coll.proto");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_event_v4, p2p.peer) == 24 + 32, "v4 p2p.peer");
MOEPROF_NCCL_ASSERT(sizeof(moeprof_nccl_event_v4) == 104, "v4 descriptor size");
MOEPROF_NCCL_ASSERT(sizeof(moeprof_nccl_state_args) == 8, "state args size");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_profiler_v5, finalize) == 40, "v5 table");
MOEPROF_NCCL_ASSERT(offsetof(moeprof_nccl_profiler_v4, finalize) == 40, "v4 table");
#undef MOEPROF_NCCL_ASSERT
#endif

#ifdef __cplusplus
}
#endif

#endif /* MOEPROF_NCCL_PROFILER_ABI_H */

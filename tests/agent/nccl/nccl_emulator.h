/* Drives a profiler plugin's tables with the event sequences NCCL issues, so the plugin can be
 * tested without NCCL or a GPU. Written from NCCL 2.28's sources (src/plugin/profiler.cc,
 * src/enqueue.cc, src/group.cc, src/plugin/profiler/profiler_v4.cc):
 *   - Version 5 (NCCL 2.28 loading ncclProfiler_v5): on the calling thread, the GroupApi event
 *     starts with the group's first operation, each operation has a P2pApi or CollApi event
 *     (started and stopped while it is enqueued), then at ncclGroupEnd the KernelLaunch event,
 *     then the kernel plan's Group event starts, every Coll/P2p event of the plan starts
 *     (parentObj: its API event, parentGroup: the Group), they all stop, the Group stops, and
 *     the GroupApi stops last. ncclAlltoAll is one send and one receive per rank, self included.
 *     Which of these NCCL issues follows the activation mask the way NCCL checks it.
 *   - Version 4 (NCCL 2.27, or 2.28 loading ncclProfiler_v4 through its shim): only the Group
 *     and Coll/P2p events; a Coll/P2p event's parentObj is the Group.
 *   - NCCL reports ncclAllGather and ncclBroadcast with the count in bytes and ncclInt8.
 *   - A collective (ncclAlltoAll included) with count 0 or on a one-rank communicator issues
 *     no event at all; ncclSend/ncclRecv always do.
 * The strings passed (function, datatype, algorithm) live in a buffer the emulator overwrites
 * right after each start call: a plugin must copy what it keeps. */
#ifndef MOEPROF_TESTS_NCCL_EMULATOR_H
#define MOEPROF_TESTS_NCCL_EMULATOR_H

#include <stddef.h>
#include <stdint.h>

#include "moeprof/nccl/profiler_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin call about to be made, for a hook that sets a test clock or step. */
typedef enum emu_call {
  EMU_GROUP_START,
  EMU_GROUP_STOP,
  EMU_COLL_START,
  EMU_COLL_STOP,
  EMU_P2P_START,
  EMU_P2P_STOP
} emu_call;
typedef void (*emu_hook)(void* user, emu_call call, int peer);

typedef struct nccl_emulator {
  int version; /* 5 or 4 */
  const moeprof_nccl_profiler_v5* v5;
  const moeprof_nccl_profiler_v4* v4;
  void* context;
  int mask;        /* what the plugin's init set (NCCL starts at 0) */
  int init_result; /* what init returned */
  uint64_t comm_hash;
  int nranks;
  int rank;
  uint64_t seq[16]; /* NCCL's per-function sequence numbers */
  unsigned long calls; /* start/stop/record calls made into the plugin */
  emu_hook hook;
  void* hook_user;
  char strings[4][32]; /* what the string arguments point to */
} nccl_emulator;

/* Loads a communicator: `table` is a moeprof_nccl_profiler_v5* (version 5) or _v4*. */
int emu_init(nccl_emulator* emu, int version, const void* table, uint64_t comm_hash, const char* comm_name, int nranks,
             int rank);
void emu_finalize(nccl_emulator* emu);

/* One operation of a group as the application issues it: ncclSend (send != 0) or ncclRecv. */
typedef struct emu_p2p {
  int send;
  int peer;
  size_t count;
} emu_p2p;

/* ncclGroupStart(); the operations; ncclGroupEnd(): all on this communicator. */
void emu_group_p2p(nccl_emulator* emu, const emu_p2p* ops, int n, const char* datatype);
/* ncclAlltoAll(count per rank, datatype). */
void emu_alltoall(nccl_emulator* emu, size_t count, const char* datatype);
/* One collective call (AllReduce, AllGather, ReduceScatter, Broadcast, Reduce, or an older
 * NCCL's "AllToAll"), its own group. */
void emu_collective(nccl_emulator* emu, const char* func, size_t count, const char* datatype, int root);

#ifdef __cplusplus
}
#endif

#endif

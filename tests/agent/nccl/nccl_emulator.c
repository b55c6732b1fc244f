#include "nccl_emulator.h"

#include <stdlib.h>
#include <string.h>

/* The event types whose presence in the mask makes NCCL 2.28 issue each event. */
enum {
  kTaskBelow = MOEPROF_NCCL_PROFILE_PROXY_OP | MOEPROF_NCCL_PROFILE_PROXY_STEP | MOEPROF_NCCL_PROFILE_KERNEL_CH |
               MOEPROF_NCCL_PROFILE_NET_PLUGIN,
  kGroupApiMask = MOEPROF_NCCL_PROFILE_GROUP_API | MOEPROF_NCCL_PROFILE_P2P_API | MOEPROF_NCCL_PROFILE_COLL_API |
                  MOEPROF_NCCL_PROFILE_KERNEL_LAUNCH | MOEPROF_NCCL_PROFILE_GROUP | MOEPROF_NCCL_PROFILE_COLL |
                  MOEPROF_NCCL_PROFILE_P2P | kTaskBelow,
  kP2pApiMask = MOEPROF_NCCL_PROFILE_P2P_API | MOEPROF_NCCL_PROFILE_P2P | kTaskBelow,
  kCollApiMask = MOEPROF_NCCL_PROFILE_COLL_API | MOEPROF_NCCL_PROFILE_COLL | kTaskBelow,
  kGroupMask = MOEPROF_NCCL_PROFILE_GROUP | MOEPROF_NCCL_PROFILE_COLL | MOEPROF_NCCL_PROFILE_P2P | kTaskBelow,
  kCollMask = MOEPROF_NCCL_PROFILE_COLL | kTaskBelow,
  kP2pMask = MOEPROF_NCCL_PROFILE_P2P | kTaskBelow
};

static void hook(nccl_emulator* emu, emu_call call, int peer) {
  if (emu->hook != NULL) emu->hook(emu->hook_user, call, peer);
}

/* A string argument in the emulator's buffer `slot`, overwritten by scribble(). */
static const char* arg(nccl_emulator* emu, int slot, const char* text) {
  strncpy(emu->strings[slot], text, sizeof emu->strings[slot] - 1);
  emu->strings[slot][sizeof emu->strings[slot] - 1] = '\0';
  return emu->strings[slot];
}

static void scribble(nccl_emulator* emu) {
  for (int i = 0; i < 4; ++i) memset(emu->strings[i], '#', sizeof emu->strings[i] - 1);
}

/* startEvent as NCCL makes it: the handle slot holds garbage until the plugin writes it. */
static void* start5(nccl_emulator* emu, moeprof_nccl_event_v5* e) {
  void* handle = (void*)(uintptr_t)0xbad;
  ++emu->calls;
  emu->v5->start_event(emu->context, &handle, e);
  scribble(emu);
  return handle;
}

static void* start4(nccl_emulator* emu, moeprof_nccl_event_v4* e) {
  void* handle = (void*)(uintptr_t)0xbad;
  ++emu->calls;
  emu->v4->start_event(emu->context, &handle, e);
  scribble(emu);
  return handle;
}

static void stop(nccl_emulator* emu, void* handle) {
  if (handle == NULL) return; /* NCCL never stops a null handle */
  ++emu->calls;
  if (emu->version == 5)
    emu->v5->stop_event(handle);
  else
    emu->v4->stop_event(handle);
}

static void record_state(nccl_emulator* emu, void* handle, int state) {
  if (handle == NULL || emu->version != 5) return;
  ++emu->calls;
  emu->v5->record_event_state(handle, state, NULL);
}

int emu_init(nccl_emulator* emu, int version, const void* table, uint64_t comm_hash, const char* comm_name, int nranks,
             int rank) {
  memset(emu, 0, sizeof *emu);
  emu->version = version;
  emu->comm_hash = comm_hash;
  emu->nranks = nranks;
  emu->rank = rank;
  if (version == 5) {
    emu->v5 = (const moeprof_nccl_profiler_v5*)table;
    emu->init_result = emu->v5->init(&emu->context, comm_hash, &emu->mask, comm_name, 1, nranks, rank, NULL);
  } else {
    emu->v4 = (const moeprof_nccl_profiler_v4*)table;
    emu->init_result = emu->v4->init(&emu->context, &emu->mask, comm_name, comm_hash, 1, nranks, rank, NULL);
  }
  /* NCCL carries on without the plugin for a communicator whose init failed. */
  if (emu->init_result != MOEPROF_NCCL_SUCCESS) emu->context = NULL;
  return emu->init_result;
}

void emu_finalize(nccl_emulator* emu) {
  if (emu->context == NULL) return;
  if (emu->version == 5)
    emu->v5->finalize(emu->context);
  else
    emu->v4->finalize(emu->context);
  emu->context = NULL;
}

/* A task of the kernel plan: what the API call left for the plan. */
typedef struct task {
  int coll; /* else P2P */
  int send;
  int peer; /* P2P: peer; collective: root */
  size_t count;
  const char* func;
  const char* datatype;
  void* api_handle;
  void* handle;
} task;

static int func_index(const char* func) {
  static const char* const kFuncs[] = {"Broadcast", "Reduce", "AllGather", "ReduceScatter", "AllReduce", "AllToAll"};
  for (int i = 0; i < 6; ++i)
    if (strcmp(func, kFuncs[i]) == 0) return i;
  return 15;
}

/* The GroupApi event of a group: NCCL starts it once, with the group's first call, whatever
 * handle the plugin gives it. */
typedef struct group_api {
  int started;
  void* handle;
} group_api;

/* The API phase of one call in a group. */
static void api_event(nccl_emulator* emu, group_api* group, task* t) {
  if (emu->context == NULL || emu->version != 5) return;
  if (!group->started && (emu->mask & kGroupApiMask)) {
    moeprof_nccl_event_v5 e;
    memset(&e, 0, sizeof e);
    e.type = MOEPROF_NCCL_PROFILE_GROUP_API;
    e.group_api.group_depth = 1;
    group->started = 1;
    group->handle = start5(emu, &e);
    record_state(emu, group->handle, MOEPROF_NCCL_STATE_GROUP_START_API_STOP);
  }
  moeprof_nccl_event_v5 e;
  memset(&e, 0, sizeof e);
  e.parent_obj = group->handle;
  if (t->coll) {
    if (!(emu->mask & kCollApiMask)) return;
    e.type = MOEPROF_NCCL_PROFILE_COLL_API;
    e.coll_api.func = arg(emu, 0, t->func);
    e.coll_api.count = t->count;
    e.coll_api.datatype = arg(emu, 1, t->datatype);
    e.coll_api.root = t->peer;
  } else {
    if (!(emu->mask & kP2pApiMask)) return;
    e.type = MOEPROF_NCCL_PROFILE_P2P_API;
    e.p2p_api.func = arg(emu, 0, t->send ? "Send" : "Recv");
    e.p2p_api.count = t->count;
    e.p2p_api.datatype = arg(emu, 1, t->datatype);
  }
  t->api_handle = start5(emu, &e);
  stop(emu, t->api_handle);
}

static void start_task(nccl_emulator* emu, task* t, void* group) {
  t->handle = NULL;
  if (!(emu->mask & (t->coll ? kCollMask : kP2pMask))) return;
  hook(emu, t->coll ? EMU_COLL_START : EMU_P2P_START, t->peer);
  if (emu->version == 5) {
    moeprof_nccl_event_v5 e;
    memset(&e, 0, sizeof e);
    e.parent_obj = t->api_handle;
    e.rank = emu->rank;
    if (t->coll) {
      e.type = MOEPROF_NCCL_PROFILE_COLL;
      e.coll.seq_number = emu->seq[func_index(t->func)];
      e.coll.func = arg(emu, 0, t->func);
      e.coll.count = t->count;
      e.coll.root = t->peer;
      e.coll.datatype = arg(emu, 1, t->datatype);
      e.coll.n_channels = 2;
      e.coll.n_warps = 16;
      e.coll.algo = arg(emu, 2, "RING");
      e.coll.proto = arg(emu, 3, "SIMPLE");
      e.coll.parent_group = group;
    } else {
      e.type = MOEPROF_NCCL_PROFILE_P2P;
      e.p2p.func = arg(emu, 0, t->send ? "Send" : "Recv");
      e.p2p.count = t->count;
      e.p2p.datatype = arg(emu, 1, t->datatype);
      e.p2p.peer = t->peer;
      e.p2p.n_channels = 1;
      e.p2p.parent_group = group;
    }
    t->handle = start5(emu, &e);
  } else {
    moeprof_nccl_event_v4 e;
    memset(&e, 0, sizeof e);
    e.parent_obj = group;
    e.rank = emu->rank;
    if (t->coll) {
      e.type = MOEPROF_NCCL_PROFILE_COLL;
      e.coll.seq_number = emu->seq[func_index(t->func)];
      e.coll.func = arg(emu, 0, t->func);
      e.coll.count = t->count;
      e.coll.root = t->peer;
      e.coll.datatype = arg(emu, 1, t->datatype);
      e.coll.n_channels = 2;
      e.coll.algo = arg(emu, 2, "RING");
      e.coll.proto = arg(emu, 3, "SIMPLE");
    } else {
      e.type = MOEPROF_NCCL_PROFILE_P2P;
      e.p2p.func = arg(emu, 0, t->send ? "Send" : "Recv");
      e.p2p.count = t->count;
      e.p2p.datatype = arg(emu, 1, t->datatype);
      e.p2p.peer = t->peer;
    }
    t->handle = start4(emu, &e);
  }
}

/* ncclGroupEnd: the plan's events, then the GroupApi's stop. */
static void launch(nccl_emulator* emu, task* tasks, int n, void* group_api) {
  if (emu->context != NULL) {
    record_state(emu, group_api, MOEPROF_NCCL_STATE_GROUP_END_API_START);
    if (emu->version == 5 && (emu->mask & MOEPROF_NCCL_PROFILE_KERNEL_LAUNCH)) {
      moeprof_nccl_event_v5 e;
      memset(&e, 0, sizeof e);
      e.type = MOEPROF_NCCL_PROFILE_KERNEL_LAUNCH;
      e.parent_obj = group_api;
      stop(emu, start5(emu, &e));
    }
    void* group = NULL;
    if (emu->mask & kGroupMask) {
      hook(emu, EMU_GROUP_START, -1);
      if (emu->version == 5) {
        moeprof_nccl_event_v5 e;
        memset(&e, 0, sizeof e);
        e.type = MOEPROF_NCCL_PROFILE_GROUP;
        group = start5(emu, &e);
      } else {
        moeprof_nccl_event_v4 e;
        memset(&e, 0, sizeof e);
        e.type = MOEPROF_NCCL_PROFILE_GROUP;
        group = start4(emu, &e);
      }
    }
    for (int i = 0; i < n; ++i) start_task(emu, &tasks[i], group);
    for (int i = 0; i < n; ++i) {
      if (tasks[i].handle == NULL) continue;
      hook(emu, tasks[i].coll ? EMU_COLL_STOP : EMU_P2P_STOP, tasks[i].peer);
      stop(emu, tasks[i].handle);
    }
    if (group != NULL) {
      hook(emu, EMU_GROUP_STOP, -1);
      stop(emu, group);
    }
    stop(emu, group_api);
  }
  for (int i = 0; i < n; ++i)
    if (tasks[i].coll) ++emu->seq[func_index(tasks[i].func)];
}

void emu_group_p2p(nccl_emulator* emu, const emu_p2p* ops, int n, const char* datatype) {
  task* tasks = (task*)calloc((size_t)(n > 0 ? n : 1), sizeof *tasks);
  if (tasks == NULL) abort();
  group_api group = {0, NULL};
  for (int i = 0; i < n; ++i) {
    tasks[i].send = ops[i].send;
    tasks[i].peer = ops[i].peer;
    tasks[i].count = ops[i].count;
    tasks[i].datatype = datatype;
    api_event(emu, &group, &tasks[i]);
  }
  /* The plan holds the P2P tasks by rounds: in round r, the send to rank+r, then the
   * receive from rank-r. */
  task* plan = (task*)calloc((size_t)(n > 0 ? n : 1), sizeof *plan);
  if (plan == NULL) abort();
  int planned = 0;
  for (int round = 0; round < emu->nranks; ++round) {
    const int send_peer = (emu->rank + round) % emu->nranks;
    const int recv_peer = (emu->rank - round + emu->nranks) % emu->nranks;
    for (int i = 0; i < n; ++i)
      if (tasks[i].send && tasks[i].peer == send_peer) plan[planned++] = tasks[i];
    for (int i = 0; i < n; ++i)
      if (!tasks[i].send && tasks[i].peer == recv_peer) plan[planned++] = tasks[i];
  }
  launch(emu, plan, planned, group.handle);
  free(plan);
  free(tasks);
}

/* taskAppend: NCCL drops an empty collective, and runs one on a single rank as a copy, before
 * any profiler event. */
static int collective_has_events(const nccl_emulator* emu, size_t count) { return count > 0 && emu->nranks > 1; }

void emu_alltoall(nccl_emulator* emu, size_t count, const char* datatype) {
  if (!collective_has_events(emu, count)) return;
  emu_p2p* ops = (emu_p2p*)calloc((size_t)emu->nranks * 2, sizeof *ops);
  if (ops == NULL) abort();
  for (int r = 0; r < emu->nranks; ++r) {
    ops[2 * r] = (emu_p2p){1, r, count};
    ops[2 * r + 1] = (emu_p2p){0, r, count};
  }
  emu_group_p2p(emu, ops, emu->nranks * 2, datatype);
  free(ops);
}

static size_t size_of(const char* datatype) {
  if (strstr(datatype, "64") != NULL) return 8;
  if (strstr(datatype, "32") != NULL) return 4;
  if (strstr(datatype, "16") != NULL) return 2;
  return 1;
}

void emu_collective(nccl_emulator* emu, const char* func, size_t count, const char* datatype, int root) {
  if (!collective_has_events(emu, count)) return;
  task t;
  memset(&t, 0, sizeof t);
  t.coll = 1;
  t.func = func;
  t.peer = root;
  t.count = count;
  t.datatype = datatype;
  group_api group = {0, NULL};
  api_event(emu, &group, &t);
  /* collTaskAppend, after the CollApi event: AllGather and Broadcast tasks count bytes. */
  if (strcmp(func, "AllGather") == 0 || strcmp(func, "Broadcast") == 0) {
    t.count = count * size_of(datatype);
    t.datatype = "ncclInt8";
  }
  launch(emu, &t, 1, group.handle);
}

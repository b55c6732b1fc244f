/* A stand-in for an NCCL program (no GPU, no NCCL): it loads the profiler plugin that
 * NCCL_PROFILER_PLUGIN names the way NCCL does (dlopen, then the ncclProfiler_v5 or _v4 table)
 * and issues the plugin calls NCCL 2.28 makes for its operations (nccl_emulator.h), as rank
 * RANK of a communicator of NRANKS: all-to-alls (ncclAlltoAll and grouped send/recv with
 * uneven counts, steps 10..15), one all-to-all inside an engine-reported one (step 16), an
 * AllReduce and an AllGather (step 20) and a pipeline send/receive pair (step 21).
 * It writes its ground truth, computed from its own counts and element sizes:
 *   DIR/nccl_a2a.rank<R>.csv     rank,step,layer,phase,peer,send_bytes,recv_bytes
 *   DIR/nccl_ranges.rank<R>.csv  rank,step,name,peer,bytes
 * Steps and the engine's all-to-all go through the agent's C ABI when the agent is in the
 * process (`moeprof run` preloads it); without NCCL_PROFILER_PLUGIN it records nothing.
 * usage: nccl_plugin_workload DIR RANK NRANKS [v5|v4] */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moeprof/moeprof.h"
#include "nccl_emulator.h"

static FILE* a2a_truth;
static FILE* range_truth;
static int rank, nranks;

typedef void (*step_begin_fn)(int64_t);
typedef moeprof_span (*a2a_begin_fn)(int32_t, moeprof_phase);
typedef void (*a2a_end_fn)(moeprof_span, const moeprof_peer_bytes*);

/* Elements rank r sends to peer p in grouped all-to-all k: uneven, never zero. */
static size_t uneven(int k, int r, int p) { return (size_t)(((k + 1) * (r + 2) * (p + 3) * 37) % 997 + 1); }

static FILE* open_truth(const char* dir, const char* name, const char* header) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.rank%d.csv", dir, name, rank);
  FILE* f = fopen(path, "w");
  if (f == NULL) {
    perror(path);
    exit(1);
  }
  fprintf(f, "%s\n", header);
  return f;
}

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: nccl_plugin_workload DIR RANK NRANKS [v5|v4]\n");
    return 2;
  }
  rank = atoi(argv[2]);
  nranks = atoi(argv[3]);
  const int version = argc == 5 && strcmp(argv[4], "v4") == 0 ? 4 : 5;
  if (nranks < 1 || nranks > 64 || rank < 0 || rank >= nranks) {
    fprintf(stderr, "nccl_plugin_workload: bad RANK %s or NRANKS %s\n", argv[2], argv[3]);
    return 2;
  }
  a2a_truth = open_truth(argv[1], "nccl_a2a", "rank,step,layer,phase,peer,send_bytes,recv_bytes");
  range_truth = open_truth(argv[1], "nccl_ranges", "rank,step,name,peer,bytes");

  const char* plugin = getenv("NCCL_PROFILER_PLUGIN");
  if (plugin == NULL || *plugin == '\0') {
    printf("rank %d: NCCL_PROFILER_PLUGIN is not set: no profiler\n", rank);
    return 0;
  }
  void* library = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "nccl_plugin_workload: %s\n", dlerror());
    return 1;
  }
  const void* table = dlsym(library, version == 5 ? "ncclProfiler_v5" : "ncclProfiler_v4");
  if (table == NULL) {
    fprintf(stderr, "nccl_plugin_workload: %s has no ncclProfiler_v%d\n", plugin, version);
    return 1;
  }
  step_begin_fn step_begin = (step_begin_fn)dlsym(RTLD_DEFAULT, "moeprof_step_begin");
  a2a_begin_fn a2a_begin = (a2a_begin_fn)dlsym(RTLD_DEFAULT, "moeprof_all_to_all_begin");
  a2a_end_fn a2a_end = (a2a_end_fn)dlsym(RTLD_DEFAULT, "moeprof_all_to_all_end");
  if (step_begin == NULL || a2a_begin == NULL || a2a_end == NULL) {
    fprintf(stderr, "nccl_plugin_workload: the moeprof agent is not in this process\n");
    return 1;
  }

  nccl_emulator emu;
  if (emu_init(&emu, version, table, 0x5eed5eedull, "moe-ep", nranks, rank) != MOEPROF_NCCL_SUCCESS) {
    printf("rank %d: the profiler plugin's init failed: NCCL would carry on without it\n", rank);
    return 0;
  }

  /* All-to-alls: even ones as ncclAlltoAll (float32), odd ones as send/recv loops (bf16). */
  for (int k = 0; k < 6; ++k) {
    const int64_t step = 10 + k;
    step_begin(step);
    if (k % 2 == 0) {
      const size_t count = 256 * (size_t)(k + 1);
      emu_alltoall(&emu, count, "ncclFloat32");
      for (int p = 0; p < nranks; ++p)
        fprintf(a2a_truth, "%d,%lld,-1,other,%d,%zu,%zu\n", rank, (long long)step, p, count * 4, count * 4);
    } else {
      emu_p2p ops[128];
      for (int p = 0; p < nranks; ++p) {
        ops[2 * p] = (emu_p2p){1, p, uneven(k, rank, p)};
        ops[2 * p + 1] = (emu_p2p){0, p, uneven(k, p, rank)};
        fprintf(a2a_truth, "%d,%lld,-1,other,%d,%zu,%zu\n", rank, (long long)step, p, uneven(k, rank, p) * 2,
                uneven(k, p, rank) * 2);
      }
      emu_group_p2p(&emu, ops, 2 * nranks, "ncclBfloat16");
    }
  }

  /* The engine reports this one itself (layer 3, dispatch): NCCL's view of it stays out. */
  step_begin(16);
  const moeprof_span span = a2a_begin(3, MOEPROF_PHASE_DISPATCH);
  emu_alltoall(&emu, 64, "ncclFloat32");
  uint64_t bytes[64];
  for (int p = 0; p < nranks; ++p) {
    bytes[p] = 64 * 4;
    fprintf(a2a_truth, "%d,16,3,dispatch,%d,256,256\n", rank, p);
  }
  const moeprof_peer_bytes engine_bytes = {sizeof engine_bytes, (uint32_t)nranks, NULL, bytes, bytes};
  a2a_end(span, &engine_bytes);

  step_begin(20);
  emu_collective(&emu, "AllReduce", 1 << 20, "ncclFloat32", 0);
  fprintf(range_truth, "%d,20,AllReduce,-1,%d\n", rank, (1 << 20) * 4);
  emu_collective(&emu, "AllGather", 1000, "ncclBfloat16", 0);
  fprintf(range_truth, "%d,20,AllGather,-1,2000\n", rank);

  /* A pipeline stage: send to the next rank, receive from the previous one. */
  step_begin(21);
  const emu_p2p pair[2] = {{1, (rank + 1) % nranks, 512}, {0, (rank + nranks - 1) % nranks, 768}};
  emu_group_p2p(&emu, pair, 2, "ncclBfloat16");
  fprintf(range_truth, "%d,21,Send,%d,1024\n", rank, pair[0].peer);
  fprintf(range_truth, "%d,21,Recv,%d,1536\n", rank, pair[1].peer);

  emu_finalize(&emu);
  dlclose(library);
  fclose(a2a_truth);
  fclose(range_truth);
  printf("rank %d: done\n", rank);
  return 0;
}

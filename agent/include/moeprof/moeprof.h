/* moeprof agent C ABI, version 2 (2 added moeprof_source_all_to_all_begin).
 *
 * Engines report MoE events through these calls; the agent (libmoeprof_agent.so) buffers them
 * in per-thread lock-free rings and a flusher thread streams them to the collector started by
 * `moeprof run`. Rules of this ABI:
 *   - Every struct starts with `struct_size`; fields are only ever appended, so an older caller
 *     passing a shorter struct keeps working (missing fields read as their defaults).
 *   - Every entry point is a cheap no-op when the agent is disabled, not initialised, or given
 *     NULL; only moeprof_init() reports an error. Nothing here ever throws or blocks on I/O.
 *   - Timestamps are taken by the agent (CLOCK_MONOTONIC nanoseconds in the trace).
 *   - `step` is process-wide: moeprof_step_begin(s) stamps s on every later record.
 */
#ifndef MOEPROF_MOEPROF_H
#define MOEPROF_MOEPROF_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOEPROF_API_VERSION 2

#if defined(MOEPROF_BUILDING_AGENT)
#define MOEPROF_EXPORT __attribute__((visibility("default")))
#else
#define MOEPROF_EXPORT
#endif

typedef enum moeprof_status {
  MOEPROF_OK = 0,
  MOEPROF_ERROR_INVALID_ARGUMENT = 1, /* bad options struct or unknown routing mode */
  MOEPROF_ERROR_VERSION = 2,          /* caller needs a newer agent */
  MOEPROF_ERROR_NO_COLLECTOR = 3,     /* no collector socket: the agent stays disabled */
  MOEPROF_ERROR_DISABLED = 4          /* MOEPROF_DISABLE is set */
} moeprof_status;

typedef enum moeprof_routing_mode {
  MOEPROF_ROUTING_OFF = 0,    /* router decisions are not recorded */
  MOEPROF_ROUTING_SAMPLE = 1, /* recorded on every Nth step (step % N == 0) */
  MOEPROF_ROUTING_FULL = 2    /* recorded on every step */
} moeprof_routing_mode;

typedef enum moeprof_phase {
  MOEPROF_PHASE_DISPATCH = 0,
  MOEPROF_PHASE_COMBINE = 1,
  MOEPROF_PHASE_OTHER = 2
} moeprof_phase;

typedef enum moeprof_compute_kind {
  MOEPROF_COMPUTE_GATE = 0,
  MOEPROF_COMPUTE_EXPERT = 1,
  MOEPROF_COMPUTE_SHARED_EXPERT = 2,
  MOEPROF_COMPUTE_ATTENTION = 3,
  MOEPROF_COMPUTE_OTHER = 4
} moeprof_compute_kind;

/* Options for moeprof_init(); NULL means "everything from the environment" (MOEPROF_SOCKET,
 * MOEPROF_ROUTING, ...), which is what `moeprof run` sets up. */
typedef struct moeprof_init_options {
  uint32_t struct_size;     /* sizeof(moeprof_init_options) */
  uint32_t api_version;     /* MOEPROF_API_VERSION the caller was built with */
  const char* socket_path;  /* NULL: $MOEPROF_SOCKET */
  int32_t routing_mode;     /* moeprof_routing_mode, or -1 for $MOEPROF_ROUTING */
  uint32_t routing_sample_every; /* N for MOEPROF_ROUTING_SAMPLE */
} moeprof_init_options;

/* Idempotent; also runs automatically when the agent is preloaded by `moeprof run`. */
MOEPROF_EXPORT moeprof_status moeprof_init(const moeprof_init_options* options);
/* Flushes everything and disconnects; later calls are no-ops until moeprof_init(). */
MOEPROF_EXPORT void moeprof_shutdown(void);
/* 1 when events are being recorded. */
MOEPROF_EXPORT int moeprof_enabled(void);
/* Sends what is buffered now (normally done every flush interval and at exit). */
MOEPROF_EXPORT void moeprof_flush(void);

typedef struct moeprof_topology {
  uint32_t struct_size;        /* sizeof(moeprof_topology) */
  int32_t rank;                /* global rank of this process */
  int32_t local_rank;
  int32_t world_size;
  int32_t ep_size;             /* expert-parallel group size */
  int32_t num_layers;          /* MoE layers */
  int32_t num_experts;         /* routed experts per layer */
  int32_t top_k;
  int32_t num_shared_experts;
  int32_t hidden_size;
  const char* model_name;      /* may be NULL */
} moeprof_topology;

MOEPROF_EXPORT void moeprof_set_topology(const moeprof_topology* topology);

/* Placement of one layer as slots: slot i holds expert slot_expert[i] on rank slot_rank[i].
 * An expert listed in several slots is replicated. */
MOEPROF_EXPORT void moeprof_set_placement(int32_t layer, uint32_t num_slots, const int32_t* slot_expert,
                                          const int32_t* slot_rank);

MOEPROF_EXPORT void moeprof_step_begin(int64_t step);
MOEPROF_EXPORT void moeprof_step_end(int64_t step);

/* Tokens this rank routed to each expert of `layer` in the current step. Several calls for
 * the same (step, layer) add up (e.g. one per micro-batch or chunk). */
MOEPROF_EXPORT void moeprof_expert_counts(int32_t layer, uint32_t num_experts, const uint32_t* counts);

/* Tokens of this rank that `layer`'s experts dropped in the current step because they were
 * over capacity (capacity factor). Several calls for the same (step, layer) add up. */
MOEPROF_EXPORT void moeprof_expert_drops(int32_t layer, uint32_t num_experts, const uint32_t* dropped);

/* 1 when router decisions of the current step would be recorded (lets engines skip work). */
MOEPROF_EXPORT int moeprof_routing_wanted(void);
/* Top-k expert ids and gate weights (token-major: token t's choices at [t*top_k, (t+1)*top_k)).
 * token_offset numbers the first token of this batch within (step, layer). gate_weights may
 * be NULL. Honours the routing mode; a batch larger than a ring is dropped and counted. */
MOEPROF_EXPORT void moeprof_router_decisions(int32_t layer, uint32_t token_offset, uint32_t num_tokens,
                                             uint32_t top_k, const int32_t* expert_ids,
                                             const float* gate_weights);

/* A span in flight: returned by a *_begin call, handed back to the matching *_end call.
 * Opaque; copy it freely. */
typedef struct moeprof_span {
  uint64_t opaque[2];
} moeprof_span;

/* Bytes this rank sent to / received from each peer in one all-to-all. */
typedef struct moeprof_peer_bytes {
  uint32_t struct_size;        /* sizeof(moeprof_peer_bytes) */
  uint32_t num_peers;
  const int32_t* peers;        /* global ranks; NULL means peers 0 .. num_peers-1 */
  const uint64_t* send_bytes;  /* num_peers entries */
  const uint64_t* recv_bytes;  /* num_peers entries */
} moeprof_peer_bytes;

MOEPROF_EXPORT moeprof_span moeprof_all_to_all_begin(int32_t layer, moeprof_phase phase);
MOEPROF_EXPORT void moeprof_all_to_all_end(moeprof_span span, const moeprof_peer_bytes* bytes);

/* Where an event was seen: the engine's own calls (api) or a capture adapter. Values only
 * grow at the end (they are the trace's source numbers). */
typedef enum moeprof_source {
  MOEPROF_SOURCE_API = 0,
  MOEPROF_SOURCE_MPI = 1,
  MOEPROF_SOURCE_NCCL = 2,
  MOEPROF_SOURCE_NVTX = 3,
  MOEPROF_SOURCE_CUPTI = 4,
  MOEPROF_SOURCE_PYTHON = 5
} moeprof_source;

/* For capture adapters (API version 2): an all-to-all seen by `source` (layer -1 when the
 * adapter cannot know it), ended with moeprof_all_to_all_end. While the calling thread is
 * inside an all-to-all the engine reported itself (moeprof_all_to_all_begin ... _end on
 * this thread), this returns a null span and nothing is recorded: the engine's record, with
 * its layer and phase, already holds those bytes, and a second record would count them twice. */
MOEPROF_EXPORT moeprof_span moeprof_source_all_to_all_begin(moeprof_source source, int32_t layer, moeprof_phase phase);

MOEPROF_EXPORT moeprof_span moeprof_compute_begin(int32_t layer, moeprof_compute_kind kind);
MOEPROF_EXPORT void moeprof_compute_end(moeprof_span span);

/* An instant event; the name is copied (at most 255 bytes are kept). */
MOEPROF_EXPORT void moeprof_marker(const char* name);

typedef struct moeprof_stats {
  uint32_t struct_size;        /* sizeof(moeprof_stats) */
  uint64_t records_written;    /* records accepted into rings */
  uint64_t records_dropped;    /* records dropped (full ring, no ring, too large, send failed) */
  uint64_t frames_sent;
} moeprof_stats;

/* Fills `stats` (up to stats->struct_size bytes). */
MOEPROF_EXPORT void moeprof_get_stats(moeprof_stats* stats);

#ifdef __cplusplus
}
#endif

#endif /* MOEPROF_MOEPROF_H */

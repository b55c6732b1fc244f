/* moeprof agent C ABI, version 3 (2 added moeprof_source_all_to_all_begin; 3 the whole-event
 * records of capture adapters: moeprof_now_ns ... moeprof_count_drops).
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

#define MOEPROF_API_VERSION 3

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

/* ---- Whole events from capture adapters (API version 3) ---------------------------------
 * Adapters that see an event only once it is over (NVTX ranges, NCCL's profiler events,
 * CUPTI activity records) report it whole, with times they took from moeprof_now_ns() (or
 * converted to its clock). Each call copies what it needs; strings longer than the limits
 * below are cut; a struct shorter than its fields up to `source` is ignored. */

/* CLOCK_MONOTONIC nanoseconds: the clock of every time in the trace. */
MOEPROF_EXPORT int64_t moeprof_now_ns(void);
/* The step moeprof_step_begin last set (0 before the first). */
MOEPROF_EXPORT int64_t moeprof_current_step(void);
/* 1 while the calling thread is inside an all-to-all the engine reports itself
 * (moeprof_all_to_all_begin .. _end): an adapter that sees the same transfer stays out. */
MOEPROF_EXPORT int moeprof_in_engine_all_to_all(void);

/* A `step` field's value meaning "the step current when the record call is made". */
#define MOEPROF_STEP_CURRENT INT64_MIN
#define MOEPROF_MAX_NAME_BYTES 1023u     /* names and domains kept per record */
#define MOEPROF_MAX_PAYLOAD_BYTES 8191u  /* payload text kept per range */

typedef struct moeprof_all_to_all_event {
  uint32_t struct_size;        /* sizeof(moeprof_all_to_all_event) */
  int32_t source;              /* moeprof_source; not MOEPROF_SOURCE_API */
  int64_t start_ns;            /* moeprof_now_ns() clock */
  int64_t end_ns;
  int64_t step;                /* or MOEPROF_STEP_CURRENT */
  int32_t layer;               /* -1: unknown */
  int32_t phase;               /* moeprof_phase */
  uint32_t tid;                /* thread that issued it; 0: the calling thread */
  uint32_t reserved;
  const moeprof_peer_bytes* bytes; /* may be NULL (no peers known) */
} moeprof_all_to_all_event;

MOEPROF_EXPORT void moeprof_record_all_to_all(const moeprof_all_to_all_event* event);

typedef struct moeprof_compute_event {
  uint32_t struct_size;        /* sizeof(moeprof_compute_event) */
  int32_t source;              /* moeprof_source */
  int64_t start_ns;
  int64_t end_ns;
  int64_t step;                /* or MOEPROF_STEP_CURRENT */
  int32_t layer;               /* -1: unknown */
  int32_t kind;                /* moeprof_compute_kind */
  uint32_t tid;                /* 0: the calling thread */
  uint32_t reserved;
  const char* name;            /* may be NULL */
} moeprof_compute_event;

MOEPROF_EXPORT void moeprof_record_compute(const moeprof_compute_event* event);

typedef enum moeprof_range_kind {
  MOEPROF_RANGE_PUSH_POP = 0,  /* nested on one thread (nvtxRangePush/Pop) */
  MOEPROF_RANGE_START_END = 1, /* may end on another thread (nvtxRangeStart/End) */
  MOEPROF_RANGE_MARK = 2,      /* an instant: end_ns == start_ns (nvtxMark) */
  MOEPROF_RANGE_CATEGORY_NAME = 3 /* not an event: `name` names category `category` of `domain`
                                     from start_ns on (nvtxNameCategory) */
} moeprof_range_kind;

/* A MOEPROF_RANGE_MARK in this domain is a note to the user from an adapter (a model it could
 * not read, a hook that turned itself off): its name is the text; `moeprof info` lists them. */
#define MOEPROF_NOTE_DOMAIN "moeprof.note"

/* A generic annotated range or instant (NVTX), kept as it is in the trace's range table. */
typedef struct moeprof_range {
  uint32_t struct_size;        /* sizeof(moeprof_range) */
  int32_t source;              /* moeprof_source */
  int64_t start_ns;
  int64_t end_ns;
  int64_t step;                /* or MOEPROF_STEP_CURRENT */
  uint32_t tid;                /* thread that opened it; 0: the calling thread */
  int32_t kind;                /* moeprof_range_kind */
  uint32_t category;           /* 0: none */
  uint32_t color;              /* 0xAARRGGBB; 0: none */
  const char* domain;          /* NULL or "": the default domain */
  const char* name;            /* may be NULL */
  const char* payload;         /* NULL, or the payload as JSON text (a number, a string, an object) */
} moeprof_range;

MOEPROF_EXPORT void moeprof_record_range(const moeprof_range* range);

/* One GPU kernel execution (CUPTI kernel activity). */
typedef struct moeprof_gpu_kernel {
  uint32_t struct_size;        /* sizeof(moeprof_gpu_kernel) */
  uint32_t device;
  int64_t start_ns;            /* on the moeprof_now_ns() clock */
  int64_t end_ns;
  int64_t step;                /* step of its launch, or MOEPROF_STEP_CURRENT */
  int64_t launch_ns;           /* start of the runtime/driver call that launched it; 0: unknown */
  uint32_t launch_tid;         /* that call's thread; 0: unknown */
  uint32_t stream;
  uint32_t correlation_id;     /* CUPTI's: the same number as that call's */
  int32_t layer;               /* -1: unknown */
  int32_t compute_kind;        /* moeprof_compute_kind it counts as; -1: none. A kernel with a
                                  kind is also a compute span (source cupti) of its layer */
  uint32_t grid[3];
  uint32_t block[3];
  const char* name;            /* may be NULL */
} moeprof_gpu_kernel;

MOEPROF_EXPORT void moeprof_record_gpu_kernel(const moeprof_gpu_kernel* kernel);

/* moeprof_expert_counts and moeprof_router_decisions as seen by a capture adapter (an NVTX
 * payload in the moeprof domain, say): the same records, counted under `source`. */
MOEPROF_EXPORT void moeprof_source_expert_counts(moeprof_source source, int32_t layer, uint32_t num_experts,
                                                 const uint32_t* counts);
MOEPROF_EXPORT void moeprof_source_router_decisions(moeprof_source source, int32_t layer, uint32_t token_offset,
                                                    uint32_t num_tokens, uint32_t top_k, const int32_t* expert_ids,
                                                    const float* gate_weights);

/* Events an adapter had to drop itself (its own fixed pool was full): counted in the trace's
 * drops under `source`, so that loss is never silent. */
MOEPROF_EXPORT void moeprof_count_drops(moeprof_source source, uint64_t count);

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

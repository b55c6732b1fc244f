-- moeprof trace schema, version 4. The one source of truth: embedded into every binary at
-- build time, executed by the store writer, checked by the reader (PRAGMA user_version).
-- Times are int64 nanoseconds on the recording host's CLOCK_MONOTONIC unless named *_realtime_ns.
-- Enumerations stored as integers are those of schemas/include/moeprof/wire/records.h
-- (phase: 0 dispatch, 1 combine, 2 other; kind: 0 gate, 1 expert, 2 shared_expert,
-- 3 attention, 4 other; source: 0 api, 1 mpi, 2 nccl, 3 nvtx, 4 cupti, 5 python, 6 agent).
-- Tables only grow: new columns and tables come with a new user_version.

PRAGMA user_version = 4;

-- Identifies the file as a moeprof trace: format = 'moeprof-trace'. Also (version 3, written
-- as events arrive) 'capture_sources': a bit mask, bit s set when an event of source s (the
-- numbering above) was written; GPU kernels count as cupti.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row: the run `moeprof run` recorded.
CREATE TABLE run (
  id                INTEGER PRIMARY KEY CHECK (id = 1),
  command           TEXT NOT NULL,
  host              TEXT NOT NULL,
  moeprof_version   TEXT NOT NULL,
  routing_mode      TEXT NOT NULL,
  start_realtime_ns INTEGER NOT NULL,
  end_realtime_ns   INTEGER,
  exit_code         INTEGER,
  finalized         INTEGER NOT NULL DEFAULT 0
);

-- One row per agent stream (a process; a forked child gets its own).
CREATE TABLE process (
  id            INTEGER PRIMARY KEY,
  pid           INTEGER NOT NULL,
  ppid          INTEGER NOT NULL,
  host          TEXT NOT NULL,
  command       TEXT NOT NULL,
  rank          INTEGER NOT NULL,
  local_rank    INTEGER NOT NULL,
  world_size    INTEGER NOT NULL,
  ep_size       INTEGER NOT NULL,
  realtime_ns   INTEGER NOT NULL,   -- clock pair read together at agent start
  monotonic_ns  INTEGER NOT NULL,
  end_ns        INTEGER NOT NULL,
  agent_version INTEGER NOT NULL,
  clean_exit    INTEGER NOT NULL    -- 1: the stream ended with Goodbye
);

-- Model shape as the engine reported it (one row: the first process to report one, as it last
-- reported it; adapters that discover layers one by one report a growing shape).
CREATE TABLE model (
  id                 INTEGER PRIMARY KEY CHECK (id = 1),
  name               TEXT NOT NULL,
  num_layers         INTEGER NOT NULL,
  num_experts        INTEGER NOT NULL,
  top_k              INTEGER NOT NULL,
  num_shared_experts INTEGER NOT NULL,
  hidden_size        INTEGER NOT NULL
);

-- Expert placement per layer: slot i holds `expert` on `rank`; replicas are repeated experts.
-- Key columns come first: SQLite 3.40's integrity_check reports false "NULL value" errors
-- for WITHOUT ROWID tables whose last column is a key column.
CREATE TABLE placement (
  reported_by   INTEGER NOT NULL,   -- rank that reported it
  layer         INTEGER NOT NULL,
  slot          INTEGER NOT NULL,
  expert        INTEGER NOT NULL,
  rank          INTEGER NOT NULL,
  PRIMARY KEY (reported_by, layer, slot)
) WITHOUT ROWID;

CREATE TABLE step (
  rank     INTEGER NOT NULL,
  step     INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns   INTEGER NOT NULL
);
CREATE INDEX step_by_rank ON step (rank, step);

-- Chunks. The high-rate tables (expert load and drops, all-to-alls, compute spans) hold many
-- events per row: one SQLite row per event caps ingest near 0.5 M events/s, a chunk row costs
-- the same and carries hundreds. `entries` is the number of events in a chunk; the entry
-- encodings are specified here and implemented once, in collector/store/src/chunk_codec.h.
-- Readers go through the store's Reader, which unpacks chunks and filters their entries.

-- Token count of every expert, one chunk per (rank, step) (a step's stragglers may add
-- another). `counts` holds `entries` entries: zigzag varint layer, then the counts encoding
-- of wire/codec.h (varint n, varint base, zigzag deltas: ~1 byte per expert). A (rank, step,
-- layer) may appear in several entries (micro-batches, chunks): readers add them up.
CREATE TABLE expert_load (
  rank    INTEGER NOT NULL,
  step    INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  tokens  INTEGER NOT NULL,    -- sum of all counts of all entries
  counts  BLOB NOT NULL
);
CREATE INDEX expert_load_by_step ON expert_load (step);

-- Tokens per expert dropped because the expert was over capacity; same layout and summing
-- rule as expert_load.
CREATE TABLE expert_drops (
  rank    INTEGER NOT NULL,
  step    INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  tokens  INTEGER NOT NULL,
  counts  BLOB NOT NULL
);
CREATE INDEX expert_drops_by_step ON expert_drops (step);

-- Top-k ids and gate weights per token, per batch. `routing` is the routing encoding of
-- wire/codec.h.
CREATE TABLE router_decision (
  rank         INTEGER NOT NULL,
  step         INTEGER NOT NULL,
  layer        INTEGER NOT NULL,
  token_offset INTEGER NOT NULL,
  num_tokens   INTEGER NOT NULL,
  top_k        INTEGER NOT NULL,
  routing      BLOB NOT NULL
);
CREATE INDEX router_decision_by_step ON router_decision (step, layer);

-- All-to-alls as one rank saw them, in chunks of consecutive events of one rank (at most
-- 256 entries, at most 1 s from the earliest start to the latest end, unless one event is
-- longer). `spans` holds `entries` entries in the order they were recorded: zigzag varint
-- (start_ns - previous entry's start_ns; the first entry: start_ns), zigzag varint
-- (end_ns - start_ns), zigzag varint (step - previous entry's step; the first: step),
-- zigzag varint layer, varint phase, varint source, varint tid, then the peer-bytes
-- encoding of wire/codec.h. start_ns/end_ns bound the chunk's events; so do step_min/step_max.
CREATE TABLE all_to_all (
  rank       INTEGER NOT NULL,
  start_ns   INTEGER NOT NULL,
  end_ns     INTEGER NOT NULL,
  step_min   INTEGER NOT NULL,
  step_max   INTEGER NOT NULL,
  entries    INTEGER NOT NULL,
  send_bytes INTEGER NOT NULL,   -- totals over the chunk's events
  recv_bytes INTEGER NOT NULL,
  spans      BLOB NOT NULL
);
CREATE INDEX all_to_all_by_time ON all_to_all (rank, start_ns);
-- (Version 3.) Step windows: with meta 'max_step_span.all_to_all' (the most steps a chunk
-- spans) a step range [a, b) reads step_min in [a - span, b) off this index.
CREATE INDEX all_to_all_by_step ON all_to_all (step_min);

-- Interned names for spans, markers, ranges and kernels.
CREATE TABLE string (
  id    INTEGER PRIMARY KEY,
  value TEXT NOT NULL UNIQUE
);

-- Compute spans, chunked as all_to_all; an entry's tail is a varint string id (0: unnamed).
CREATE TABLE compute_span (
  rank     INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns   INTEGER NOT NULL,
  step_min INTEGER NOT NULL,
  step_max INTEGER NOT NULL,
  entries  INTEGER NOT NULL,
  spans    BLOB NOT NULL
);
CREATE INDEX compute_span_by_time ON compute_span (rank, start_ns);
CREATE INDEX compute_span_by_step ON compute_span (step_min);  -- as all_to_all_by_step

-- Generic instant events.
CREATE TABLE marker (
  rank    INTEGER NOT NULL,
  step    INTEGER NOT NULL,
  tid     INTEGER NOT NULL,
  ts_ns   INTEGER NOT NULL,
  source  INTEGER NOT NULL,
  name_id INTEGER NOT NULL REFERENCES string (id)
);
CREATE INDEX marker_by_time ON marker (rank, ts_ns);

-- Generic annotated ranges and instants from capture sources (NVTX push/pop, start/end and
-- marks; NCCL collectives). Version 4 added step, kind and payload (no moeprof before it
-- wrote rows here). kind: 0 push/pop, 1 start/end, 2 mark (an instant: end_ns = start_ns),
-- 3 category name (no event: name names category `category` of the domain from start_ns on).
-- tid: the thread that opened it. domain_id NULL: the default domain. payload: the event's
-- payload as JSON text (NVTX scalar and schema-described payloads), NULL when it had none.
CREATE TABLE range (
  rank      INTEGER NOT NULL,
  tid       INTEGER NOT NULL,
  start_ns  INTEGER NOT NULL,
  end_ns    INTEGER NOT NULL,
  source    INTEGER NOT NULL,
  domain_id INTEGER REFERENCES string (id),
  name_id   INTEGER NOT NULL REFERENCES string (id),
  category  INTEGER NOT NULL,
  color     INTEGER NOT NULL,   -- 0xAARRGGBB, 0: none
  step      INTEGER NOT NULL,
  kind      INTEGER NOT NULL,
  payload   TEXT
);
CREATE INDEX range_by_time ON range (rank, start_ns);

-- GPU kernel executions (CUPTI). Version 4 added step (of the launch), the launching call
-- (launch_ns, launch_tid: 0 when unknown; correlation_id is that call's CUPTI correlation
-- id, so a kernel joins the ranges open on launch_tid at launch_ns), layer and
-- compute_kind (the compute kind its name was classified as, -1: none; a classified kernel
-- is also a compute span of source cupti).
CREATE TABLE gpu_kernel (
  rank           INTEGER NOT NULL,
  device         INTEGER NOT NULL,
  stream         INTEGER NOT NULL,
  correlation_id INTEGER NOT NULL,
  start_ns       INTEGER NOT NULL,
  end_ns         INTEGER NOT NULL,
  name_id        INTEGER NOT NULL REFERENCES string (id),
  grid_x INTEGER NOT NULL, grid_y INTEGER NOT NULL, grid_z INTEGER NOT NULL,
  block_x INTEGER NOT NULL, block_y INTEGER NOT NULL, block_z INTEGER NOT NULL,
  step           INTEGER NOT NULL,
  launch_ns      INTEGER NOT NULL,
  launch_tid     INTEGER NOT NULL,
  layer          INTEGER NOT NULL,
  compute_kind   INTEGER NOT NULL
);
CREATE INDEX gpu_kernel_by_time ON gpu_kernel (rank, start_ns);

-- Events the agent (or collector) had to drop: loss is never silent.
CREATE TABLE drops (
  process_id INTEGER NOT NULL,
  rank       INTEGER NOT NULL,
  source     INTEGER NOT NULL,
  reason     INTEGER NOT NULL,   -- 0 ring full, 1 no ring, 2 too large, 3 send failed,
                                 -- 4 bad frame (collector), 5 adapter pool full
  count      INTEGER NOT NULL,
  PRIMARY KEY (process_id, source, reason)
) WITHOUT ROWID;

-- (Version 4.) Records each process's agent delivered per capture source (every record that
-- went through its rings: steps, counts, routing, spans, ranges, kernels, markers), so that
-- with `drops` a trace says per source what was seen and what was lost.
CREATE TABLE recorded (
  process_id INTEGER NOT NULL,
  rank       INTEGER NOT NULL,
  source     INTEGER NOT NULL,
  count      INTEGER NOT NULL,
  PRIMARY KEY (process_id, source)
) WITHOUT ROWID;

-- Summaries (version 3): what the analysis needs of each window of W consecutive steps
-- (window_index w holds steps [w x W, (w + 1) x W), W = meta 'summary_window_steps'), computed by the
-- writer from the rows it stores, so that reports and the viewer read a few rows per window
-- instead of every event. Every window below meta 'summaries_complete_below' has its
-- summaries; windows at or above it (a live trace's newest steps) are read from the rows
-- above. Rows add up: a window may hold several rows of a kind (data that came late), and
-- readers sum them. `data` is encoded per kind, as specified and implemented once in
-- collector/analysis/src/window_summary_codec.cpp:
--   0 expert load (per rank): entries of (zigzag varint layer, varint n, n varint counts).
--   1 expert drops (per rank): the same.
--   2 capacity (rank -1, all ranks): per layer zigzag varint layer, varint bins, then per
--     bin varint (bin - previous bin), varint tokens, 8-byte IEEE-754 mean-weight.
--   3 all-to-all (per rank): per (layer, phase) zigzag varint layer, varint phase, varints
--     count, total_ns, bytes_sent, network_bytes_sent.
--   4 overlap (per rank): zigzag varints first start and last end of the window's spans,
--     varint step ns, varints comm, compute, overlapped ns of all layers, then per layer
--     zigzag varint layer and its comm, compute, overlapped ns. The ranks' rows are exact only where windows do not overlap in time, which
--     readers check (else they read the rows above).
--   5 stragglers (rank -1): varint instances, then per rank zigzag varint rank, varints
--     instances, times_last, wait_caused_ns; exact only as one row per window.
--   6 all-to-all volume (per rank): per (layer, phase, peer) zigzag varint layer, varint
--     phase, zigzag varint peer, varint bytes sent to the peer.
CREATE TABLE summary (
  kind   INTEGER NOT NULL,
  rank   INTEGER NOT NULL,   -- -1: all ranks
  window_index INTEGER NOT NULL,
  data   BLOB NOT NULL
);
CREATE INDEX summary_by_window ON summary (kind, window_index);

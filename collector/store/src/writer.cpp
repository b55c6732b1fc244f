#include "moeprof/store/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>

#include "chunk_codec.h"
#include "moeprof/store/reader.h"
#include "saturating.h"
#include "sqlite_handles.h"

namespace moeprof::store {
namespace {

// Events per transaction: big enough that commits cost nothing per event, small enough that
// a reader of a live trace sees data within a fraction of a second at full ingest rate.
constexpr int64_t kBatchRows = 50000;
// Bounds of a chunk (schemas/trace.sql, "Chunks"): entries, and for span chunks the time from
// the earliest start to the latest end, which bounds what a time-window query decodes.
constexpr int64_t kMaxChunkEntries = 256;
constexpr int64_t kMaxChunkSpanNs = 1'000'000'000;
// Expert-load rows are ~300 bytes and routing blobs up to hundreds of KB: 16 KiB pages keep
// per-page overhead and overflow chains small (measured in tests/bench/store_bench.cpp).
constexpr int kPageSize = 16384;

enum StatementId : int {
  kBegin,
  kCommit,
  kSetRun,
  kInsertProcess,
  kUpdateProcess,
  kSetModel,
  kSetPlacementSlot,
  kInsertStep,
  kInsertExpertLoad,
  kInsertExpertDrops,
  kInsertRouterDecision,
  kInsertAllToAll,
  kInsertComputeSpan,
  kInsertMarker,
  kInsertRange,
  kInsertGpuKernel,
  kAddDrops,
  kAddRecorded,
  kInsertString,
  kSetMeta,
  kInsertSummary,
  kStatementCount
};

constexpr std::array<const char*, kStatementCount> kStatementSql = {
    "BEGIN",
    "COMMIT",
    "INSERT OR REPLACE INTO run (id, command, host, moeprof_version, routing_mode, start_realtime_ns,"
    " end_realtime_ns, exit_code, finalized) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO process (pid, ppid, host, command, rank, local_rank, world_size, ep_size, realtime_ns,"
    " monotonic_ns, end_ns, agent_version, clean_exit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "UPDATE process SET pid = ?, ppid = ?, host = ?, command = ?, rank = ?, local_rank = ?, world_size = ?,"
    " ep_size = ?, realtime_ns = ?, monotonic_ns = ?, end_ns = ?, agent_version = ?, clean_exit = ?"
    " WHERE id = ?",
    // Which report of the model shape to keep is the collector's choice (schemas/trace.sql).
    "INSERT OR REPLACE INTO model (id, name, num_layers, num_experts, top_k, num_shared_experts, hidden_size)"
    " VALUES (1, ?, ?, ?, ?, ?, ?)",
    "INSERT OR REPLACE INTO placement (layer, slot, expert, rank, reported_by) VALUES (?, ?, ?, ?, ?)",
    "INSERT INTO step (rank, step, start_ns, end_ns) VALUES (?, ?, ?, ?)",
    "INSERT INTO expert_load (rank, step, entries, tokens, counts) VALUES (?, ?, ?, ?, ?)",
    "INSERT INTO expert_drops (rank, step, entries, tokens, counts) VALUES (?, ?, ?, ?, ?)",
    "INSERT INTO router_decision (rank, step, layer, token_offset, num_tokens, top_k, routing)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO all_to_all (rank, start_ns, end_ns, step_min, step_max, entries, send_bytes, recv_bytes, spans)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO compute_span (rank, start_ns, end_ns, step_min, step_max, entries, spans)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO marker (rank, step, tid, ts_ns, source, name_id) VALUES (?, ?, ?, ?, ?, ?)",
    "INSERT INTO range (rank, tid, start_ns, end_ns, source, domain_id, name_id, category, color, step, kind,"
    " payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO gpu_kernel (rank, device, stream, correlation_id, start_ns, end_ns, name_id, grid_x, grid_y,"
    " grid_z, block_x, block_y, block_z, step, launch_ns, launch_tid, layer, compute_kind)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO drops (process_id, rank, source, reason, count) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (process_id, source, reason) DO UPDATE SET count = count + excluded.count",
    "INSERT INTO recorded (process_id, rank, source, count) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (process_id, source) DO UPDATE SET count = count + excluded.count",
    "INSERT INTO string (value) VALUES (?)",
    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
    "INSERT INTO summary (kind, rank, window_index, data) VALUES (?, ?, ?, ?)",
};

// Tables whose rows are time spans; their longest span is kept in meta (see sqlite_handles.h).
enum SpanTable : int { kAllToAllSpans, kComputeSpans, kRangeSpans, kGpuKernelSpans, kSpanTableCount };
constexpr std::array<const char*, kSpanTableCount> kSpanTableName = {"all_to_all", "compute_span", "range",
                                                                     "gpu_kernel"};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

void bind_int(sqlite3_stmt* s, int index, int64_t value) { sqlite3_bind_int64(s, index, value); }
void bind_text(sqlite3_stmt* s, int index, std::string_view text) {
  sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}
void bind_blob(sqlite3_stmt* s, int index, const wire::Bytes& blob) {
  sqlite3_bind_blob(s, index, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
}
// A string id, or NULL for id 0 (no name).
void bind_string_id(sqlite3_stmt* s, int index, int64_t id) {
  if (id == 0)
    sqlite3_bind_null(s, index);
  else
    sqlite3_bind_int64(s, index, id);
}

void bind_process(sqlite3_stmt* s, const ProcessInfo& p) {
  bind_int(s, 1, p.pid);
  bind_int(s, 2, p.ppid);
  bind_text(s, 3, p.host);
  bind_text(s, 4, p.command);
  bind_int(s, 5, p.rank);
  bind_int(s, 6, p.local_rank);
  bind_int(s, 7, p.world_size);
  bind_int(s, 8, p.ep_size);
  bind_int(s, 9, p.realtime_ns);
  bind_int(s, 10, p.monotonic_ns);
  bind_int(s, 11, p.end_ns);
  bind_int(s, 12, p.agent_version);
  bind_int(s, 13, p.clean_exit ? 1 : 0);
}

// The open expert_load or expert_drops chunk of one rank: entries of one step.
struct CountsChunk {
  int64_t step = 0;
  int64_t entries = 0;
  uint64_t tokens = 0;
  wire::Bytes blob;
};

// The open all_to_all or compute_span chunk of one rank.
struct SpanChunk {
  int64_t start_min = 0, end_max = 0, step_min = 0, step_max = 0, entries = 0;
  uint64_t send_bytes = 0, recv_bytes = 0;  // all_to_all only
  chunk::SpanEncoder encoder;
  wire::Bytes blob;

  // Adds an event's bounds; false (and nothing changed) when the chunk must be flushed first.
  bool admit(int64_t start_ns, int64_t end_ns, int64_t step) {
    if (entries == 0) {
      start_min = start_ns;
      end_max = end_ns;
      step_min = step_max = step;
    } else {
      const int64_t first = std::min(start_min, start_ns), last = std::max(end_max, end_ns);
      if (entries >= kMaxChunkEntries || saturating_sub(last, first) > kMaxChunkSpanNs) return false;
      start_min = first;
      end_max = last;
      step_min = std::min(step_min, step);
      step_max = std::max(step_max, step);
    }
    ++entries;
    return true;
  }
};

void remove_trace_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path + suffix).c_str());
}

}  // namespace

struct Writer::Impl {
  std::string path;
  detail::Db db;  // declared before the statements, so they are finalised first
  std::array<detail::Stmt, kStatementCount> statements;
  std::string error;
  bool closed = false;
  bool in_transaction = false;
  int64_t pending_rows = 0;
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> strings;
  wire::Bytes blob;
  // A number kept in a meta row: written at a commit when it changed since the last one.
  struct MetaValue {
    int64_t value = 0, stored = 0;
  };
  std::array<MetaValue, kSpanTableCount> max_duration{};
  // Chunk tables: the most steps one chunk row spans (step_max - step_min), kept in meta.
  std::array<MetaValue, kSpanTableCount> max_step_span{};
  // Chunk tables: events written (the sum of `entries`), kept in meta so counting is free.
  std::map<std::string, MetaValue> entries_written;
  MetaValue sources;  // bit per wire::Source seen
  // Open chunks by rank (ordered, so chunks are flushed in a reproducible order).
  std::map<int32_t, CountsChunk> load_chunks, drop_chunks;
  std::map<int32_t, SpanChunk> all_to_all_chunks, compute_chunks;
  std::unique_ptr<Summariser> summariser;  // null: no summaries
  std::vector<SummaryRow> summaries;
  MetaValue complete_below{0, std::numeric_limits<int64_t>::min()};

  ~Impl() {
    // A writer dropped without finalize() (the collector failed) still keeps what it recorded.
    if (db && !closed && error.empty() && flush_chunks()) store_summaries(true);
    if (db && in_transaction) sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
  }

  // Records the first error; always returns false.
  bool fail(std::string_view what, bool with_sqlite_message = true) {
    if (error.empty()) {
      error = path + ": " + std::string(what);
      if (with_sqlite_message && db) error += std::string(": ") + sqlite3_errmsg(db.get());
    }
    return false;
  }

  bool usable() {
    if (closed) return fail("write after the trace was finalised", false);
    return error.empty();
  }

  bool exec(const char* sql, std::string_view what) {
    return sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr) == SQLITE_OK || fail(what);
  }

  bool initialise() {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    db.reset(raw);
    if (rc != SQLITE_OK) return fail("cannot open as SQLite database");
    sqlite3_busy_timeout(db.get(), 5000);
    const std::string page_size = "PRAGMA page_size = " + std::to_string(kPageSize);
    const std::string schema(schema_sql());
    const std::string meta = std::string("INSERT INTO meta (key, value) VALUES ('") + std::string(detail::kFormatKey) +
                             "', '" + std::string(detail::kFormatValue) + "'), ('schema_version', '" +
                             std::to_string(schema_version()) + "'), ('created_by', 'moeprof " MOEPROF_VERSION "')";
    // Readers use summaries only below this window (none yet).
    const std::string summary_meta =
        summariser ? "INSERT INTO meta (key, value) VALUES ('" + std::string(detail::kSummaryWindowStepsKey) + "', '" +
                         std::to_string(summariser->window_steps()) + "'), ('" +
                         std::string(detail::kSummariesCompleteBelowKey) + "', '" +
                         std::to_string(std::numeric_limits<int64_t>::min()) + "')"
                   : std::string();
    if (!exec(page_size.c_str(), "cannot set the page size") ||
        !exec("PRAGMA journal_mode = WAL", "cannot switch to WAL journal") ||
        !exec("PRAGMA synchronous = NORMAL", "cannot set synchronous mode") ||
        !exec("PRAGMA cache_size = -65536", "cannot set the cache size") ||
        !exec("PRAGMA journal_size_limit = 67108864", "cannot set the journal size limit") ||
        !exec("BEGIN", "cannot begin the schema transaction") ||
        !exec(schema.c_str(), "cannot create the trace schema") || !exec(meta.c_str(), "cannot write meta rows") ||
        !exec(summary_meta.c_str(), "cannot write meta rows") || !exec("COMMIT", "cannot commit the trace schema"))
      return false;
    for (int i = 0; i < kStatementCount; ++i) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db.get(), kStatementSql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
        return fail(std::string("cannot prepare '") + kStatementSql[i] + "'");
      statements[i].reset(stmt);
    }
    return true;
  }

  // Runs a statement that returns no rows and resets it; errors name `what`.
  bool step(StatementId id, std::string_view what) {
    sqlite3_stmt* s = statements[id].get();
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
      fail(what);
      sqlite3_reset(s);
      return false;
    }
    sqlite3_reset(s);
    return true;
  }

  // The statement for a new row, inside the open transaction (begun here if needed);
  // nullptr after an error.
  sqlite3_stmt* row(StatementId id) {
    if (!usable()) return nullptr;
    if (!in_transaction) {
      if (!step(kBegin, "cannot begin a transaction")) return nullptr;
      in_transaction = true;
    }
    return statements[id].get();
  }

  // Inserts the bound row.
  bool insert(StatementId id, const char* table) {
    sqlite3_stmt* s = statements[id].get();
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE || fail(std::string("cannot write a row to ") + table);
  }

  // Inserts the bound row of one event; commits every kBatchRows events.
  void finish_row(StatementId id, const char* table) {
    if (insert(id, table)) count_event();
  }

  // One event more for the transaction; commits every kBatchRows events.
  void count_event() {
    if (++pending_rows >= kBatchRows) commit();
  }

  // expert_load and expert_drops: per-expert counts of one (rank, step, layer), added to the
  // rank's open chunk.
  void add_counts(StatementId id, const char* table, std::map<int32_t, CountsChunk>& chunks, const ExpertLoad& load) {
    if (!usable()) return;
    CountsChunk& c = chunks[load.rank];
    if (c.entries > 0 && (c.step != load.step || c.entries >= kMaxChunkEntries) &&
        !flush_counts(id, table, load.rank, c))
      return;
    c.step = load.step;
    c.tokens += chunk::append_counts(c.blob, load.layer, load.counts);
    ++c.entries;
    count_event();
  }

  bool flush_counts(StatementId id, const char* table, int32_t rank, CountsChunk& c) {
    sqlite3_stmt* s = row(id);
    if (s == nullptr) return false;
    bind_int(s, 1, rank);
    bind_int(s, 2, c.step);
    bind_int(s, 3, c.entries);
    bind_int(s, 4, static_cast<int64_t>(c.tokens));
    bind_blob(s, 5, c.blob);
    const bool ok = insert(id, table);
    if (ok) entries_written[table].value += c.entries;
    c.entries = 0;
    c.tokens = 0;
    c.blob.clear();
    return ok;
  }

  // The rank's open span chunk with room for an event of these bounds (flushing a full one).
  SpanChunk* span_chunk(SpanTable table, int32_t rank, int64_t start_ns, int64_t end_ns, int64_t step) {
    if (!usable()) return nullptr;
    auto& chunks = table == kAllToAllSpans ? all_to_all_chunks : compute_chunks;
    SpanChunk& c = chunks[rank];
    if (!c.admit(start_ns, end_ns, step)) {
      if (!flush_span(table, rank, c)) return nullptr;
      c.admit(start_ns, end_ns, step);
    }
    return &c;
  }

  bool flush_span(SpanTable table, int32_t rank, SpanChunk& c) {
    const bool a2a = table == kAllToAllSpans;
    const StatementId id = a2a ? kInsertAllToAll : kInsertComputeSpan;
    sqlite3_stmt* s = row(id);
    if (s == nullptr) return false;
    int column = 1;
    for (int64_t v : {int64_t{rank}, c.start_min, c.end_max, c.step_min, c.step_max, c.entries}) bind_int(s, column++, v);
    if (a2a) {
      bind_int(s, column++, static_cast<int64_t>(c.send_bytes));
      bind_int(s, column++, static_cast<int64_t>(c.recv_bytes));
    }
    bind_blob(s, column, c.blob);
    note_span(table, c.start_min, c.end_max);
    max_step_span[table].value = std::max(max_step_span[table].value, saturating_sub(c.step_max, c.step_min));
    const bool ok = insert(id, kSpanTableName[table]);
    if (ok) entries_written[kSpanTableName[table]].value += c.entries;
    c.entries = 0;  // admit() sets the bounds afresh
    c.send_bytes = c.recv_bytes = 0;
    c.encoder.reset();
    c.blob.clear();
    return ok;
  }

  bool flush_chunks() {
    for (auto& [rank, c] : load_chunks)
      if (c.entries > 0 && !flush_counts(kInsertExpertLoad, "expert_load", rank, c)) return false;
    for (auto& [rank, c] : drop_chunks)
      if (c.entries > 0 && !flush_counts(kInsertExpertDrops, "expert_drops", rank, c)) return false;
    for (auto& [rank, c] : all_to_all_chunks)
      if (c.entries > 0 && !flush_span(kAllToAllSpans, rank, c)) return false;
    for (auto& [rank, c] : compute_chunks)
      if (c.entries > 0 && !flush_span(kComputeSpans, rank, c)) return false;
    return true;
  }

  void note_span(SpanTable table, int64_t start_ns, int64_t end_ns) {
    max_duration[table].value = std::max(max_duration[table].value, saturating_sub(end_ns, start_ns));
  }

  void note_source(wire::Source source) {
    sources.value |= int64_t{1} << std::min<uint32_t>(62, static_cast<uint32_t>(source));
  }

  bool set_meta(std::string_view key, int64_t value) {
    sqlite3_stmt* s = statements[kSetMeta].get();
    const std::string text = std::to_string(value);
    bind_text(s, 1, key);
    bind_text(s, 2, text);
    return step(kSetMeta, "cannot update meta");
  }

  bool store_if_changed(std::string_view key, MetaValue& v) {
    if (v.value == v.stored) return true;
    if (!set_meta(key, v.value)) return false;
    v.stored = v.value;
    return true;
  }

  // The meta rows that follow what was written (schemas/trace.sql), in the open transaction.
  bool store_meta_values() {
    for (int t = 0; t < kSpanTableCount; ++t)
      if (!store_if_changed(std::string(detail::kMaxDurationKeyPrefix) + kSpanTableName[t], max_duration[t]) ||
          !store_if_changed(std::string(detail::kMaxStepSpanKeyPrefix) + kSpanTableName[t], max_step_span[t]))
        return false;
    for (auto& [table, entries] : entries_written)
      if (!store_if_changed(std::string(detail::kEntriesKeyPrefix) + table, entries)) return false;
    return store_if_changed(detail::kCaptureSourcesKey, sources);
  }

  // Stores the summaries of the windows the summariser has completed (all of them when
  // `all`), and how far they reach, in the open transaction.
  bool store_summaries(bool all) {
    if (!summariser) return true;
    summaries.clear();
    complete_below.value = summariser->take(all, &summaries);
    for (const SummaryRow& r : summaries) {
      sqlite3_stmt* s = row(kInsertSummary);
      if (s == nullptr) return false;
      bind_int(s, 1, static_cast<int64_t>(r.kind));
      bind_int(s, 2, r.rank);
      bind_int(s, 3, r.window);
      bind_blob(s, 4, r.data);
      if (!insert(kInsertSummary, "summary")) return false;
    }
    if (complete_below.value == complete_below.stored) return true;
    return row(kSetMeta) != nullptr && store_if_changed(detail::kSummariesCompleteBelowKey, complete_below);
  }

  bool commit(bool all_summaries = false) {
    if (!error.empty() || !flush_chunks() || !store_summaries(all_summaries)) return false;
    if (!in_transaction) return true;
    if (!store_meta_values() || !step(kCommit, "cannot commit")) return false;
    in_transaction = false;
    pending_rows = 0;
    return true;
  }

  // The id of an interned string. An empty optional name is 0 (stored as NULL); markers,
  // ranges and kernels must name something, so for them "" is interned like any name.
  // 0 after an error.
  int64_t intern(std::string_view value, bool required) {
    if (value.empty() && !required) return 0;
    if (auto it = strings.find(value); it != strings.end()) return it->second;
    sqlite3_stmt* s = row(kInsertString);
    if (s == nullptr) return 0;
    bind_text(s, 1, value);
    if (!step(kInsertString, "cannot write a row to string")) return 0;
    const int64_t id = sqlite3_last_insert_rowid(db.get());
    strings.emplace(std::string(value), id);
    return id;
  }

  bool set_run(const RunInfo& run, bool finalized) {
    sqlite3_stmt* s = row(kSetRun);
    if (s == nullptr) return false;
    bind_text(s, 1, run.command);
    bind_text(s, 2, run.host);
    bind_text(s, 3, run.moeprof_version.empty() ? std::string_view(MOEPROF_VERSION) : run.moeprof_version);
    bind_text(s, 4, run.routing_mode.empty() ? std::string_view("off") : run.routing_mode);
    bind_int(s, 5, run.start_realtime_ns);
    // End time and exit code stay NULL until the run has ended.
    if (finalized) {
      bind_int(s, 6, run.end_realtime_ns);
      bind_int(s, 7, run.exit_code);
    } else {
      sqlite3_bind_null(s, 6);
      sqlite3_bind_null(s, 7);
    }
    bind_int(s, 8, finalized ? 1 : 0);
    finish_row(kSetRun, "run");
    return error.empty();
  }

  bool close() {
    if (!commit(true)) return false;
    // Fold the WAL into the main file so the finished trace is one file. Busy means a reader
    // holds the WAL open: the data is committed anyway and the last close checkpoints it.
    const int rc = sqlite3_wal_checkpoint_v2(db.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) return fail("cannot checkpoint the WAL");
    // Back to a rollback journal: a finished trace then opens read-only without -wal/-shm
    // files (read-only media, no files created next to it). Needs no other connection open.
    sqlite3_exec(db.get(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
    for (auto& s : statements) s.reset();
    sqlite3* raw = db.release();
    closed = true;
    if (sqlite3_close(raw) != SQLITE_OK) {
      const std::string message = sqlite3_errmsg(raw);
      sqlite3_close_v2(raw);
      return fail("cannot close: " + message, false);
    }
    return true;
  }
};

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Writer::~Writer() = default;

std::unique_ptr<Writer> Writer::create(const std::string& path, std::string* error,
                                       std::unique_ptr<Summariser> summariser) {
  // Claim the name atomically: O_EXCL refuses any existing file, also one created meanwhile.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    if (error)
      *error = path + ": " + (e == EEXIST ? std::string("already exists (refusing to overwrite it)")
                                          : std::string("cannot create: ") + std::strerror(e));
    return nullptr;
  }
  ::close(fd);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->summariser = std::move(summariser);
  if (!impl->initialise()) {
    if (error) *error = impl->error;
    impl.reset();
    remove_trace_files(path);  // nothing half-made is left behind
    return nullptr;
  }
  return std::unique_ptr<Writer>(new Writer(std::move(impl)));
}

void Writer::set_run(const RunInfo& run) { impl_->set_run(run, false); }

int64_t Writer::add_process(const ProcessInfo& process) {
  sqlite3_stmt* s = impl_->row(kInsertProcess);
  if (s == nullptr) return 0;
  bind_process(s, process);
  impl_->finish_row(kInsertProcess, "process");
  return impl_->error.empty() ? sqlite3_last_insert_rowid(impl_->db.get()) : 0;
}

void Writer::update_process(const ProcessInfo& process) {
  sqlite3_stmt* s = impl_->row(kUpdateProcess);
  if (s == nullptr) return;
  bind_process(s, process);
  bind_int(s, 14, process.id);
  impl_->finish_row(kUpdateProcess, "process");
}

void Writer::set_model(const ModelShape& model) {
  sqlite3_stmt* s = impl_->row(kSetModel);
  if (s == nullptr) return;
  bind_text(s, 1, model.name);
  bind_int(s, 2, model.num_layers);
  bind_int(s, 3, model.num_experts);
  bind_int(s, 4, model.top_k);
  bind_int(s, 5, model.num_shared_experts);
  bind_int(s, 6, model.hidden_size);
  impl_->finish_row(kSetModel, "model");
}

void Writer::add_placement(const LayerPlacement& placement) {
  for (size_t slot = 0; slot < placement.slots.size(); ++slot) {
    sqlite3_stmt* s = impl_->row(kSetPlacementSlot);
    if (s == nullptr) return;
    bind_int(s, 1, placement.layer);
    bind_int(s, 2, static_cast<int64_t>(slot));
    bind_int(s, 3, placement.slots[slot].expert);
    bind_int(s, 4, placement.slots[slot].rank);
    bind_int(s, 5, placement.rank);
    impl_->finish_row(kSetPlacementSlot, "placement");
  }
}

void Writer::add_step(const StepSpan& step) {
  sqlite3_stmt* s = impl_->row(kInsertStep);
  if (s == nullptr) return;
  if (impl_->summariser) impl_->summariser->add_step(step);
  bind_int(s, 1, step.rank);
  bind_int(s, 2, step.step);
  bind_int(s, 3, step.start_ns);
  bind_int(s, 4, step.end_ns);
  impl_->finish_row(kInsertStep, "step");
}

void Writer::add_expert_load(const ExpertLoad& load) {
  if (impl_->summariser && impl_->usable()) impl_->summariser->add_expert_load(load);
  impl_->add_counts(kInsertExpertLoad, "expert_load", impl_->load_chunks, load);
}

void Writer::add_expert_drops(const ExpertLoad& dropped) {
  if (impl_->summariser && impl_->usable()) impl_->summariser->add_expert_drops(dropped);
  impl_->add_counts(kInsertExpertDrops, "expert_drops", impl_->drop_chunks, dropped);
}

void Writer::add_router_decisions(const RouterDecisionBatch& batch) {
  if (!impl_->usable()) return;
  const wire::Routing& r = batch.routing;
  const size_t n = static_cast<size_t>(r.num_tokens) * r.top_k;
  if (r.expert_ids.size() != n || (!r.gate_weights.empty() && r.gate_weights.size() != n)) {
    impl_->fail("router decision batch of " + std::to_string(r.num_tokens) + " tokens x top-" +
                    std::to_string(r.top_k) + " has " + std::to_string(r.expert_ids.size()) + " ids and " +
                    std::to_string(r.gate_weights.size()) + " gate weights",
                false);
    return;
  }
  sqlite3_stmt* s = impl_->row(kInsertRouterDecision);
  if (s == nullptr) return;
  impl_->blob.clear();
  wire::encode_routing(r.num_tokens, r.top_k, r.expert_ids.data(),
                       r.gate_weights.empty() ? nullptr : r.gate_weights.data(), impl_->blob);
  bind_int(s, 1, batch.rank);
  bind_int(s, 2, batch.step);
  bind_int(s, 3, batch.layer);
  bind_int(s, 4, batch.token_offset);
  bind_int(s, 5, r.num_tokens);
  bind_int(s, 6, r.top_k);
  bind_blob(s, 7, impl_->blob);
  impl_->finish_row(kInsertRouterDecision, "router_decision");
}

void Writer::add_all_to_all(const AllToAllEvent& event) {
  SpanChunk* c = impl_->span_chunk(kAllToAllSpans, event.rank, event.start_ns, event.end_ns, event.step);
  if (c == nullptr) return;
  if (impl_->summariser) impl_->summariser->add_all_to_all(event);
  impl_->note_source(event.source);
  const wire::PeerTotals bytes = wire::peer_totals(event.peers);
  c->send_bytes += bytes.send_bytes;
  c->recv_bytes += bytes.recv_bytes;
  c->encoder.append_all_to_all(c->blob,
                               {event.start_ns, event.end_ns, event.step, event.layer,
                                static_cast<uint32_t>(event.phase), static_cast<uint32_t>(event.source), event.tid},
                               event.peers);
  impl_->count_event();
}

void Writer::add_compute_span(const ComputeSpan& span) {
  const int64_t name_id = impl_->intern(span.name, false);
  SpanChunk* c = impl_->span_chunk(kComputeSpans, span.rank, span.start_ns, span.end_ns, span.step);
  if (c == nullptr) return;
  if (impl_->summariser) impl_->summariser->add_compute_span(span);
  impl_->note_source(span.source);
  c->encoder.append_compute(c->blob,
                            {span.start_ns, span.end_ns, span.step, span.layer, static_cast<uint32_t>(span.kind),
                             static_cast<uint32_t>(span.source), span.tid},
                            name_id);
  impl_->count_event();
}

void Writer::add_marker(const Marker& marker) {
  const int64_t name_id = impl_->intern(marker.name, true);
  sqlite3_stmt* s = impl_->row(kInsertMarker);
  if (s == nullptr) return;
  bind_int(s, 1, marker.rank);
  bind_int(s, 2, marker.step);
  bind_int(s, 3, marker.tid);
  bind_int(s, 4, marker.ts_ns);
  bind_int(s, 5, static_cast<int64_t>(marker.source));
  bind_int(s, 6, name_id);
  impl_->note_source(marker.source);
  impl_->finish_row(kInsertMarker, "marker");
}

void Writer::add_range(const Range& range) {
  const int64_t domain_id = impl_->intern(range.domain, false);
  const int64_t name_id = impl_->intern(range.name, true);
  sqlite3_stmt* s = impl_->row(kInsertRange);
  if (s == nullptr) return;
  bind_int(s, 1, range.rank);
  bind_int(s, 2, range.tid);
  bind_int(s, 3, range.start_ns);
  bind_int(s, 4, range.end_ns);
  bind_int(s, 5, static_cast<int64_t>(range.source));
  bind_string_id(s, 6, domain_id);
  bind_int(s, 7, name_id);
  bind_int(s, 8, range.category);
  bind_int(s, 9, range.color);
  bind_int(s, 10, range.step);
  bind_int(s, 11, static_cast<int64_t>(range.kind));
  if (range.payload.empty())
    sqlite3_bind_null(s, 12);
  else
    bind_text(s, 12, range.payload);
  impl_->note_source(range.source);
  impl_->note_span(kRangeSpans, range.start_ns, range.end_ns);
  impl_->finish_row(kInsertRange, "range");
}

void Writer::add_gpu_kernel(const GpuKernel& kernel) {
  const int64_t name_id = impl_->intern(kernel.name, true);
  sqlite3_stmt* s = impl_->row(kInsertGpuKernel);
  if (s == nullptr) return;
  bind_int(s, 1, kernel.rank);
  bind_int(s, 2, kernel.device);
  bind_int(s, 3, kernel.stream);
  bind_int(s, 4, kernel.correlation_id);
  bind_int(s, 5, kernel.start_ns);
  bind_int(s, 6, kernel.end_ns);
  bind_int(s, 7, name_id);
  for (int i = 0; i < 3; ++i) {
    bind_int(s, 8 + i, kernel.grid[i]);
    bind_int(s, 11 + i, kernel.block[i]);
  }
  bind_int(s, 14, kernel.step);
  bind_int(s, 15, kernel.launch_ns);
  bind_int(s, 16, kernel.launch_tid);
  bind_int(s, 17, kernel.layer);
  bind_int(s, 18, kernel.compute_kind);
  impl_->note_span(kGpuKernelSpans, kernel.start_ns, kernel.end_ns);
  impl_->note_source(wire::Source::kCupti);
  impl_->finish_row(kInsertGpuKernel, "gpu_kernel");
}

void Writer::add_drops(const DropCount& drops) {
  sqlite3_stmt* s = impl_->row(kAddDrops);
  if (s == nullptr) return;
  bind_int(s, 1, drops.process_id);
  bind_int(s, 2, drops.rank);
  bind_int(s, 3, static_cast<int64_t>(drops.source));
  bind_int(s, 4, static_cast<int64_t>(drops.reason));
  bind_int(s, 5, static_cast<int64_t>(drops.count));
  impl_->finish_row(kAddDrops, "drops");
}

void Writer::add_recorded(const RecordedCount& recorded) {
  sqlite3_stmt* s = impl_->row(kAddRecorded);
  if (s == nullptr) return;
  bind_int(s, 1, recorded.process_id);
  bind_int(s, 2, recorded.rank);
  bind_int(s, 3, static_cast<int64_t>(recorded.source));
  bind_int(s, 4, static_cast<int64_t>(recorded.count));
  impl_->finish_row(kAddRecorded, "recorded");
}

bool Writer::commit(std::string* error) {
  const bool ok = impl_->usable() && impl_->commit();
  if (!ok && error) *error = impl_->error;
  return ok;
}

bool Writer::finalize(const RunInfo& run, std::string* error) {
  const bool ok = impl_->usable() && impl_->set_run(run, true) && impl_->close();
  if (!ok && error) *error = impl_->error;
  return ok;
}

const std::string& Writer::error() const { return impl_->error; }

}  // namespace moeprof::store

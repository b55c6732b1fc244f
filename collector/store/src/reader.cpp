#include "moeprof/store/reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>

#include "chunk_codec.h"
#include "reader_impl.h"
#include "saturating.h"

namespace moeprof::store {
namespace {

using detail::column_blob;
using detail::column_text;

// Column names of one table as a query sees them; nullptr where the table has no such column.
struct Columns {
  const char* rank = nullptr;
  const char* step = nullptr;
  const char* layer = nullptr;
  const char* start = nullptr;  // span start, or the timestamp of an instant
  const char* end = nullptr;    // span end; nullptr for instants
  // The table, where it has a (rank, time) index: a time filter over all ranks then walks
  // that index once per rank instead of scanning it whole.
  const char* timed_table = nullptr;
  bool max_duration_in_meta = false;  // meta holds the table's longest span
  // Chunk tables: `step` is then the column bounding a row's steps from below, this one the
  // column bounding them from above.
  const char* step_high = nullptr;
};

// A SELECT with the WHERE clause a Filter asks for; every value is a bound parameter.
struct Query {
  std::string sql;
  std::vector<int64_t> args;
  bool has_where = false;

  explicit Query(std::string select) : sql(std::move(select)) {}

  void where(const std::string& condition, std::initializer_list<int64_t> values) {
    sql += has_where ? " AND " : " WHERE ";
    has_where = true;
    sql += condition;
    args.insert(args.end(), values);
  }
};

// Adds the Filter's conditions for a table with `c`'s columns. Filter fields a table lacks
// are ignored. `max_duration` (from meta) lets a time range bound the index scan from below.
void apply_filter(Query& q, const Filter& f, const Columns& c, std::optional<int64_t> max_duration,
                  std::optional<int64_t> max_step_span) {
  using namespace std::string_literals;
  if (f.rank && c.rank) q.where(c.rank + " = ?"s, {*f.rank});
  if (f.layer && c.layer) q.where(c.layer + " = ?"s, {*f.layer});
  if (f.step_begin && c.step) q.where((c.step_high ? c.step_high : c.step) + " >= ?"s, {*f.step_begin});
  // Lets a chunk table's step index bound the scan from below too.
  if (f.step_begin && c.step_high && max_step_span)
    q.where(c.step + " >= ?"s, {saturating_sub(*f.step_begin, *max_step_span)});
  if (f.step_end && c.step) q.where(c.step + " < ?"s, {*f.step_end});
  if (!c.start) return;
  if (!f.rank && c.timed_table && (f.time_begin_ns || f.time_end_ns)) {
    // The ranks present, found by a loose index scan (one index probe per rank).
    const std::string t = c.timed_table;
    q.where(c.rank + " IN (WITH RECURSIVE ranks(r) AS (SELECT min(rank) FROM "s + t +
                " UNION ALL SELECT (SELECT min(rank) FROM " + t + " WHERE rank > r) FROM ranks WHERE r IS NOT NULL)" +
                " SELECT r FROM ranks)",
            {});
  }
  if (f.time_end_ns) q.where(c.start + " < ?"s, {*f.time_end_ns});
  if (f.time_begin_ns) {
    if (!c.end) {
      q.where(c.start + " >= ?"s, {*f.time_begin_ns});
      return;
    }
    // Spans overlapping [begin, end); a zero-length span counts when it lies inside.
    q.where("("s + c.end + " > ? OR " + c.start + " >= ?)", {*f.time_begin_ns, *f.time_begin_ns});
    if (max_duration) q.where(c.start + " >= ?"s, {saturating_sub(*f.time_begin_ns, *max_duration)});
  }
}

// Runs `q` with its filter arguments bound and calls `row` for every result row.
template <class Fn>
void run_query(const Reader::Impl& impl, const Query& q, std::string_view what, Fn&& row) {
  detail::Stmt stmt = impl.prepare(q.sql);
  for (size_t i = 0; i < q.args.size(); ++i) sqlite3_bind_int64(stmt.get(), static_cast<int>(i + 1), q.args[i]);
  while (impl.next(stmt.get(), what)) row(stmt.get());
}

Query filtered(const Reader::Impl& impl, std::string select, const Filter& f, const Columns& c,
               const char* order_by) {
  Query q{std::move(select)};
  const auto meta = [&](std::string_view prefix) {
    return impl.scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = '" + std::string(prefix) + c.timed_table + "'");
  };
  std::optional<int64_t> max_duration, max_step_span;
  if (c.max_duration_in_meta && f.time_begin_ns) max_duration = meta(detail::kMaxDurationKeyPrefix);
  if (c.step_high && f.step_begin) max_step_span = meta(detail::kMaxStepSpanKeyPrefix);
  apply_filter(q, f, c, max_duration, max_step_span);
  q.sql += " ORDER BY ";
  q.sql += order_by;
  return q;
}

// SQLite reads pages lazily, so a cut-off file can pass many queries before one fails
// deep inside. The header says how long the file is (when its size field is valid, i.e. the
// change counter at offset 24 equals the one at offset 92); without a WAL holding newer
// pages the file must be that long. Empty when the length is fine or not an SQLite file.
std::string truncation(const std::string& path, int64_t file_size) {
  constexpr std::string_view kMagic("SQLite format 3\0", 16);
  unsigned char header[100];
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(header), sizeof header);
  const auto got = in.gcount();
  if (got < static_cast<std::streamsize>(kMagic.size()) || std::memcmp(header, kMagic.data(), kMagic.size()) != 0)
    return {};
  if (got < static_cast<std::streamsize>(sizeof header)) return "is truncated (" + std::to_string(got) + " bytes)";
  const auto be32 = [&](int at) {
    return uint32_t{header[at]} << 24 | uint32_t{header[at + 1]} << 16 | uint32_t{header[at + 2]} << 8 | header[at + 3];
  };
  const uint32_t raw_page_size = uint32_t{header[16]} << 8 | header[17];
  const int64_t page_size = raw_page_size == 1 ? 65536 : raw_page_size;
  const int64_t pages = be32(28);
  struct stat wal;
  const bool has_wal = ::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0;
  if (be32(24) != be32(92) || has_wal || file_size >= pages * page_size) return {};
  return "is truncated (" + std::to_string(file_size) + " bytes; its header says " + std::to_string(pages * page_size) +
         ")";
}

}  // namespace

// Schema 2 lacks the summary table (added in 3); it reads like 3 without summaries.
constexpr int kOldestReadableVersion = 2;
constexpr int kFirstVersionWithSummaries = 3;
// Ranges and GPU kernels got their present columns and the recorded table came in 4; no
// moeprof wrote range or kernel rows before.
constexpr int kFirstVersionWithCaptureSources = 4;

// ---- Impl ---------------------------------------------------------------------------------

void Reader::Impl::fail(std::string_view what) const {
  throw Error(path + ": " + std::string(what) + ": " + sqlite3_errmsg(db.get()));
}

void Reader::Impl::corrupt(std::string_view what) const { throw Error(path + ": " + std::string(what)); }

detail::Stmt Reader::Impl::prepare(const std::string& sql) const {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) fail("cannot query the trace");
  return detail::Stmt(stmt);
}

bool Reader::Impl::next(sqlite3_stmt* stmt, std::string_view what) const {
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(std::string("cannot read ") + std::string(what));
}

std::optional<int64_t> Reader::Impl::scalar(const std::string& sql) const {
  detail::Stmt stmt = prepare(sql);
  if (!next(stmt.get(), sql) || sqlite3_column_type(stmt.get(), 0) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt.get(), 0);
}

std::string Reader::Impl::open() {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno == ENOENT ? "no such file" : std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "is a directory, not a trace";
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if (st.st_size == 0) return "is empty, not a moeprof trace";
  if (std::string cut = truncation(path, st.st_size); !cut.empty()) return cut;

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr);
  db.reset(raw);
  if (rc != SQLITE_OK) return std::string("cannot open: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  // A live trace's writer holds its lock only briefly (commits, checkpoints).
  sqlite3_busy_timeout(db.get(), 5000);

  sqlite3_stmt* stmt = nullptr;
  const std::string format_sql = "SELECT value FROM meta WHERE key = '" + std::string(detail::kFormatKey) + "'";
  if (sqlite3_prepare_v2(db.get(), format_sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    const int code = sqlite3_errcode(db.get());
    const std::string message = sqlite3_errmsg(db.get());
    if (code == SQLITE_NOTADB) return "not a moeprof trace: file is not a database";
    if (code == SQLITE_ERROR && message.find("no such table") != std::string::npos)
      return "not a moeprof trace (an SQLite database without moeprof's meta table)";
    return "unreadable or corrupt trace: " + message;
  }
  detail::Stmt format(stmt);
  const int step_rc = sqlite3_step(stmt);
  if (step_rc != SQLITE_ROW && step_rc != SQLITE_DONE)
    return "unreadable or corrupt trace: " + std::string(sqlite3_errmsg(db.get()));
  if (step_rc == SQLITE_DONE) return "not a moeprof trace (meta has no format row)";
  if (column_text(stmt, 0) != detail::kFormatValue)
    return "not a moeprof trace (meta.format is '" + column_text(stmt, 0) + "')";
  format.reset();

  try {
    version = static_cast<int>(scalar("PRAGMA user_version").value_or(0));
    if (version > store::schema_version())
      return "was written by a newer moeprof (schema " + std::to_string(version) + "; this build reads " +
             std::to_string(store::schema_version()) + ")";
    if (version < kOldestReadableVersion)
      return "has schema version " + std::to_string(version) + ", which this build does not read (it reads " +
             std::to_string(kOldestReadableVersion) + " to " + std::to_string(store::schema_version()) + ")";
  } catch (const Error& e) {
    // Error's text already names the file; keep only what follows the path.
    return std::string("unreadable or corrupt trace: ") + (e.what() + path.size() + 2);
  }
  return {};
}

// ---- Reader -------------------------------------------------------------------------------

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::~Reader() = default;

std::unique_ptr<Reader> Reader::open(const std::string& path, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (std::string problem = impl->open(); !problem.empty()) {
    if (error) *error = path + ": " + problem;
    return nullptr;
  }
  return std::unique_ptr<Reader>(new Reader(std::move(impl)));
}

int Reader::schema_version() const { return impl_->version; }
const std::string& Reader::path() const { return impl_->path; }

RunInfo Reader::run() const {
  RunInfo run;
  Query q{"SELECT command, host, moeprof_version, routing_mode, start_realtime_ns, end_realtime_ns, exit_code,"
          " finalized FROM run WHERE id = 1"};
  run_query(*impl_, q, "run", [&](sqlite3_stmt* s) {
    run.command = column_text(s, 0);
    run.host = column_text(s, 1);
    run.moeprof_version = column_text(s, 2);
    run.routing_mode = column_text(s, 3);
    run.start_realtime_ns = sqlite3_column_int64(s, 4);
    run.end_realtime_ns = sqlite3_column_int64(s, 5);  // NULL (still running) reads as 0
    run.exit_code = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 6);
    run.finalized = sqlite3_column_int(s, 7) != 0;
  });
  return run;
}

std::vector<ProcessInfo> Reader::processes() const {
  std::vector<ProcessInfo> out;
  Query q{"SELECT id, pid, ppid, host, command, rank, local_rank, world_size, ep_size, realtime_ns, monotonic_ns,"
          " end_ns, agent_version, clean_exit FROM process ORDER BY id"};
  run_query(*impl_, q, "process", [&](sqlite3_stmt* s) {
    ProcessInfo& p = out.emplace_back();
    p.id = sqlite3_column_int64(s, 0);
    p.pid = static_cast<uint32_t>(sqlite3_column_int64(s, 1));
    p.ppid = static_cast<uint32_t>(sqlite3_column_int64(s, 2));
    p.host = column_text(s, 3);
    p.command = column_text(s, 4);
    p.rank = sqlite3_column_int(s, 5);
    p.local_rank = sqlite3_column_int(s, 6);
    p.world_size = sqlite3_column_int(s, 7);
    p.ep_size = sqlite3_column_int(s, 8);
    p.realtime_ns = sqlite3_column_int64(s, 9);
    p.monotonic_ns = sqlite3_column_int64(s, 10);
    p.end_ns = sqlite3_column_int64(s, 11);
    p.agent_version = static_cast<uint32_t>(sqlite3_column_int64(s, 12));
    p.clean_exit = sqlite3_column_int(s, 13) != 0;
  });
  return out;
}

std::optional<ModelShape> Reader::model() const {
  std::optional<ModelShape> model;
  Query q{"SELECT name, num_layers, num_experts, top_k, num_shared_experts, hidden_size FROM model WHERE id = 1"};
  run_query(*impl_, q, "model", [&](sqlite3_stmt* s) {
    model = ModelShape{column_text(s, 0),        sqlite3_column_int(s, 1), sqlite3_column_int(s, 2),
                       sqlite3_column_int(s, 3), sqlite3_column_int(s, 4), sqlite3_column_int(s, 5)};
  });
  return model;
}

std::vector<LayerPlacement> Reader::placements() const {
  std::vector<LayerPlacement> out;
  Query q{"SELECT reported_by, layer, expert, rank FROM placement ORDER BY reported_by, layer, slot"};
  run_query(*impl_, q, "placement", [&](sqlite3_stmt* s) {
    const int32_t reported_by = sqlite3_column_int(s, 0), layer = sqlite3_column_int(s, 1);
    if (out.empty() || out.back().rank != reported_by || out.back().layer != layer)
      out.push_back(LayerPlacement{reported_by, layer, {}});
    out.back().slots.push_back(PlacementSlot{sqlite3_column_int(s, 2), sqlite3_column_int(s, 3)});
  });
  return out;
}

TableCounts Reader::counts() const {
  TableCounts c;
  const auto count = [&](const char* table) {
    return impl_->scalar(std::string("SELECT count(*) FROM ") + table).value_or(0);
  };
  c.processes = count("process");
  c.steps = count("step");
  // From meta where the writer kept the count; older traces add up every chunk row.
  const auto entries = [&](const char* table) {
    if (const auto kept = impl_->scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = '" +
                                        std::string(detail::kEntriesKeyPrefix) + table + "'"))
      return *kept;
    return impl_->scalar(std::string("SELECT sum(entries) FROM ") + table).value_or(0);
  };
  c.expert_load = entries("expert_load");
  c.expert_drops = entries("expert_drops");
  c.router_decisions = count("router_decision");
  c.all_to_all = entries("all_to_all");
  c.compute_spans = entries("compute_span");
  c.markers = count("marker");
  c.ranges = count("range");
  c.gpu_kernels = count("gpu_kernel");
  c.placements = count("placement");
  c.dropped = static_cast<uint64_t>(impl_->scalar("SELECT sum(count) FROM drops").value_or(0));
  return c;
}

std::vector<int32_t> Reader::ranks() const {
  std::vector<int32_t> out;
  run_query(*impl_, Query{"SELECT rank FROM process UNION SELECT rank FROM step ORDER BY 1"}, "ranks",
            [&](sqlite3_stmt* s) { out.push_back(sqlite3_column_int(s, 0)); });
  return out;
}

std::optional<std::pair<int64_t, int64_t>> Reader::step_range() const {
  // Each arm is a lone min() or max(), which SQLite answers from a step index in O(log n);
  // the outer aggregate skips the NULLs of empty tables. A chunk table's highest step_max is
  // among the rows whose step_min is within its meta max_step_span of the highest step_min
  // (older traces lack that meta row and scan the table).
  std::string lows, highs;
  for (const char* table : {"step", "expert_load", "router_decision", "all_to_all", "compute_span"}) {
    const bool chunked_spans = std::string_view(table) == "all_to_all" || std::string_view(table) == "compute_span";
    const std::string separator = lows.empty() ? "" : " UNION ALL ";
    if (!chunked_spans) {
      lows += separator + "SELECT min(step) AS v FROM " + table;
      highs += separator + "SELECT max(step) AS v FROM " + table;
      continue;
    }
    lows += separator + "SELECT min(step_min) AS v FROM " + table;
    const auto span = impl_->scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = '" +
                                    std::string(detail::kMaxStepSpanKeyPrefix) + table + "'");
    highs += separator + "SELECT max(step_max) AS v FROM " + table;
    if (span && *span >= 0)
      highs += " WHERE step_min >= (SELECT max(step_min) FROM " + std::string(table) + ") - " + std::to_string(*span);
  }
  const auto low = impl_->scalar("SELECT min(v) FROM (" + lows + ")");
  const auto high = impl_->scalar("SELECT max(v) FROM (" + highs + ")");
  if (!low || !high) return std::nullopt;
  return std::make_pair(*low, *high);
}

std::vector<StepSpan> Reader::steps(const Filter& filter) const {
  std::vector<StepSpan> out;
  const Query q = filtered(*impl_, "SELECT rank, step, start_ns, end_ns FROM step", filter,
                           Columns{"rank", "step", nullptr, "start_ns", "end_ns", nullptr, false}, "rank, step, rowid");
  run_query(*impl_, q, "step", [&](sqlite3_stmt* s) {
    out.push_back(StepSpan{sqlite3_column_int(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
                           sqlite3_column_int64(s, 3)});
  });
  return out;
}

std::vector<int64_t> Reader::expert_load_steps(const Filter& filter) const {
  std::vector<int64_t> out;
  const Query q = filtered(*impl_, "SELECT DISTINCT step FROM expert_load", filter,
                           Columns{"rank", "step", nullptr, nullptr, nullptr, nullptr, false}, "step");
  run_query(*impl_, q, "expert_load", [&](sqlite3_stmt* s) { out.push_back(sqlite3_column_int64(s, 0)); });
  return out;
}

namespace {

// Expert-load entries of one step, gathered from its chunks and handed out in (layer, rank,
// written) order. The ExpertLoad values are kept between steps so their counts vectors are
// reused.
class StepEntries {
 public:
  ExpertLoad& add(int64_t rowid, uint32_t index) {
    if (used_ == entries_.size()) entries_.emplace_back();
    Entry& e = entries_[used_++];
    e.rowid = rowid;
    e.index = index;
    return e.load;
  }
  void drop_last() { --used_; }
  void emit(const std::function<void(const ExpertLoad&)>& fn) {
    order_.resize(used_);
    for (size_t i = 0; i < used_; ++i) order_[i] = &entries_[i];
    std::sort(order_.begin(), order_.end(), [](const Entry* a, const Entry* b) {
      return std::tie(a->load.layer, a->load.rank, a->rowid, a->index) <
             std::tie(b->load.layer, b->load.rank, b->rowid, b->index);
    });
    for (const Entry* e : order_) fn(e->load);
    used_ = 0;
  }

 private:
  struct Entry {
    int64_t rowid = 0;
    uint32_t index = 0;
    ExpertLoad load;
  };
  std::vector<Entry> entries_;
  std::vector<const Entry*> order_;
  size_t used_ = 0;
};

// A chunk row whose `entries` column disagrees with its blob is corrupt.
void check_entry_count(const Reader::Impl& impl, const char* table, int64_t rowid, int64_t said, int64_t held) {
  if (said != held)
    impl.corrupt(std::string("corrupt ") + table + " row " + std::to_string(rowid) + ": it says " +
                 std::to_string(said) + " entries but holds " + std::to_string(held));
}

void for_each_counts_row(const Reader::Impl& impl, const std::string& table, const Filter& filter,
                         const std::function<void(const ExpertLoad&)>& fn) {
  const Query q = filtered(impl, "SELECT rank, step, entries, counts, rowid FROM " + table, filter,
                           Columns{"rank", "step", nullptr, nullptr, nullptr, nullptr, false}, "step, rowid");
  StepEntries step_entries;
  std::optional<int64_t> current_step;
  run_query(impl, q, table.c_str(), [&](sqlite3_stmt* s) {
    const int32_t rank = sqlite3_column_int(s, 0);
    const int64_t step = sqlite3_column_int64(s, 1), entries = sqlite3_column_int64(s, 2),
                  rowid = sqlite3_column_int64(s, 4);
    if (current_step != step) step_entries.emit(fn);
    current_step = step;
    wire::ByteReader in(column_blob(s, 3));
    int64_t n = 0;
    for (; !in.at_end(); ++n) {
      ExpertLoad& load = step_entries.add(rowid, static_cast<uint32_t>(n));
      load.rank = rank;
      load.step = step;
      if (!chunk::read_counts(in, &load.layer, &load.counts))
        impl.corrupt("corrupt " + table + " row " + std::to_string(rowid) + ": its counts blob does not decode");
      if (filter.layer && load.layer != *filter.layer) step_entries.drop_last();
    }
    check_entry_count(impl, table.c_str(), rowid, entries, n);
  });
  step_entries.emit(fn);
}

// An entry of a span chunk passes the filter's step, layer and time conditions (the rank is
// the chunk's).
bool entry_matches(const Filter& f, const chunk::SpanHead& h) {
  if ((f.step_begin && h.step < *f.step_begin) || (f.step_end && h.step >= *f.step_end) ||
      (f.layer && h.layer != *f.layer) || (f.time_end_ns && h.start_ns >= *f.time_end_ns))
    return false;
  return !f.time_begin_ns || h.end_ns > *f.time_begin_ns || h.start_ns >= *f.time_begin_ns;
}

// Hands out the entries of a rank's span chunks in (start, written) order. Chunks arrive in
// (rank, start_ns) order and every entry starts at or after its chunk's start_ns, so once a
// chunk starting at t arrives, the held entries that start before t are final.
template <class Event>
class SpanMerger {
 public:
  explicit SpanMerger(const std::function<void(const Event&)>& fn) : fn_(fn) {}

  void chunk_arrives(int32_t rank, int64_t chunk_start_ns) {
    if (rank != rank_) release(std::numeric_limits<int64_t>::max());
    rank_ = rank;
    release(chunk_start_ns);
  }
  void hold(int64_t rowid, uint32_t index, const Event& event) { held_.push_back({event.start_ns, rowid, index, event}); }
  void finish() { release(std::numeric_limits<int64_t>::max()); }

 private:
  struct Held {
    int64_t start_ns;
    int64_t rowid;
    uint32_t index;
    Event event;
  };
  // Emits the held entries that start before `limit`.
  void release(int64_t limit) {
    const auto key = [](const Held& h) { return std::tie(h.start_ns, h.rowid, h.index); };
    std::sort(held_.begin(), held_.end(), [&](const Held& a, const Held& b) { return key(a) < key(b); });
    size_t n = 0;
    while (n < held_.size() && held_[n].start_ns < limit) fn_(held_[n++].event);
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  const std::function<void(const Event&)>& fn_;
  std::vector<Held> held_;
  std::optional<int32_t> rank_;
};

// Decodes the span chunks of `table` that the filter may touch, in (rank, start_ns) order,
// and hands their matching entries to `fn` in (rank, start, written) order. `decode(in,
// &head, &event)` reads one entry (false: it does not decode); the fields every span has
// are filled here; `complete(head, &event, rowid)` then fills the table's own, for matching
// entries only.
template <class Event, class Decode, class Complete>
void merge_span_chunks(const Reader::Impl& impl, const char* table, const Filter& filter,
                       const std::function<void(const Event&)>& fn, Decode&& decode, Complete&& complete) {
  SpanMerger<Event> merger(fn);
  Event event;
  chunk::SpanHead head;
  const Query q = filtered(impl, std::string("SELECT rank, start_ns, entries, spans, rowid FROM ") + table, filter,
                           Columns{"rank", "step_min", nullptr, "start_ns", "end_ns", table, true, "step_max"},
                           "rank, start_ns, rowid");
  run_query(impl, q, table, [&](sqlite3_stmt* s) {
    const int32_t rank = sqlite3_column_int(s, 0);
    const int64_t entries = sqlite3_column_int64(s, 2), rowid = sqlite3_column_int64(s, 4);
    merger.chunk_arrives(rank, sqlite3_column_int64(s, 1));
    chunk::SpanDecoder in(column_blob(s, 3));
    int64_t n = 0;
    for (; !in.at_end(); ++n) {
      if (!decode(in, &head, &event))
        impl.corrupt(std::string("corrupt ") + table + " row " + std::to_string(rowid) +
                     ": its spans blob does not decode");
      if (!entry_matches(filter, head)) continue;
      event.rank = rank;
      event.step = head.step;
      event.layer = head.layer;
      event.source = static_cast<wire::Source>(head.source);
      event.tid = head.tid;
      event.start_ns = head.start_ns;
      event.end_ns = head.end_ns;
      complete(head, &event, rowid);
      merger.hold(rowid, static_cast<uint32_t>(n), event);
    }
    check_entry_count(impl, table, rowid, entries, n);
  });
  merger.finish();
}

}  // namespace

void Reader::for_each_expert_load(const Filter& filter, const std::function<void(const ExpertLoad&)>& fn) const {
  for_each_counts_row(*impl_, "expert_load", filter, fn);
}

void Reader::for_each_expert_drops(const Filter& filter, const std::function<void(const ExpertLoad&)>& fn) const {
  for_each_counts_row(*impl_, "expert_drops", filter, fn);
}

void Reader::for_each_router_decisions(const Filter& filter,
                                       const std::function<void(const RouterDecisionBatch&)>& fn) const {
  const Query q = filtered(*impl_, "SELECT rank, step, layer, token_offset, routing, rowid FROM router_decision",
                           filter, Columns{"rank", "step", "layer", nullptr, nullptr, nullptr, false},
                           "step, layer, rank, token_offset, rowid");
  RouterDecisionBatch batch;
  run_query(*impl_, q, "router_decision", [&](sqlite3_stmt* s) {
    batch.rank = sqlite3_column_int(s, 0);
    batch.step = sqlite3_column_int64(s, 1);
    batch.layer = sqlite3_column_int(s, 2);
    batch.token_offset = static_cast<uint32_t>(sqlite3_column_int64(s, 3));
    if (!wire::decode_routing(column_blob(s, 4), &batch.routing))
      impl_->corrupt("corrupt router_decision row " + std::to_string(sqlite3_column_int64(s, 5)) +
                     ": its routing blob does not decode");
    fn(batch);
  });
}

void Reader::for_each_all_to_all(const Filter& filter, const std::function<void(const AllToAllEvent&)>& fn) const {
  merge_span_chunks(
      *impl_, "all_to_all", filter, fn,
      [](chunk::SpanDecoder& in, chunk::SpanHead* head, AllToAllEvent* event) {
        return in.read_all_to_all(head, &event->peers);
      },
      [](const chunk::SpanHead& head, AllToAllEvent* event, int64_t) { event->phase = static_cast<wire::Phase>(head.kind); });
}

void Reader::for_each_compute_span(const Filter& filter, const std::function<void(const ComputeSpan&)>& fn) const {
  std::map<int64_t, std::string> names;
  run_query(*impl_, Query{"SELECT id, value FROM string"}, "string",
            [&](sqlite3_stmt* s) { names.emplace(sqlite3_column_int64(s, 0), column_text(s, 1)); });
  int64_t name_id = 0;
  merge_span_chunks(
      *impl_, "compute_span", filter, fn,
      [&](chunk::SpanDecoder& in, chunk::SpanHead* head, ComputeSpan*) { return in.read_compute(head, &name_id); },
      [&](const chunk::SpanHead& head, ComputeSpan* span, int64_t rowid) {
        span->kind = static_cast<wire::ComputeKind>(head.kind);
        span->name.clear();
        if (name_id == 0) return;
        const auto it = names.find(name_id);
        if (it == names.end())
          impl_->corrupt("corrupt compute_span row " + std::to_string(rowid) + ": it names string " +
                         std::to_string(name_id) + ", which does not exist");
        span->name = it->second;
      });
}

std::vector<Marker> Reader::markers(const Filter& filter) const {
  std::vector<Marker> out;
  const Query q = filtered(*impl_,
                           "SELECT m.rank, m.step, m.tid, m.ts_ns, m.source, s.value"
                           " FROM marker m LEFT JOIN string s ON s.id = m.name_id",
                           filter, Columns{"m.rank", "m.step", nullptr, "m.ts_ns", nullptr, "marker", false},
                           "m.rank, m.ts_ns, m.rowid");
  run_query(*impl_, q, "marker", [&](sqlite3_stmt* s) {
    out.push_back(Marker{sqlite3_column_int(s, 0), sqlite3_column_int64(s, 1),
                         static_cast<uint32_t>(sqlite3_column_int64(s, 2)), sqlite3_column_int64(s, 3),
                         static_cast<wire::Source>(sqlite3_column_int(s, 4)), column_text(s, 5)});
  });
  return out;
}

std::vector<Range> Reader::ranges(const Filter& filter) const {
  std::vector<Range> out;
  if (impl_->version < kFirstVersionWithCaptureSources) return out;
  const Query q = filtered(*impl_,
                           "SELECT r.rank, r.tid, r.start_ns, r.end_ns, r.source, d.value, n.value, r.category,"
                           " r.color, r.step, r.kind, r.payload FROM range r LEFT JOIN string d ON d.id = r.domain_id"
                           " LEFT JOIN string n ON n.id = r.name_id",
                           filter, Columns{"r.rank", "r.step", nullptr, "r.start_ns", "r.end_ns", "range", true},
                           "r.rank, r.start_ns, r.rowid");
  run_query(*impl_, q, "range", [&](sqlite3_stmt* s) {
    Range& r = out.emplace_back();
    r.rank = sqlite3_column_int(s, 0);
    r.tid = static_cast<uint32_t>(sqlite3_column_int64(s, 1));
    r.start_ns = sqlite3_column_int64(s, 2);
    r.end_ns = sqlite3_column_int64(s, 3);
    r.source = static_cast<wire::Source>(sqlite3_column_int(s, 4));
    r.domain = column_text(s, 5);
    r.name = column_text(s, 6);
    r.category = static_cast<uint32_t>(sqlite3_column_int64(s, 7));
    r.color = static_cast<uint32_t>(sqlite3_column_int64(s, 8));
    r.step = sqlite3_column_int64(s, 9);
    r.kind = static_cast<wire::RangeKind>(sqlite3_column_int(s, 10));
    r.payload = column_text(s, 11);
  });
  return out;
}

std::vector<GpuKernel> Reader::gpu_kernels(const Filter& filter) const {
  std::vector<GpuKernel> out;
  if (impl_->version < kFirstVersionWithCaptureSources) return out;
  const Query q = filtered(*impl_,
                           "SELECT k.rank, k.device, k.stream, k.correlation_id, k.start_ns, k.end_ns, s.value,"
                           " k.grid_x, k.grid_y, k.grid_z, k.block_x, k.block_y, k.block_z, k.step, k.launch_ns,"
                           " k.launch_tid, k.layer, k.compute_kind"
                           " FROM gpu_kernel k LEFT JOIN string s ON s.id = k.name_id",
                           filter, Columns{"k.rank", "k.step", "k.layer", "k.start_ns", "k.end_ns", "gpu_kernel", true},
                           "k.rank, k.start_ns, k.rowid");
  run_query(*impl_, q, "gpu_kernel", [&](sqlite3_stmt* s) {
    GpuKernel& k = out.emplace_back();
    k.rank = sqlite3_column_int(s, 0);
    k.device = static_cast<uint32_t>(sqlite3_column_int64(s, 1));
    k.stream = static_cast<uint32_t>(sqlite3_column_int64(s, 2));
    k.correlation_id = static_cast<uint32_t>(sqlite3_column_int64(s, 3));
    k.start_ns = sqlite3_column_int64(s, 4);
    k.end_ns = sqlite3_column_int64(s, 5);
    k.name = column_text(s, 6);
    for (int i = 0; i < 3; ++i) {
      k.grid[i] = static_cast<uint32_t>(sqlite3_column_int64(s, 7 + i));
      k.block[i] = static_cast<uint32_t>(sqlite3_column_int64(s, 10 + i));
    }
    k.step = sqlite3_column_int64(s, 13);
    k.launch_ns = sqlite3_column_int64(s, 14);
    k.launch_tid = static_cast<uint32_t>(sqlite3_column_int64(s, 15));
    k.layer = sqlite3_column_int(s, 16);
    k.compute_kind = sqlite3_column_int(s, 17);
  });
  return out;
}

std::optional<std::vector<wire::Source>> Reader::capture_sources() const {
  const std::optional<int64_t> mask =
      impl_->scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = '" + std::string(detail::kCaptureSourcesKey) + "'");
  if (!mask) return std::nullopt;
  std::vector<wire::Source> out;
  for (uint32_t bit = 0; bit < 64; ++bit)
    if ((static_cast<uint64_t>(*mask) >> bit) & 1) out.push_back(static_cast<wire::Source>(bit));
  return out;
}

std::optional<SummaryInfo> Reader::summaries() const {
  if (impl_->version < kFirstVersionWithSummaries) return std::nullopt;
  const auto meta = [&](std::string_view key) {
    return impl_->scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = '" + std::string(key) + "'");
  };
  const std::optional<int64_t> window_steps = meta(detail::kSummaryWindowStepsKey);
  const std::optional<int64_t> complete_below = meta(detail::kSummariesCompleteBelowKey);
  if (!window_steps || !complete_below) return std::nullopt;
  if (*window_steps <= 0) impl_->corrupt("meta summary_window_steps is " + std::to_string(*window_steps));
  return SummaryInfo{*window_steps, *complete_below};
}

void Reader::for_each_summary(SummaryKind kind, int64_t window_begin, int64_t window_end,
                              const std::function<void(const SummaryRow&)>& fn) const {
  if (impl_->version < kFirstVersionWithSummaries) return;
  Query q{"SELECT rank, window_index, data FROM summary"};
  q.where("kind = ?", {static_cast<int64_t>(kind)});
  q.where("window_index >= ?", {window_begin});
  q.where("window_index < ?", {window_end});
  q.sql += " ORDER BY window_index, rank, rowid";
  SummaryRow row;
  row.kind = kind;
  run_query(*impl_, q, "summary", [&](sqlite3_stmt* s) {
    row.rank = sqlite3_column_int(s, 0);
    row.window = sqlite3_column_int64(s, 1);
    const wire::ByteSpan data = detail::column_blob(s, 2);
    row.data.assign(data.begin(), data.end());
    fn(row);
  });
}

std::vector<Note> Reader::notes() const {
  std::vector<Note> out;
  if (impl_->version < kFirstVersionWithCaptureSources) return out;
  Query q{"SELECT r.rank, r.source, n.value FROM range r JOIN string d ON d.id = r.domain_id"
          " JOIN string n ON n.id = r.name_id WHERE d.value = '" + std::string(wire::kNoteDomain) + "'"};
  q.has_where = true;
  q.where("r.kind = ?", {static_cast<int64_t>(wire::RangeKind::kMark)});
  q.sql += " ORDER BY r.rank, r.start_ns, r.rowid";
  run_query(*impl_, q, "range", [&](sqlite3_stmt* s) {
    out.push_back(Note{sqlite3_column_int(s, 0), static_cast<wire::Source>(sqlite3_column_int(s, 1)), column_text(s, 2)});
  });
  return out;
}

std::vector<DropCount> Reader::drops() const {
  std::vector<DropCount> out;
  Query q{"SELECT process_id, rank, source, reason, count FROM drops ORDER BY process_id, source, reason"};
  run_query(*impl_, q, "drops", [&](sqlite3_stmt* s) {
    out.push_back(DropCount{sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1),
                            static_cast<wire::Source>(sqlite3_column_int(s, 2)),
                            static_cast<wire::DropReason>(sqlite3_column_int(s, 3)),
                            static_cast<uint64_t>(sqlite3_column_int64(s, 4))});
  });
  return out;
}

std::vector<SourceTally> Reader::source_tallies() const {
  const std::optional<std::vector<wire::Source>> noted = capture_sources();
  // No recorded rows at all: the events were not delivered by an agent (synth writes them
  // directly) or the trace predates the counts; either way nothing says how many there were.
  std::optional<std::vector<RecordedCount>> delivered = recorded();
  if (delivered && delivered->empty()) delivered.reset();
  std::map<wire::Source, SourceTally> by_source;
  const auto tally = [&](wire::Source source) -> SourceTally& {
    auto [it, added] = by_source.try_emplace(source, SourceTally{source, std::nullopt, 0});
    if (added && delivered) it->second.recorded = 0;
    return it->second;
  };
  for (wire::Source source : noted.value_or(std::vector<wire::Source>{})) tally(source);
  for (const RecordedCount& r : delivered.value_or(std::vector<RecordedCount>{})) *tally(r.source).recorded += r.count;
  for (const DropCount& d : drops())
    if (d.count != 0) tally(d.source).dropped += d.count;
  std::vector<SourceTally> out;
  for (const auto& [source, t] : by_source) out.push_back(t);
  return out;
}

std::optional<std::vector<RecordedCount>> Reader::recorded() const {
  if (impl_->version < kFirstVersionWithCaptureSources) return std::nullopt;
  std::vector<RecordedCount> out;
  Query q{"SELECT process_id, rank, source, count FROM recorded ORDER BY process_id, source"};
  run_query(*impl_, q, "recorded", [&](sqlite3_stmt* s) {
    out.push_back(RecordedCount{sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1),
                                static_cast<wire::Source>(sqlite3_column_int(s, 2)),
                                static_cast<uint64_t>(sqlite3_column_int64(s, 3))});
  });
  return out;
}

}  // namespace moeprof::store

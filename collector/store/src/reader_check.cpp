// Reader::check(): SQLite's own integrity check, then every blob decoded and cross-checked
// against the columns derived from it.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numeric>
#include <optional>
#include <set>

#include "chunk_codec.h"
#include "reader_impl.h"

namespace moeprof::store {
namespace {

using detail::column_blob;

// Past this many problems the list only says how many more there were.
constexpr size_t kMaxProblems = 100;

class Checker {
 public:
  explicit Checker(const Reader::Impl& impl) : impl_(impl) {}

  // Runs one part of the check; an SQLite failure inside it is a problem, not the end.
  template <class Fn>
  void part(Fn&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      const std::string what = e.what();
      add(what.compare(0, impl_.path.size() + 2, impl_.path + ": ") == 0 ? what.substr(impl_.path.size() + 2) : what);
    }
  }

  void add(std::string problem) {
    if (problems_.size() < kMaxProblems)
      problems_.push_back(std::move(problem));
    else
      ++omitted_;
  }

  std::vector<std::string> result() {
    if (omitted_ > 0) problems_.push_back("... and " + std::to_string(omitted_) + " more problems");
    return std::move(problems_);
  }

  // Calls `fn` for every row of `sql`.
  template <class Fn>
  void rows(const std::string& sql, std::string_view what, Fn&& fn) {
    detail::Stmt stmt = impl_.prepare(sql);
    while (impl_.next(stmt.get(), what)) fn(stmt.get());
  }

  void integrity() {
    rows("PRAGMA integrity_check(" + std::to_string(kMaxProblems) + ")", "integrity_check", [&](sqlite3_stmt* s) {
      const std::string line = detail::column_text(s, 0);
      if (line != "ok") add("integrity_check: " + line);
    });
  }

  void foreign_keys() {
    rows("PRAGMA foreign_key_check", "foreign keys", [&](sqlite3_stmt* s) {
      add(detail::column_text(s, 0) + " row " + std::to_string(sqlite3_column_int64(s, 1)) + " refers to a missing " +
          detail::column_text(s, 2) + " row");
    });
  }

  // expert_load and expert_drops chunks.
  void counts_table(const std::string& table, std::optional<int32_t> model_experts) {
    std::vector<uint32_t> counts;
    rows("SELECT rowid, rank, step, entries, tokens, counts FROM " + table, table, [&](sqlite3_stmt* s) {
      const std::string row = describe(table, s, {"rank", "step"});
      const int64_t entries = sqlite3_column_int64(s, 3), tokens = sqlite3_column_int64(s, 4);
      wire::ByteReader in(column_blob(s, 5));
      int64_t n = 0;
      uint64_t sum = 0;
      for (; !in.at_end(); ++n) {
        int32_t layer;
        if (!chunk::read_counts(in, &layer, &counts)) return add(row + ": counts blob does not decode");
        sum = std::accumulate(counts.begin(), counts.end(), sum);
        if (model_experts && static_cast<int64_t>(counts.size()) != *model_experts)
          add(row + ": layer " + std::to_string(layer) + " holds counts of " + std::to_string(counts.size()) +
              " experts; the model has " + std::to_string(*model_experts));
      }
      if (n != entries) add(row + ": entries is " + std::to_string(entries) + " but the chunk holds " + std::to_string(n));
      if (static_cast<int64_t>(sum) != tokens)
        add(row + ": tokens is " + std::to_string(tokens) + " but the counts sum to " + std::to_string(sum));
    });
  }

  // all_to_all and compute_span chunks: entries decode, lie within the chunk's bounds (the
  // reader's ordering relies on it), do not end before they start, and name existing strings.
  void span_table(const std::string& table) {
    const bool a2a = table == "all_to_all";
    std::vector<PeerBytes> peers;
    std::set<int64_t> strings;
    if (!a2a) rows("SELECT id FROM string", "string", [&](sqlite3_stmt* s) { strings.insert(sqlite3_column_int64(s, 0)); });
    int64_t backwards = 0;
    rows("SELECT rowid, rank, start_ns, end_ns, step_min, step_max, entries, spans" +
             std::string(a2a ? ", send_bytes, recv_bytes" : "") + " FROM " + table,
         table, [&](sqlite3_stmt* s) {
           const std::string row = describe(table, s, {"rank"});
           const int64_t start = sqlite3_column_int64(s, 2), end = sqlite3_column_int64(s, 3),
                         step_min = sqlite3_column_int64(s, 4), step_max = sqlite3_column_int64(s, 5),
                         entries = sqlite3_column_int64(s, 6);
           chunk::SpanDecoder in(column_blob(s, 7));
           chunk::SpanHead h;
           int64_t n = 0, outside = 0;
           uint64_t send = 0, recv = 0;
           for (; !in.at_end(); ++n) {
             int64_t name_id = 0;
             if (!(a2a ? in.read_all_to_all(&h, &peers) : in.read_compute(&h, &name_id)))
               return add(row + ": spans blob does not decode");
             if (h.end_ns < h.start_ns) ++backwards;
             if (h.start_ns < start || h.end_ns > end || h.step < step_min || h.step > step_max) ++outside;
             if (name_id != 0 && !strings.contains(name_id))
               add(row + ": an entry refers to a missing string " + std::to_string(name_id));
             const wire::PeerTotals bytes = wire::peer_totals(peers);
             send += bytes.send_bytes;
             recv += bytes.recv_bytes;
           }
           if (n != entries)
             add(row + ": entries is " + std::to_string(entries) + " but the chunk holds " + std::to_string(n));
           if (outside > 0)
             add(row + ": " + std::to_string(outside) + " entries lie outside the chunk's time or step bounds");
           if (a2a && (static_cast<int64_t>(send) != sqlite3_column_int64(s, 8) ||
                       static_cast<int64_t>(recv) != sqlite3_column_int64(s, 9)))
             add(row + ": send_bytes/recv_bytes disagree with the per-peer bytes (" + std::to_string(send) + "/" +
                 std::to_string(recv) + ")");
         });
    if (backwards > 0) add(std::to_string(backwards) + " " + table + " entries end before they start");
  }

  void router_decisions(std::optional<int32_t> model_experts) {
    wire::Routing routing;
    rows("SELECT rowid, rank, step, layer, num_tokens, top_k, routing FROM router_decision", "router_decision",
         [&](sqlite3_stmt* s) {
           const std::string row = describe("router_decision", s, {"rank", "step", "layer"});
           if (!wire::decode_routing(column_blob(s, 6), &routing)) return add(row + ": routing blob does not decode");
           if (routing.num_tokens != sqlite3_column_int64(s, 4) || routing.top_k != sqlite3_column_int64(s, 5))
             add(row + ": num_tokens/top_k columns disagree with the routing blob");
           if (model_experts) {
             const auto past_end = std::find_if(routing.expert_ids.begin(), routing.expert_ids.end(),
                                                [&](int32_t id) { return id >= *model_experts; });
             if (past_end != routing.expert_ids.end())
               add(row + ": expert id " + std::to_string(*past_end) + " is not one of the model's " +
                   std::to_string(*model_experts) + " experts");
           }
           if (!std::all_of(routing.gate_weights.begin(), routing.gate_weights.end(),
                            [](float g) { return std::isfinite(g); }))
             add(row + ": a gate weight is not a finite number");
         });
  }

  // The event counts the writer kept in meta must be those the chunk rows hold.
  void kept_entries() {
    for (const char* table : {"expert_load", "expert_drops", "all_to_all", "compute_span"}) {
      const auto kept = impl_.scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = '" +
                                     std::string(detail::kEntriesKeyPrefix) + table + "'");
      const int64_t held = impl_.scalar(std::string("SELECT sum(entries) FROM ") + table).value_or(0);
      if (kept && *kept != held)
        add("meta entries." + std::string(table) + " says " + std::to_string(*kept) + " events, the table holds " +
            std::to_string(held));
    }
  }

  // Spans must not end before they start.
  void span_order() {
    for (const char* table : {"step", "range", "gpu_kernel"}) {
      const int64_t bad =
          impl_.scalar(std::string("SELECT count(*) FROM ") + table + " WHERE end_ns < start_ns").value_or(0);
      if (bad > 0) add(std::to_string(bad) + " " + table + " rows end before they start");
    }
  }

 private:
  // "<table> row N (rank R, step S, layer L)" from columns 0..3.
  // "TABLE row ID (NAME VALUE, ...)": the row id from column 0, then one name per column from 1.
  static std::string describe(const std::string& table, sqlite3_stmt* s, std::initializer_list<const char*> names) {
    std::string out = table + " row " + std::to_string(sqlite3_column_int64(s, 0)) + " (";
    int column = 0;
    for (const char* name : names) {
      ++column;
      out += (column > 1 ? ", " : "") + std::string(name) + " " + std::to_string(sqlite3_column_int64(s, column));
    }
    return out + ")";
  }

  const Reader::Impl& impl_;
  std::vector<std::string> problems_;
  size_t omitted_ = 0;
};

}  // namespace

std::vector<std::string> Reader::check() const {
  Checker checker(*impl_);
  checker.part([&] { checker.integrity(); });
  checker.part([&] { checker.foreign_keys(); });
  std::optional<int32_t> model_experts;
  checker.part([&] {
    if (const auto m = model()) model_experts = m->num_experts;
  });
  checker.part([&] { checker.counts_table("expert_load", model_experts); });
  checker.part([&] { checker.counts_table("expert_drops", model_experts); });
  checker.part([&] { checker.router_decisions(model_experts); });
  checker.part([&] { checker.span_table("all_to_all"); });
  checker.part([&] { checker.span_table("compute_span"); });
  checker.part([&] { checker.span_order(); });
  checker.part([&] { checker.kept_entries(); });
  return checker.result();
}

}  // namespace moeprof::store

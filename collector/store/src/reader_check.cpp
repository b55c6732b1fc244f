// Reader::check(): SQLite's own integrity check, then every blob decoded and cross-checked
// against the columns derived from it.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

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

  // expert_load and expert_drops.
  void counts_table(const std::string& table, std::optional<int32_t> model_experts) {
    std::vector<uint32_t> counts;
    rows("SELECT rowid, rank, step, layer, num_experts, tokens, counts FROM " + table, table,
         [&](sqlite3_stmt* s) {
           const std::string row = describe(table.c_str(), s);
           const int64_t num_experts = sqlite3_column_int64(s, 4), tokens = sqlite3_column_int64(s, 5);
           if (!wire::decode_counts(column_blob(s, 6), &counts)) return add(row + ": counts blob does not decode");
           const uint64_t sum = std::accumulate(counts.begin(), counts.end(), uint64_t{0});
           if (static_cast<int64_t>(counts.size()) != num_experts)
             add(row + ": num_experts is " + std::to_string(num_experts) + " but the counts hold " +
                 std::to_string(counts.size()));
           if (static_cast<int64_t>(sum) != tokens)
             add(row + ": tokens is " + std::to_string(tokens) + " but the counts sum to " + std::to_string(sum));
           if (model_experts && static_cast<int64_t>(counts.size()) != *model_experts)
             add(row + ": holds counts of " + std::to_string(counts.size()) + " experts; the model has " +
                 std::to_string(*model_experts));
         });
  }

  void router_decisions(std::optional<int32_t> model_experts) {
    wire::Routing routing;
    rows("SELECT rowid, rank, step, layer, num_tokens, top_k, routing FROM router_decision", "router_decision",
         [&](sqlite3_stmt* s) {
           const std::string row = describe("router_decision", s);
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

  void all_to_all() {
    std::vector<PeerBytes> peers;
    rows("SELECT id, rank, step, layer, send_bytes, recv_bytes, peer_bytes FROM all_to_all", "all_to_all",
         [&](sqlite3_stmt* s) {
           const std::string row = describe("all_to_all", s);
           if (!wire::decode_peer_bytes(column_blob(s, 6), &peers)) return add(row + ": peer_bytes blob does not decode");
           uint64_t send = 0, recv = 0;
           for (const PeerBytes& p : peers) {
             send += p.send_bytes;
             recv += p.recv_bytes;
           }
           if (static_cast<int64_t>(send) != sqlite3_column_int64(s, 4) ||
               static_cast<int64_t>(recv) != sqlite3_column_int64(s, 5))
             add(row + ": send_bytes/recv_bytes disagree with the per-peer bytes (" + std::to_string(send) + "/" +
                 std::to_string(recv) + ")");
         });
  }

  // Spans must not end before they start.
  void span_order() {
    for (const char* table : {"step", "all_to_all", "compute_span", "range", "gpu_kernel"}) {
      const int64_t bad =
          impl_.scalar(std::string("SELECT count(*) FROM ") + table + " WHERE end_ns < start_ns").value_or(0);
      if (bad > 0) add(std::to_string(bad) + " " + table + " rows end before they start");
    }
  }

 private:
  // "<table> row N (rank R, step S, layer L)" from columns 0..3.
  static std::string describe(const char* table, sqlite3_stmt* s) {
    return std::string(table) + " row " + std::to_string(sqlite3_column_int64(s, 0)) + " (rank " +
           std::to_string(sqlite3_column_int64(s, 1)) + ", step " + std::to_string(sqlite3_column_int64(s, 2)) +
           ", layer " + std::to_string(sqlite3_column_int64(s, 3)) + ")";
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
  checker.part([&] { checker.all_to_all(); });
  checker.part([&] { checker.span_order(); });
  return checker.result();
}

}  // namespace moeprof::store

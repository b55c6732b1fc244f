#include "moeprof/cli/csv_export.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "moeprof/analysis/kernel_ranges.h"
#include "moeprof/analysis/range_categories.h"
#include "moeprof/cli/names.h"

namespace moeprof::cli {
namespace {

// Buffers CSV text and hands it to the stream in large pieces.
class CsvOut {
 public:
  explicit CsvOut(std::ostream& out) : out_(out) {}
  ~CsvOut() { flush(); }
  template <class T>
  requires std::is_integral_v<T> CsvOut& field(T number) {
    separate();
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
    text_.append(buffer, result.ptr);
    return *this;
  }
  // The shortest text that reads back as the same float.
  CsvOut& field(float number) {
    separate();
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
    text_.append(buffer, result.ptr);
    return *this;
  }
  CsvOut& field(std::string_view text) {
    separate();
    text_.append(text);  // only fixed identifiers, never needs quoting
    return *this;
  }
  // Free text (names, payloads): quoted when it holds a separator, quote or line break.
  CsvOut& text(std::string_view text) {
    separate();
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
      text_.append(text);
      return *this;
    }
    text_.push_back('"');
    for (char c : text) {
      if (c == '"') text_.push_back('"');
      text_.push_back(c);
    }
    text_.push_back('"');
    return *this;
  }
  void end_row() {
    text_.push_back('\n');
    first_ = true;
    if (text_.size() >= (1u << 16)) flush();
  }
  void line(std::string_view text) {
    text_.append(text);
    end_row();
  }
  void flush() {
    out_.write(text_.data(), static_cast<std::streamsize>(text_.size()));
    text_.clear();
  }

 private:
  void separate() {
    if (!first_) text_.push_back(',');
    first_ = false;
  }
  std::ostream& out_;
  std::string text_;
  bool first_ = true;
};

[[noreturn]] void out_of_order(const char* rows, const char* order) {
  throw store::Error(std::string("the trace's ") + rows + " rows do not come in " + order + " order");
}

}  // namespace

void write_expert_load_csv(const store::Reader& reader, std::ostream& out) {
  CsvOut csv(out);
  csv.line(kExpertLoadCsvHeader);
  using Key = std::tuple<int32_t, int64_t, int32_t>;  // rank, step, layer
  std::optional<Key> current;
  std::vector<uint64_t> tokens;  // per expert, summed over the rows of `current`
  auto emit = [&] {
    for (size_t expert = 0; expert < tokens.size(); ++expert) {
      if (tokens[expert] == 0) continue;
      csv.field(std::get<0>(*current)).field(std::get<1>(*current)).field(std::get<2>(*current));
      csv.field(expert).field(tokens[expert]).end_row();
    }
    std::fill(tokens.begin(), tokens.end(), 0);
  };
  const auto add = [&](const store::ExpertLoad& load) {
    const Key key{load.rank, load.step, load.layer};
    if (current && key != *current) {
      if (key < *current) out_of_order("expert-load", "(step, layer) within a rank");
      emit();
    }
    current = key;
    if (tokens.size() < load.counts.size()) tokens.resize(load.counts.size(), 0);
    for (size_t expert = 0; expert < load.counts.size(); ++expert) tokens[expert] += load.counts[expert];
  };
  // The reader streams expert load in (step, layer, rank) order, the viewer's; the CSV is
  // rank-major, so it is read one rank at a time (the ranks of the rows themselves, which
  // can include ranks no process reports any more).
  std::set<int32_t> ranks;
  reader.for_each_expert_load({}, [&](const store::ExpertLoad& load) { ranks.insert(load.rank); });
  for (int32_t rank : ranks) {
    store::Filter only;
    only.rank = rank;
    reader.for_each_expert_load(only, add);
  }
  if (current) emit();
}

void write_routing_csv(const store::Reader& reader, std::ostream& out) {
  CsvOut csv(out);
  csv.line(kRoutingCsvHeader);
  reader.for_each_router_decisions({}, [&](const store::RouterDecisionBatch& batch) {
    const wire::Routing& r = batch.routing;
    const bool weights = !r.gate_weights.empty();
    for (uint32_t t = 0; t < r.num_tokens; ++t)
      for (uint32_t slot = 0; slot < r.top_k; ++slot) {
        const size_t i = static_cast<size_t>(t) * r.top_k + slot;
        csv.field(batch.rank).field(batch.step).field(batch.layer).field(uint64_t{batch.token_offset} + t).field(slot);
        csv.field(r.expert_ids[i]);
        if (weights)
          csv.field(r.gate_weights[i]);
        else
          csv.field(std::string_view());
        csv.end_row();
      }
  });
}

void write_all_to_all_csv(const store::Reader& reader, std::ostream& out) {
  CsvOut csv(out);
  csv.line(kAllToAllCsvHeader);
  struct Row {
    int32_t peer;
    int64_t step;
    int32_t layer;
    uint8_t phase;
    int64_t end_ns;
    uint64_t send_bytes, recv_bytes;
    auto operator<=>(const Row&) const = default;
  };
  using Key = std::pair<int32_t, int64_t>;  // rank, start_ns
  std::optional<Key> current;
  std::vector<Row> group;  // the rows of every all-to-all with key `current`
  auto emit = [&] {
    // Rows are sorted by peer; all-to-alls of one rank starting at the same nanosecond are
    // ordered by the rest of the row so the output is deterministic.
    std::sort(group.begin(), group.end());
    for (const Row& row : group) {
      csv.field(current->first).field(row.step).field(row.layer).field(phase_name(static_cast<wire::Phase>(row.phase)));
      csv.field(row.peer).field(row.send_bytes).field(row.recv_bytes).field(current->second).field(row.end_ns);
      csv.end_row();
    }
    group.clear();
  };
  reader.for_each_all_to_all({}, [&](const store::AllToAllEvent& event) {
    const Key key{event.rank, event.start_ns};
    if (current && key != *current) {
      if (key < *current) out_of_order("all-to-all", "(rank, start_ns)");
      emit();
    }
    current = key;
    for (const store::PeerBytes& p : event.peers)
      group.push_back(Row{p.peer, event.step, event.layer, static_cast<uint8_t>(event.phase), event.end_ns,
                          p.send_bytes, p.recv_bytes});
  });
  if (current) emit();
}

void write_ranges_csv(const store::Reader& reader, std::ostream& out) {
  CsvOut csv(out);
  csv.line(kRangesCsvHeader);
  const std::vector<store::Range> ranges = reader.ranges();
  const analysis::RangeCategoryNames categories(ranges);
  for (const store::Range& r : ranges) {
    if (r.kind == wire::RangeKind::kCategoryName) continue;  // only names: the last column
    csv.field(r.rank).field(r.tid).field(r.step).field(range_kind_name(r.kind)).field(source_name(r.source));
    csv.text(r.domain).text(r.name).field(r.category);
    if (r.color != 0) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08x", r.color);
      csv.field(std::string_view(hex));
    } else {
      csv.field(std::string_view());
    }
    csv.field(r.start_ns).field(r.end_ns).text(r.payload).text(categories.name_of(r)).end_row();
  }
}

void write_kernels_csv(const store::Reader& reader, std::ostream& out) {
  CsvOut csv(out);
  csv.line(kKernelsCsvHeader);
  const std::vector<store::GpuKernel> kernels = reader.gpu_kernels();
  const std::vector<std::string> range_paths = analysis::kernel_range_paths(reader.ranges(), kernels);
  for (size_t i = 0; i < kernels.size(); ++i) {
    const store::GpuKernel& k = kernels[i];
    csv.field(k.rank).field(k.device).field(k.stream).field(k.correlation_id).field(k.step).field(k.layer);
    csv.field(k.compute_kind < 0 ? std::string() : compute_kind_name(static_cast<wire::ComputeKind>(k.compute_kind)));
    csv.text(k.name).field(k.start_ns).field(k.end_ns).field(k.launch_ns).field(k.launch_tid);
    for (uint32_t g : k.grid) csv.field(g);
    for (uint32_t b : k.block) csv.field(b);
    csv.text(range_paths[i]).end_row();
  }
}

}  // namespace moeprof::cli

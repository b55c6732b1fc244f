#include "moeprof/cli/chrome_export.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "moeprof/analysis/kernel_ranges.h"
#include "moeprof/analysis/load_stats.h"
#include "moeprof/analysis/range_categories.h"
#include "moeprof/cli/json_writer.h"
#include "moeprof/cli/names.h"

namespace moeprof::cli {
namespace {

// Chrome's pid for a rank; processes that never reported a rank (-1) share one pid.
constexpr int64_t kUnrankedPid = 1'000'000;
int64_t pid_of(int32_t rank) { return rank >= 0 ? rank : kUnrankedPid; }
// Steps go on a thread of their own: tid 0, which no thread of a process can have.
constexpr int64_t kStepsTid = 0;
// GPU kernels go on one track per (device, stream), above every OS thread id (< 2^32).
int64_t gpu_tid(uint32_t device, uint32_t stream) {
  return (int64_t{1} << 48) | int64_t{device} << 32 | int64_t{stream};
}

// Writes events one per line, as text assembled in a buffer and handed over in large pieces.
class EventStream {
 public:
  explicit EventStream(std::ostream& out) : out_(out) { text_ = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"; }
  ~EventStream() { flush(); }

  // Starts an event object with the fields every event has; the caller adds the rest and
  // calls end().
  EventStream& begin(char phase, std::string_view name, int64_t pid, int64_t tid) {
    if (!first_) text_ += ",\n";
    first_ = false;
    text_ += "{\"ph\":\"";
    text_ += phase;
    text_ += "\",\"name\":";
    text_ += json_quote(name);
    return field("pid", pid).field("tid", tid);
  }
  EventStream& field(std::string_view key, int64_t value) {
    key_(key);
    append_number(value);
    return *this;
  }
  EventStream& field(std::string_view key, std::string_view text) {
    key_(key);
    text_ += json_quote(text);
    return *this;
  }
  // Trace-event times are microseconds; ns keep full precision as 3 decimals.
  EventStream& micros(std::string_view key, int64_t ns) {
    key_(key);
    if (ns < 0) text_ += '-';
    // The magnitude as unsigned, so INT64_MIN does not overflow.
    const uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
    append_number(u / 1000);
    const unsigned frac = static_cast<unsigned>(u % 1000);
    if (frac != 0) {
      char digits[4] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                        static_cast<char>('0' + frac % 10)};
      text_.append(digits, 4);
    }
    return *this;
  }
  // `args` is a JSON object already written.
  EventStream& raw(std::string_view key, std::string_view json) {
    key_(key);
    text_ += json;
    return *this;
  }
  void end() {
    text_ += '}';
    if (text_.size() >= (1u << 16)) flush();
  }
  void finish() {
    text_ += "\n]}\n";
    flush();
  }

 private:
  void key_(std::string_view key) {
    text_ += ",\"";
    text_ += key;
    text_ += "\":";
  }
  template <class T>
  void append_number(T value) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    text_.append(buffer, result.ptr);
  }
  void flush() {
    out_.write(text_.data(), static_cast<std::streamsize>(text_.size()));
    text_.clear();
  }

  std::ostream& out_;
  std::string text_;
  bool first_ = true;
};

std::string number_text(double v) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, result.ptr);
}

// Names the ranks' processes and threads, so Perfetto labels the tracks.
void write_names(EventStream& events, const std::set<int32_t>& ranks,
                 const std::set<std::pair<int32_t, uint32_t>>& threads) {
  for (int32_t rank : ranks) {
    const std::string name = rank >= 0 ? "rank " + std::to_string(rank) : "unranked processes";
    events.begin('M', "process_name", pid_of(rank), 0).raw("args", "{\"name\":" + json_quote(name) + "}").end();
    events.begin('M', "process_sort_index", pid_of(rank), 0)
        .raw("args", "{\"sort_index\":" + std::to_string(pid_of(rank)) + "}")
        .end();
    events.begin('M', "thread_name", pid_of(rank), kStepsTid).raw("args", "{\"name\":\"steps\"}").end();
  }
  for (const auto& [rank, tid] : threads)
    events.begin('M', "thread_name", pid_of(rank), tid)
        .raw("args", "{\"name\":\"tid " + std::to_string(tid) + "\"}")
        .end();
}

// One counter per (rank, layer) at each step's start: total tokens, the busiest expert's
// tokens, and max/mean over the experts (counts of a repeated (rank, step, layer) summed).
void write_load_counters(EventStream& events, const store::Reader& reader,
                            const std::map<std::pair<int32_t, int64_t>, int64_t>& step_start,
                            ChromeExportCounts& counts) {
  std::optional<std::tuple<int64_t, int32_t, int32_t>> current;  // step, layer, rank
  std::vector<uint64_t> tokens;
  const auto emit = [&] {
    const auto [step, layer, rank] = *current;
    const auto start = step_start.find({rank, step});
    if (start == step_start.end()) {
      ++counts.load_without_step;
    } else {
      uint64_t total = 0, busiest = 0;
      for (uint64_t t : tokens) {
        total += t;
        busiest = std::max(busiest, t);
      }
      const double imbalance =
          analysis::imbalance(static_cast<double>(total), static_cast<double>(busiest), tokens.size());
      const std::string args = "{\"tokens\":" + std::to_string(total) + ",\"busiest_expert_tokens\":" +
                               std::to_string(busiest) + ",\"imbalance\":" + number_text(imbalance) + "}";
      events.begin('C', "expert load L" + std::to_string(layer), pid_of(rank), 0)
          .micros("ts", start->second)
          .raw("args", args)
          .end();
      ++counts.load_counters;
    }
    std::fill(tokens.begin(), tokens.end(), 0);
  };
  reader.for_each_expert_load({}, [&](const store::ExpertLoad& load) {
    const std::tuple<int64_t, int32_t, int32_t> key{load.step, load.layer, load.rank};
    if (current && key != *current) emit();
    current = key;
    if (tokens.size() < load.counts.size()) tokens.resize(load.counts.size(), 0);
    for (size_t e = 0; e < load.counts.size(); ++e) tokens[e] += load.counts[e];
  });
  if (current) emit();
}

}  // namespace

ChromeExportCounts write_chrome_trace(const store::Reader& reader, std::ostream& out) {
  ChromeExportCounts counts;
  EventStream events(out);

  // Names first: the ranks and threads that own events (a cheap pass over the spans).
  std::set<int32_t> ranks;
  std::set<std::pair<int32_t, uint32_t>> threads;
  for (const store::ProcessInfo& p : reader.processes()) ranks.insert(p.rank);
  reader.for_each_compute_span({}, [&](const store::ComputeSpan& s) { threads.insert({s.rank, s.tid}); });
  reader.for_each_all_to_all({}, [&](const store::AllToAllEvent& a) { threads.insert({a.rank, a.tid}); });
  const std::vector<store::Marker> markers = reader.markers();
  for (const store::Marker& m : markers) threads.insert({m.rank, m.tid});
  const std::vector<store::Range> ranges = reader.ranges();
  for (const store::Range& r : ranges) threads.insert({r.rank, r.tid});
  const std::vector<store::GpuKernel> kernels = reader.gpu_kernels();
  std::set<std::tuple<int32_t, uint32_t, uint32_t>> gpu_tracks;  // rank, device, stream
  for (const store::GpuKernel& k : kernels) {
    gpu_tracks.insert({k.rank, k.device, k.stream});
    ranks.insert(k.rank);
  }
  for (const auto& [rank, tid] : threads) ranks.insert(rank);

  const std::vector<store::StepSpan> steps = reader.steps();
  std::map<std::pair<int32_t, int64_t>, int64_t> step_start;
  for (const store::StepSpan& s : steps) {
    ranks.insert(s.rank);
    step_start.emplace(std::make_pair(s.rank, s.step), s.start_ns);
  }
  write_names(events, ranks, threads);
  for (const auto& [rank, device, stream] : gpu_tracks)
    events.begin('M', "thread_name", pid_of(rank), gpu_tid(device, stream))
        .raw("args", "{\"name\":\"GPU " + std::to_string(device) + " stream " + std::to_string(stream) + "\"}")
        .end();

  for (const store::StepSpan& s : steps) {
    events.begin('X', "step " + std::to_string(s.step), pid_of(s.rank), kStepsTid)
        .field("cat", "step")
        .micros("ts", s.start_ns)
        .micros("dur", std::max<int64_t>(s.end_ns - s.start_ns, 0))
        .raw("args", "{\"step\":" + std::to_string(s.step) + "}")
        .end();
    ++counts.steps;
  }
  reader.for_each_compute_span({}, [&](const store::ComputeSpan& s) {
    const std::string kind = compute_kind_name(s.kind);
    events.begin('X', s.name.empty() ? kind : s.name, pid_of(s.rank), s.tid)
        .field("cat", "compute")
        .micros("ts", s.start_ns)
        .micros("dur", std::max<int64_t>(s.end_ns - s.start_ns, 0))
        .raw("args", "{\"step\":" + std::to_string(s.step) + ",\"layer\":" + std::to_string(s.layer) +
                         ",\"kind\":" + json_quote(kind) + ",\"source\":" + json_quote(source_name(s.source)) + "}")
        .end();
    ++counts.compute_spans;
  });
  reader.for_each_all_to_all({}, [&](const store::AllToAllEvent& a) {
    const wire::PeerTotals bytes = wire::peer_totals(a.peers);
    const std::string phase = phase_name(a.phase);
    events.begin('X', "all-to-all " + phase, pid_of(a.rank), a.tid)
        .field("cat", "all_to_all")
        .micros("ts", a.start_ns)
        .micros("dur", std::max<int64_t>(a.end_ns - a.start_ns, 0))
        .raw("args", "{\"step\":" + std::to_string(a.step) + ",\"layer\":" + std::to_string(a.layer) +
                         ",\"send_bytes\":" + std::to_string(bytes.send_bytes) +
                         ",\"recv_bytes\":" + std::to_string(bytes.recv_bytes) +
                         ",\"peers\":" + std::to_string(a.peers.size()) + "}")
        .end();
    ++counts.all_to_alls;
  });
  for (const store::Marker& m : markers) {
    events.begin('i', m.name, pid_of(m.rank), m.tid).field("s", "t").micros("ts", m.ts_ns).end();
    ++counts.markers;
  }
  const analysis::RangeCategoryNames categories(ranges);
  for (const store::Range& r : ranges) {
    if (r.kind == wire::RangeKind::kCategoryName) continue;  // not an event; named in args below
    std::string args = "{\"step\":" + std::to_string(r.step) + ",\"source\":" + json_quote(source_name(r.source));
    if (r.category != 0) args += ",\"category\":" + std::to_string(r.category);
    if (const std::string& name = categories.name_of(r); !name.empty())
      args += ",\"category_name\":" + json_quote(name);
    if (!r.payload.empty()) args += ",\"payload\":" + json_quote(r.payload);  // text: never trusted as JSON
    args += "}";
    const std::string category = r.domain.empty() ? "range" : r.domain;
    if (r.kind == wire::RangeKind::kMark) {
      events.begin('i', r.name, pid_of(r.rank), r.tid).field("s", "t").field("cat", category).micros("ts", r.start_ns);
    } else {
      events.begin('X', r.name, pid_of(r.rank), r.tid)
          .field("cat", category)
          .micros("ts", r.start_ns)
          .micros("dur", std::max<int64_t>(r.end_ns - r.start_ns, 0));
    }
    events.raw("args", args).end();
    ++counts.ranges;
  }
  const std::vector<std::string> range_paths = analysis::kernel_range_paths(ranges, kernels);
  for (size_t i = 0; i < kernels.size(); ++i) {
    const store::GpuKernel& k = kernels[i];
    std::string args = "{\"step\":" + std::to_string(k.step) + ",\"layer\":" + std::to_string(k.layer) +
                       ",\"correlation\":" + std::to_string(k.correlation_id) + ",\"grid\":[" +
                       std::to_string(k.grid[0]) + "," + std::to_string(k.grid[1]) + "," + std::to_string(k.grid[2]) +
                       "],\"block\":[" + std::to_string(k.block[0]) + "," + std::to_string(k.block[1]) + "," +
                       std::to_string(k.block[2]) + "]";
    if (!range_paths[i].empty()) args += ",\"nvtx_range\":" + json_quote(range_paths[i]);
    args += "}";
    events.begin('X', k.name, pid_of(k.rank), gpu_tid(k.device, k.stream))
        .field("cat", "gpu_kernel")
        .micros("ts", k.start_ns)
        .micros("dur", std::max<int64_t>(k.end_ns - k.start_ns, 0))
        .raw("args", args)
        .end();
    ++counts.gpu_kernels;
  }
  write_load_counters(events, reader, step_start, counts);
  events.finish();
  return counts;
}

}  // namespace moeprof::cli

// `moeprof info`: what a trace holds, as text or as one JSON object.
#include <ctime>
#include <iomanip>
#include <sstream>

#include "commands.h"
#include "moeprof/analysis/trace_notes.h"
#include "moeprof/cli/json_writer.h"
#include "moeprof/cli/names.h"
#include "moeprof/store/reader.h"

namespace moeprof::cli {
namespace {

struct TraceSummary {
  std::string path;
  int schema_version = 0;
  store::RunInfo run;
  std::vector<store::ProcessInfo> processes;
  std::optional<store::ModelShape> model;
  std::vector<int32_t> ranks;
  std::optional<std::pair<int64_t, int64_t>> steps;
  store::TableCounts counts;
  std::vector<store::DropCount> drops;
  std::optional<std::vector<wire::Source>> sources;
  std::vector<store::SourceTally> tallies;
  std::vector<analysis::TraceNote> notes;
};

TraceSummary summarize(const store::Reader& reader, const std::string& path) {
  TraceSummary s;
  s.path = path;
  s.schema_version = reader.schema_version();
  s.run = reader.run();
  s.processes = reader.processes();
  s.model = reader.model();
  s.ranks = reader.ranks();
  s.steps = reader.step_range();
  s.counts = reader.counts();
  s.drops = reader.drops();
  s.sources = reader.capture_sources();
  s.tallies = reader.source_tallies();
  s.notes = analysis::trace_notes(reader);
  return s;
}

// Table name -> rows, in schema order.
std::vector<std::pair<const char*, int64_t>> row_counts(const store::TableCounts& c) {
  return {{"processes", c.processes},     {"steps", c.steps},
          {"expert_load", c.expert_load}, {"expert_drops", c.expert_drops}, {"router_decisions", c.router_decisions},
          {"all_to_all", c.all_to_all},   {"compute_spans", c.compute_spans},
          {"markers", c.markers},         {"ranges", c.ranges},
          {"gpu_kernels", c.gpu_kernels}, {"placements", c.placements}};
}

std::string utc_time(int64_t realtime_ns) {
  const time_t seconds = static_cast<time_t>(realtime_ns / 1'000'000'000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

// -1,0,1,2,3,5 -> "-1,0-3,5" (a negative rank means "none reported": never part of a range)
std::string rank_list(const std::vector<int32_t>& ranks) {
  std::string text;
  for (size_t i = 0; i < ranks.size();) {
    size_t j = i;
    while (ranks[i] >= 0 && j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (!text.empty()) text += ",";
    text += std::to_string(ranks[i]);
    if (j > i) text += "-" + std::to_string(ranks[j]);
    i = j + 1;
  }
  return text;
}

void print_text(const TraceSummary& s, std::ostream& out) {
  const store::RunInfo& run = s.run;
  out << "trace      " << s.path << " (schema v" << s.schema_version << ")\n";
  out << "command    " << run.command << "\n";
  out << "host       " << run.host << ", moeprof " << run.moeprof_version << ", routing " << run.routing_mode << "\n";
  out << "started    " << utc_time(run.start_realtime_ns);
  if (run.finalized) {
    out << ", ran " << std::fixed << std::setprecision(3)
        << static_cast<double>(run.end_realtime_ns - run.start_realtime_ns) / 1e9 << " s, exit code " << run.exit_code
        << "\n";
  } else {
    out << ", not finalised (still recording, or moeprof was killed)\n";
  }
  if (s.model) {
    const store::ModelShape& m = *s.model;
    out << "model      " << (m.name.empty() ? "(unnamed)" : m.name) << ": " << m.num_layers << " layers, "
        << m.num_experts << " experts, top-" << m.top_k << ", " << m.num_shared_experts << " shared, hidden "
        << m.hidden_size << "\n";
  } else {
    out << "model      (not reported)\n";
  }
  out << "sources    ";
  if (!s.sources) out << "(not noted by this trace's moeprof)";
  for (size_t i = 0; s.sources && i < s.sources->size(); ++i) out << (i ? ", " : "") << source_name((*s.sources)[i]);
  out << "\n";
  for (const store::SourceTally& t : s.tallies) {
    out << "  " << std::left << std::setw(8) << source_name(t.source) << std::right << " recorded ";
    if (t.recorded)
      out << *t.recorded;
    else
      out << "(not counted)";
    out << ", dropped " << t.dropped << "\n";
  }
  out << "ranks      " << s.ranks.size();
  if (!s.ranks.empty()) out << " (" << rank_list(s.ranks) << ")";
  out << "\n";
  if (s.steps)
    out << "steps      " << s.steps->first << " .. " << s.steps->second << "\n";
  else
    out << "steps      none\n";
  out << "processes  " << s.processes.size() << "\n";
  if (!s.processes.empty()) {
    out << "  " << std::setw(8) << "pid" << std::setw(8) << "ppid" << std::setw(6) << "rank" << std::setw(7) << "local"
        << std::setw(7) << "world" << std::setw(5) << "ep" << std::setw(7) << "clean"
        << "  host / command\n";
    for (const store::ProcessInfo& p : s.processes) {
      out << "  " << std::setw(8) << p.pid << std::setw(8) << p.ppid << std::setw(6) << p.rank << std::setw(7)
          << p.local_rank << std::setw(7) << p.world_size << std::setw(5) << p.ep_size << std::setw(7)
          << (p.clean_exit ? "yes" : "no") << "  " << p.host << ": " << p.command << "\n";
    }
  }
  out << "rows       ";
  bool first = true;
  for (const auto& [table, rows] : row_counts(s.counts)) {
    out << (first ? "" : ", ") << table << " " << rows;
    first = false;
  }
  out << "\n";
  if (s.drops.empty() || s.counts.dropped == 0) {
    out << "dropped    0\n";
  } else {
    out << "dropped    " << s.counts.dropped << "\n";
    for (const store::DropCount& d : s.drops) {
      if (d.count == 0) continue;
      out << "  " << d.count << " " << source_name(d.source) << "/" << drop_reason_name(d.reason) << " (rank " << d.rank
          << ", process " << d.process_id << ")\n";
    }
  }
  if (s.notes.empty()) return;
  out << "notes      " << s.notes.size() << "\n";
  for (const analysis::TraceNote& note : s.notes) {
    out << "  ";
    const bool ranked = note.rank && *note.rank >= 0;  // -1: a process that never said its rank
    if (ranked) out << "rank " << *note.rank << (note.source ? " " : "");
    if (note.source) out << source_name(*note.source);
    if (ranked || note.source) out << ": ";
    out << note.text << "\n";
  }
}

void print_json(const TraceSummary& s, std::ostream& out) {
  JsonWriter json;
  json.begin_object();
  json.key("file").value(s.path);
  json.key("schema_version").value(s.schema_version);
  const store::RunInfo& run = s.run;
  json.key("run").begin_object();
  json.key("command").value(run.command);
  json.key("host").value(run.host);
  json.key("moeprof_version").value(run.moeprof_version);
  json.key("routing_mode").value(run.routing_mode);
  json.key("capture_sources");
  if (s.sources) {
    json.begin_array();
    for (wire::Source source : *s.sources) json.value(source_name(source));
    json.end_array();
  } else {
    json.null();
  }
  json.key("start_realtime_ns").value(run.start_realtime_ns);
  json.key("end_realtime_ns").value(run.end_realtime_ns);
  json.key("exit_code").value(run.exit_code);
  json.key("finalized").value(run.finalized);
  json.end_object();
  json.key("model");
  if (s.model) {
    json.begin_object();
    json.key("name").value(s.model->name);
    json.key("num_layers").value(s.model->num_layers);
    json.key("num_experts").value(s.model->num_experts);
    json.key("top_k").value(s.model->top_k);
    json.key("num_shared_experts").value(s.model->num_shared_experts);
    json.key("hidden_size").value(s.model->hidden_size);
    json.end_object();
  } else {
    json.null();
  }
  json.key("processes").begin_array();
  for (const store::ProcessInfo& p : s.processes) {
    json.begin_object();
    json.key("id").value(p.id);
    json.key("pid").value(p.pid);
    json.key("ppid").value(p.ppid);
    json.key("host").value(p.host);
    json.key("command").value(p.command);
    json.key("rank").value(p.rank);
    json.key("local_rank").value(p.local_rank);
    json.key("world_size").value(p.world_size);
    json.key("ep_size").value(p.ep_size);
    json.key("realtime_ns").value(p.realtime_ns);
    json.key("monotonic_ns").value(p.monotonic_ns);
    json.key("end_ns").value(p.end_ns);
    json.key("agent_version").value(p.agent_version);
    json.key("clean_exit").value(p.clean_exit);
    json.end_object();
  }
  json.end_array();
  json.key("ranks").begin_array();
  for (int32_t rank : s.ranks) json.value(rank);
  json.end_array();
  json.key("steps");
  if (s.steps) {
    json.begin_object().key("first").value(s.steps->first).key("last").value(s.steps->second).end_object();
  } else {
    json.null();
  }
  json.key("rows").begin_object();
  for (const auto& [table, rows] : row_counts(s.counts)) json.key(table).value(rows);
  json.end_object();
  json.key("sources").begin_array();
  for (const store::SourceTally& t : s.tallies) {
    json.begin_object();
    json.key("source").value(source_name(t.source));
    json.key("recorded");
    if (t.recorded)
      json.value(*t.recorded);
    else
      json.null();
    json.key("dropped").value(t.dropped);
    json.end_object();
  }
  json.end_array();
  json.key("dropped").value(s.counts.dropped);
  json.key("drops").begin_array();
  for (const store::DropCount& d : s.drops) {
    json.begin_object();
    json.key("process_id").value(d.process_id);
    json.key("rank").value(d.rank);
    json.key("source").value(source_name(d.source));
    json.key("reason").value(drop_reason_name(d.reason));
    json.key("count").value(d.count);
    json.end_object();
  }
  json.end_array();
  json.key("notes").begin_array();
  for (const analysis::TraceNote& note : s.notes) {
    json.begin_object();
    json.key("rank");
    if (note.rank)
      json.value(*note.rank);
    else
      json.null();
    json.key("source");
    if (note.source)
      json.value(source_name(*note.source));
    else
      json.null();
    json.key("text").value(note.text);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  out << json.str();
}

}  // namespace

int info_command(Args args, const Io& io) {
  static const OptionSpec kSpecs[] = {kHelpOption, {"json", 0, false}};
  const ParsedArgs parsed = parse_args("info", kSpecs, args);
  if (print_help_if_asked(parsed, "info", io)) return kExitOk;
  const std::unique_ptr<store::Reader> reader = open_trace_argument(parsed, "info");
  const std::string& path = parsed.positionals[0];
  // Everything is read before anything is printed, so a corrupt trace prints one error line.
  const TraceSummary summary = summarize(*reader, path);
  if (parsed.has("json"))
    print_json(summary, io.out);
  else
    print_text(summary, io.out);
  return kExitOk;
}

}  // namespace moeprof::cli

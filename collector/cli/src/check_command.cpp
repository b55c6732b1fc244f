// `moeprof check`: integrity and schema version of a trace, and that its window summaries
// say what its rows do.
#include "commands.h"
#include "moeprof/analysis/window_summariser.h"
#include "moeprof/store/reader.h"

namespace moeprof::cli {

int check_command(Args args, const Io& io) {
  static const OptionSpec kSpecs[] = {kHelpOption};
  const ParsedArgs parsed = parse_args("check", kSpecs, args);
  if (print_help_if_asked(parsed, "check", io)) return kExitOk;
  const std::unique_ptr<store::Reader> reader = open_trace_argument(parsed, "check");
  const std::string& path = parsed.positionals[0];
  std::vector<std::string> problems = reader->check();
  if (problems.empty()) problems = analysis::check_summaries(*reader);  // needs rows that decode
  if (!problems.empty()) {
    for (const std::string& problem : problems) io.out << path << ": " << problem << "\n";
    io.err << "moeprof: " << path << ": " << problems.size() << " problem" << (problems.size() == 1 ? "" : "s")
           << " found" << std::endl;
    return kExitFailure;
  }
  const store::TableCounts c = reader->counts();
  const int64_t rows = c.processes + c.steps + c.expert_load + c.expert_drops + c.router_decisions + c.all_to_all + c.compute_spans +
                       c.markers + c.ranges + c.gpu_kernels + c.placements;
  io.out << "OK: " << path << " (schema v" << reader->schema_version() << ", " << rows << " rows)\n";
  return kExitOk;
}

}  // namespace moeprof::cli

// `moeprof place`: a placement that lowers the busiest EP rank for the load a trace recorded,
// written as the placement file `moe-engine --placement` reads.
#include <iomanip>

#include "commands.h"
#include "moeprof/analysis/placement_suggestion.h"
#include "moeprof/analysis/rank_load.h"

namespace moeprof::cli {

int place_command(Args args, const Io& io) {
  static const OptionSpec kSpecs[] = {
      kHelpOption, {"ranks", 0, true}, {"redundant", 0, true}, {"nodes", 0, true}, {"output", 'o', true}};
  const ParsedArgs parsed = parse_args("place", kSpecs, args);
  if (print_help_if_asked(parsed, "place", io)) return kExitOk;
  for (const char* required : {"ranks", "output"})
    if (!parsed.has(required)) throw UsageError("place", std::string("missing --") + required);
  analysis::SuggestionOptions options;
  options.num_ranks = static_cast<int32_t>(parse_integer("place", "--ranks", *parsed.value("ranks"), 1, 1 << 16));
  if (auto redundant = parsed.value("redundant"))
    options.redundant_per_layer = static_cast<int32_t>(parse_integer("place", "--redundant", *redundant, 0, 1 << 20));
  if (auto nodes = parsed.value("nodes"))
    options.num_nodes = static_cast<int32_t>(parse_integer("place", "--nodes", *nodes, 1, 1 << 16));
  const std::string output = *parsed.value("output");
  if (output.empty()) throw UsageError("place", "option --output needs a file name");

  const std::unique_ptr<store::Reader> reader = open_trace_argument(parsed, "place");
  const std::string& path = parsed.positionals[0];
  const analysis::ExpertLoadMatrix load = analysis::expert_load_matrix(*reader, {});
  const std::optional<store::ModelShape> model = reader->model();
  const placement::PlacementFile input =
      analysis::placement_from_trace(reader->placements(), model ? model->num_experts : 0, options.num_ranks);
  analysis::PlacementSuggestion suggestion;
  std::string error;
  if (!analysis::suggest_placement(load, options, &input, &suggestion, &error)) {
    io.err << "moeprof: place: " << path << ": " << error << std::endl;
    return kExitFailure;
  }
  if (!placement::write_placement_file(output, suggestion.placement, &error)) {
    io.err << "moeprof: place: " << error << std::endl;
    return kExitFailure;
  }
  io.out << std::fixed << std::setprecision(0) << "busiest rank, summed over layers: " << suggestion.busiest_before
         << " -> " << suggestion.busiest_after << " tokens; balancedness " << std::setprecision(3)
         << suggestion.balancedness_before << " -> " << suggestion.balancedness_after << "\n"
         << "wrote " << output << "\n";
  return kExitOk;
}

}  // namespace moeprof::cli

// `moeprof export`: expert load, routing decisions, all-to-all, range or GPU kernel rows as
// CSV, or the whole trace as Chrome trace-event JSON, to a file or stdout.
#include "commands.h"
#include "moeprof/cli/chrome_export.h"
#include "moeprof/cli/csv_export.h"
#include "moeprof/store/reader.h"

namespace moeprof::cli {

int export_command(Args args, const Io& io) {
  static const OptionSpec kSpecs[] = {kHelpOption, {"what", 0, true}, {"format", 0, true}, {"output", 'o', true}};
  const ParsedArgs parsed = parse_args("export", kSpecs, args);
  if (print_help_if_asked(parsed, "export", io)) return kExitOk;
  const std::optional<std::string> what = parsed.value("what");
  const std::string format = parsed.value("format").value_or("csv");
  if (format != "csv" && format != "chrome")
    throw UsageError("export", "--format must be csv or chrome, not '" + format + "'");
  if (format == "chrome" && what)
    throw UsageError("export", "--format chrome exports the whole trace; it takes no --what");
  if (format == "csv" && !what) throw UsageError("export", "missing --what expert-load|routing|a2a|ranges|kernels");
  if (what && *what != "expert-load" && *what != "routing" && *what != "a2a" && *what != "ranges" &&
      *what != "kernels")
    throw UsageError("export", "--what must be expert-load, routing, a2a, ranges or kernels, not '" + *what + "'");
  const std::optional<std::string> output = parsed.value("output");
  if (output && output->empty()) throw UsageError("export", "option --output needs a file name");

  const std::unique_ptr<store::Reader> reader = open_trace_argument(parsed, "export");
  const auto write = [&](std::ostream& out) {
    if (format == "chrome")
      write_chrome_trace(*reader, out);
    else if (*what == "expert-load")
      write_expert_load_csv(*reader, out);
    else if (*what == "routing")
      write_routing_csv(*reader, out);
    else if (*what == "ranges")
      write_ranges_csv(*reader, out);
    else if (*what == "kernels")
      write_kernels_csv(*reader, out);
    else
      write_all_to_all_csv(*reader, out);
  };
  return write_output(output.value_or("-"), io, write);
}

}  // namespace moeprof::cli

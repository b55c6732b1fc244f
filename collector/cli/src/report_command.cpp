// `moeprof report`: the load report of a window of a trace, as JSON, Markdown, HTML or PDF.
#include <unistd.h>

#include <iostream>

#include "commands.h"
#include "moeprof/report/report.h"

namespace moeprof::cli {
namespace {

// "3", "0-3" or "0-3,7": the listed integers, each in [0, 1 << 20].
std::vector<int32_t> parse_list(const std::string& what, const std::string& text) {
  std::vector<int32_t> out;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    const size_t dash = item.find('-', 1);
    const auto low = parse_integer("report", what, item.substr(0, dash), 0, 1 << 20);
    const auto high = dash == std::string::npos ? low : parse_integer("report", what, item.substr(dash + 1), low, 1 << 20);
    for (int64_t v = low; v <= high; ++v) out.push_back(static_cast<int32_t>(v));
    at = comma + 1;
  }
  return out;
}

}  // namespace

int report_command(Args args, const Io& io) {
  static const OptionSpec kSpecs[] = {kHelpOption,         {"format", 0, true}, {"output", 'o', true},
                                      {"steps", 0, true},  {"layers", 0, true}, {"ranks", 0, true},
                                      {"drop-target", 0, true}, {"weight-bytes", 0, true}};
  const ParsedArgs parsed = parse_args("report", kSpecs, args);
  if (print_help_if_asked(parsed, "report", io)) return kExitOk;
  const std::string format = parsed.value("format").value_or("json");
  if (!report::is_format(format))
    throw UsageError("report", "--format must be json, md, html or pdf, not '" + format + "'");
  const std::optional<std::string> output = parsed.value("output");
  if (!output || output->empty()) throw UsageError("report", "missing -o FILE ('-' for stdout)");
  report::Options options;
  if (auto steps = parsed.value("steps")) {
    const size_t colon = steps->find(':');
    if (colon == std::string::npos) throw UsageError("report", "--steps takes A:B (steps A to B-1), not '" + *steps + "'");
    options.step_begin = parse_integer("report", "--steps", steps->substr(0, colon), 0, INT64_MAX / 2);
    options.step_end = parse_integer("report", "--steps", steps->substr(colon + 1), *options.step_begin, INT64_MAX / 2);
  }
  if (auto layers = parsed.value("layers")) options.layers = parse_list("--layers", *layers);
  if (auto ranks = parsed.value("ranks")) options.ranks = parse_list("--ranks", *ranks);
  if (auto target = parsed.value("drop-target")) options.drop_target = parse_number("report", "--drop-target", *target, 0, 1);
  if (auto bytes = parsed.value("weight-bytes"))
    options.bytes_per_weight = parse_number("report", "--weight-bytes", *bytes, 0.125, 8);

  const std::unique_ptr<store::Reader> reader = open_trace_argument(parsed, "report");
  const bool terminal = ::isatty(STDERR_FILENO) == 1 && &io.err == &std::cerr;
  const report::Report report = report::build_report(*reader, options, [&](std::string_view stage, int done, int total) {
    if (terminal) io.err << "\rreport: " << stage << " " << done << "/" << total << "   " << std::flush;
  });
  if (terminal) io.err << "\r" << std::string(40, ' ') << "\r" << std::flush;
  const std::string text = *report::render(report, format);
  return write_output(*output, io, [&](std::ostream& out) { out << text; });
}

}  // namespace moeprof::cli

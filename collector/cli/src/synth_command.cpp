// `moeprof synth`: a synthetic trace of a simulated MoE job, through the normal store writer.
#include <sys/stat.h>

#include <iomanip>

#include "commands.h"
#include "moeprof/synth/synth.h"

namespace moeprof::cli {
namespace {

void list_shapes(std::ostream& out) {
  for (const synth::ShapePreset& preset : synth::shape_presets()) {
    const store::ModelShape& m = preset.shape;
    out << preset.name << ": " << m.num_layers << " layers, " << m.num_experts << " experts, top-" << m.top_k << ", "
        << m.num_shared_experts << " shared, hidden " << m.hidden_size << "\n";
  }
}

double parse_skew(const std::string& text) {
  if (text.compare(0, 5, "zipf:") != 0) throw UsageError("synth", "--skew must be zipf:S, not '" + text + "'");
  return parse_number("synth", "the S of --skew zipf:S", text.substr(5), 0.0, 100.0);
}

}  // namespace

int synth_command(Args args, const Io& io) {
  static const OptionSpec kSpecs[] = {
      kHelpOption,       {"shape", 0, true},    {"ranks", 0, true}, {"steps", 0, true},    {"tokens", 0, true},
      {"skew", 0, true},   {"routing", 0, false},     {"no-summaries", 0, false},
      {"seed", 0, true},   {"output", 'o', true}, {"list-shapes", 0, false}};
  const ParsedArgs parsed = parse_args("synth", kSpecs, args);
  if (print_help_if_asked(parsed, "synth", io)) return kExitOk;
  if (!parsed.positionals.empty()) throw UsageError("synth", "unexpected argument '" + parsed.positionals[0] + "'");
  if (parsed.has("list-shapes")) {
    list_shapes(io.out);
    return kExitOk;
  }
  for (const char* required : {"shape", "ranks", "steps", "output"})
    if (!parsed.has(required)) throw UsageError("synth", std::string("missing --") + required);

  synth::Options options;
  const std::string shape = *parsed.value("shape");
  const std::optional<store::ModelShape> found = synth::find_shape(shape);
  if (!found) throw UsageError("synth", "unknown shape '" + shape + "'; 'moeprof synth --list-shapes' lists them");
  options.shape = *found;
  options.ranks = static_cast<int32_t>(parse_integer("synth", "--ranks", *parsed.value("ranks"), 1, 1 << 16));
  options.steps = parse_integer("synth", "--steps", *parsed.value("steps"), 1, int64_t{1} << 40);
  if (auto tokens = parsed.value("tokens"))
    options.tokens_per_rank = static_cast<uint32_t>(parse_integer("synth", "--tokens", *tokens, 1, 1 << 24));
  if (auto skew = parsed.value("skew")) options.zipf_skew = parse_skew(*skew);
  if (auto seed = parsed.value("seed"))
    options.seed = static_cast<uint64_t>(parse_integer("synth", "--seed", *seed, 0, INT64_MAX));
  options.routing = parsed.has("routing");
  options.summaries = !parsed.has("no-summaries");
  const std::string path = *parsed.value("output");
  if (path.empty()) throw UsageError("synth", "option --output needs a file name");

  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    io.err << "moeprof: synth: " << path << " already exists" << std::endl;
    return kExitFailure;
  }
  std::string error;
  if (!synth::generate(options, path, &error)) {
    io.err << "moeprof: synth: " << error << std::endl;
    return kExitFailure;
  }
  const double megabytes = ::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) / (1 << 20) : 0.0;
  io.err << "moeprof: wrote " << path << ": " << shape << ", " << options.ranks << " ranks x " << options.steps
         << " steps, " << std::fixed << std::setprecision(1) << megabytes << " MiB" << std::endl;
  return kExitOk;
}

}  // namespace moeprof::cli

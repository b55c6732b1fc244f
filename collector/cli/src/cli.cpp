#include "moeprof/cli/cli.h"

#include <exception>
#include <new>

#include "commands.h"
#include "moeprof/cli/atomic_file.h"
#include "moeprof/store/reader.h"

namespace moeprof::cli {
namespace {

struct Command {
  const char* name;
  int (*run)(Args, const Io&);
  const char* summary;
  const char* usage;
};

const Command kCommands[] = {
    {"run", run_command, "record a command under the agent into a trace",
     "usage: moeprof run [-o FILE.db] [-f|--force] [--routing off|sample:N|full] [--capture LIST] -- CMD ARGS...\n"
     "\n"
     "Starts a collector on a private Unix socket, runs CMD with the agent preloaded into it and\n"
     "every process it starts, forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT to it, waits, finalises\n"
     "the trace and prints a summary. Exits with CMD's exit code (128+N when CMD died of\n"
     "signal N, 127 when it could not be started).\n"
     "\n"
     "  -o, --output FILE.db   where to write (default moeprof-trace.db, then moeprof-trace-1.db, ...)\n"
     "  -f, --force            overwrite FILE.db if it exists\n"
     "  --routing MODE         router decisions: off (default), sample:N (every Nth step) or full\n"
     "  --capture LIST         sources to capture, comma-separated: api (the engine's own calls,\n"
     "                         always on), mpi (all-to-alls of any MPI program), nvtx (NVTX ranges,\n"
     "                         marks and payloads), nccl (NCCL's profiler plugin: collectives,\n"
     "                         all-to-alls), cupti (GPU kernels), python (PyTorch programs:\n"
     "                         torch.distributed all-to-alls, transformers and fairscale MoE\n"
     "                         layers), or all (default: every one built)\n"},
    {"info", info_command, "show what a trace holds",
     "usage: moeprof info FILE.db [--json]\n"
     "\n"
     "Shows the run, its processes, the model shape, ranks, step range, row counts, per\n"
     "capture source what was recorded and what was dropped, and notes: that no process\n"
     "reported, that no MoE event was recorded, what a capture source could not record.\n"
     "\n"
     "  --json   print the same as one JSON object\n"},
    {"check", check_command, "check a trace's integrity and schema version",
     "usage: moeprof check FILE.db\n"
     "\n"
     "Checks that FILE.db is a moeprof trace of a schema this build reads, SQLite's integrity\n"
     "check and that every stored blob decodes. Prints OK or each problem; exits 1 on problems.\n"},
    {"export", export_command,
     "export expert load, routing, all-to-all, range or kernel rows as CSV, or the trace for Perfetto",
     "usage: moeprof export FILE.db --what expert-load|routing|a2a|ranges|kernels [--format csv] [-o FILE]\n"
     "       moeprof export FILE.db --format chrome [-o FILE]\n"
     "\n"
     "  --what expert-load   rank,step,layer,expert,tokens: one row per non-zero count, counts\n"
     "                       recorded more than once for the same key added up\n"
     "  --what routing       rank,step,layer,token,slot,expert,weight: one row per recorded\n"
     "                       routing choice (--routing full or sample:N); token numbers the\n"
     "                       tokens of a (rank, step, layer), slot is 0..top_k-1\n"
     "  --what a2a           rank,step,layer,phase,peer,send_bytes,recv_bytes,start_ns,end_ns:\n"
     "                       one row per all-to-all and peer\n"
     "  --what ranges        rank,tid,step,kind,source,domain,name,category,color,start_ns,end_ns,\n"
     "                       payload,category_name: NVTX ranges and marks, NCCL collectives\n"
     "                       (payload: JSON text; category_name: the NVTX name of category)\n"
     "  --what kernels       rank,device,stream,correlation_id,step,layer,compute_kind,name,start_ns,\n"
     "                       end_ns,launch_ns,launch_tid,grid_x..z,block_x..z,nvtx_range: GPU kernels\n"
     "                       (CUPTI); nvtx_range: the ranges open on the launching thread at\n"
     "                       launch, outermost first, as domain:name joined by ' > '\n"
     "  --format csv         CSV of --what (default)\n"
     "  --format chrome      Chrome trace-event JSON of the whole trace (Perfetto's UI and\n"
     "                       chrome://tracing open it): a process per rank, steps, compute and\n"
     "                       all-to-alls as complete events, markers, expert load as counters,\n"
     "                       ranges, GPU kernels on a track per device and stream\n"
     "  -o, --output FILE    write to FILE (atomically) instead of stdout ('-': stdout)\n"},
    {"place", place_command, "suggest an expert placement for the recorded load",
     "usage: moeprof place FILE.db --ranks R [--redundant N] [--nodes K] -o placement.json\n"
     "\n"
     "Replicates the hottest experts and packs the replicas onto ranks so that the busiest\n"
     "rank gets fewer tokens (EPLB-style), for the expert load of the whole trace, and writes\n"
     "the placement file `moe-engine --placement` reads (schemas/placement.md). Prints the\n"
     "predicted busiest-rank load and balancedness before and after.\n"
     "\n"
     "  --ranks R          expert-parallel ranks to place onto\n"
     "  --redundant N      extra expert slots per layer (default 0: placement only)\n"
     "  --nodes K          place hierarchically: experts onto K nodes first, then ranks\n"
     "  -o, --output FILE  the placement file to write\n"},
    {"report", report_command, "the load report of a trace (imbalance, rank load, capacity, communication)",
     "usage: moeprof report FILE.db [--format json|md|html|pdf] -o FILE [--steps A:B] [--layers L]\n"
     "                      [--ranks R] [--drop-target F] [--weight-bytes B]\n"
     "\n"
     "Every number from collector/analysis for the window: per layer and summed, expert load\n"
     "(imbalance, balancedness, cv, gini, entropy, percentiles, dead experts, drops, drift and\n"
     "collapsed experts), rank overload and expert-weight memory under the recorded placement,\n"
     "the capacity factor for a drop target, tokens/s, expert co-activation (when router\n"
     "decisions were recorded), all-to-all time, bytes, bandwidth and stragglers, overlap and\n"
     "exposed communication, and what a suggested placement would gain. JSON follows\n"
     "schemas/report.schema.json and holds every number the other formats show; HTML is one\n"
     "self-contained file with SVG charts; PDF is for printed reviews.\n"
     "\n"
     "  --format F         json, md, html or pdf (default json)\n"
     "  -o FILE            where to write ('-': stdout)\n"
     "  --steps A:B        steps A to B-1 only\n"
     "  --layers L         layers, e.g. 0-3,7\n"
     "  --ranks R          ranks, e.g. 0,2\n"
     "  --drop-target F    drop fraction for the capacity factor (default 0.01)\n"
     "  --weight-bytes B   bytes per expert weight for memory per rank (default 2: bf16)\n"},
    {"synth", synth_command, "write a synthetic trace of a simulated MoE job",
     "usage: moeprof synth --shape NAME --ranks N --steps N [--tokens N] [--skew zipf:S]\n"
     "                     [--routing] [--no-summaries] [--seed N] -o FILE.db\n"
     "       moeprof synth --list-shapes\n"
     "\n"
     "  --shape NAME     model shape preset (see --list-shapes)\n"
     "  --ranks N        expert-parallel ranks\n"
     "  --steps N        training/inference steps\n"
     "  --tokens N       tokens each rank routes per step and layer (default 4096)\n"
     "  --skew zipf:S    Zipf(S) expert popularity (default: uniform)\n"
     "  --routing        also write full router decisions\n"
     "  --no-summaries   leave out the window summaries (as a trace of an older moeprof)\n"
     "  --seed N         random seed (default 1)\n"
     "  -o, --output     the trace to create (never overwritten)\n"},
};

const Command* find_command(const std::string& name) {
  for (const Command& command : kCommands)
    if (name == command.name) return &command;
  return nullptr;
}

void print_overview(std::ostream& out) {
  out << "usage: moeprof COMMAND [ARGS...]\n\nmoeprof records and inspects Mixture-of-Experts traces.\n\ncommands:\n";
  for (const Command& command : kCommands) {
    std::string name = command.name;
    name.resize(8, ' ');
    out << "  " << name << command.summary << "\n";
  }
  out << "\n'moeprof help COMMAND' or 'moeprof COMMAND --help' shows a command's usage.\n"
         "'moeprof --version' shows the version.\n";
}

int help(Args args, const Io& io) {
  if (args.empty()) {
    print_overview(io.out);
    return kExitOk;
  }
  const Command* command = find_command(args[0]);
  if (command == nullptr || args.size() > 1)
    throw UsageError("", args.size() > 1 ? "help takes one command name" : "unknown command '" + args[0] + "'");
  io.out << command->usage;
  return kExitOk;
}

int dispatch(Args args, const Io& io) {
  if (args.empty()) throw UsageError("", "missing command");
  const std::string& first = args[0];
  if (first == "-h" || first == "--help" || first == "help") return help(args.subspan(1), io);
  if (first == "--version" || first == "-V") {
    io.out << "moeprof " << version() << "\n";
    return kExitOk;
  }
  const Command* command = find_command(first);
  if (command == nullptr) {
    throw UsageError("",
                     (first.size() > 1 && first[0] == '-' ? "unknown option '" : "unknown command '") + first + "'");
  }
  return command->run(args.subspan(1), io);
}

}  // namespace

const char* version() { return MOEPROF_VERSION; }

std::string command_help(const std::string& command) {
  const Command* found = find_command(command);
  return found ? found->usage : "";
}

bool print_help_if_asked(const ParsedArgs& parsed, const std::string& command, const Io& io) {
  if (!parsed.has("help")) return false;
  io.out << command_help(command);
  return true;
}

std::unique_ptr<store::Reader> open_trace_argument(const ParsedArgs& parsed, const std::string& command) {
  if (parsed.positionals.size() != 1)
    throw UsageError(command, parsed.positionals.empty() ? "missing the trace file" : "expects one trace file");
  std::string error;
  std::unique_ptr<store::Reader> reader = store::Reader::open(parsed.positionals[0], &error);
  if (!reader) throw store::Error(error);
  return reader;
}

int write_output(const std::string& output, const Io& io, const std::function<void(std::ostream&)>& write) {
  if (output == "-") {
    write(io.out);
    io.out.flush();
    return kExitOk;
  }
  std::string error;
  const std::unique_ptr<AtomicFile> file = AtomicFile::create(output, &error);
  if (!file) {
    io.err << "moeprof: " << error << std::endl;
    return kExitFailure;
  }
  write(file->stream());
  if (!file->commit(&error)) {
    io.err << "moeprof: " << error << std::endl;
    return kExitFailure;
  }
  return kExitOk;
}

int main_entry(std::span<const std::string> args, const Io& io) {
  try {
    return dispatch(args, io);
  } catch (const UsageError& e) {
    const std::string hint = e.command.empty() ? "moeprof --help" : "moeprof help " + e.command;
    const std::string where = e.command.empty() ? "" : e.command + ": ";
    io.err << "moeprof: " << where << e.what() << " (see '" << hint << "')" << std::endl;
    return kExitUsage;
  } catch (const store::Error& e) {
    io.err << "moeprof: " << e.what() << std::endl;
    return kExitFailure;
  } catch (const std::bad_alloc&) {
    io.err << "moeprof: out of memory" << std::endl;
    return kExitFailure;
  } catch (const std::exception& e) {
    io.err << "moeprof: " << e.what() << std::endl;
    return kExitFailure;
  }
}

}  // namespace moeprof::cli

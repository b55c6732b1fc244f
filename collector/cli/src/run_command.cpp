// `moeprof run`: collector + workload + finalised trace.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>

#include "child_process.h"
#include "commands.h"
#include "moeprof/analysis/window_summariser.h"
#include "moeprof/cli/run_setup.h"
#include "moeprof/ingest/collector.h"
#include "moeprof/store/writer.h"

namespace moeprof::cli {
namespace {

using namespace std::chrono_literals;

// How long agents may keep sending after the command ended (they flush at exit).
constexpr auto kAgentGrace = 5s;

int fail_setup(const Io& io, const std::string& problem) {
  io.err << "moeprof: run: " << problem << std::endl;
  return kExitUsage;
}

int64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// A trace and the files SQLite keeps next to it.
bool remove_trace_files(const std::string& path, std::string* error) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string file = path + suffix;
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
      *error = "cannot remove " + file + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

// A new trace at `path`; an existing file is replaced only when `force`d.
std::unique_ptr<store::Writer> create_trace(const std::string& path, bool force, std::string* error) {
  if (exists(path)) {
    if (!force) {
      *error = path + " already exists (use -f to overwrite it)";
      return nullptr;
    }
    if (!remove_trace_files(path, error)) return nullptr;
  }
  return store::Writer::create(path, error, store::in_background(analysis::make_window_summariser()));
}

void discard_trace(std::unique_ptr<store::Writer> writer, const std::string& path) {
  writer.reset();  // closes the database before its files go
  std::string ignored;
  remove_trace_files(path, &ignored);
}

// After the command ended: give agents still connected (children that outlived it, or
// flushes in flight) up to kAgentGrace; a signal to moeprof cuts the wait short.
void wait_for_agents(ingest::Collector& collector, const SignalBlock& signals, const Io& io) {
  collector.request_stop(kAgentGrace);
  const auto start = std::chrono::steady_clock::now();
  bool told = false;
  while (!collector.wait_stopped(0ms)) {
    siginfo_t info{};
    const int sig = signals.wait(100ms, &info);
    if (sig != 0 && sig != SIGCHLD) collector.request_stop(0ms);
    if (!told && std::chrono::steady_clock::now() - start > 1s) {
      io.err << "moeprof: waiting up to " << kAgentGrace.count() << " s for " << collector.open_connections()
             << " agent(s) to finish sending" << std::endl;
      told = true;
    }
  }
}

void print_summary(const std::string& path, const ingest::IngestTotals& totals, const Io& io) {
  using wire::RecordType;
  const auto n = [&](RecordType type) { return totals.records[static_cast<uint8_t>(type)]; };
  std::ostringstream line;
  line << "moeprof: trace written to " << path << ": " << totals.streams << " process"
       << (totals.streams == 1 ? "" : "es") << ", " << totals.record_total() << " record"
       << (totals.record_total() == 1 ? "" : "s") << " (" << n(RecordType::kExpertCounts) << " expert counts, "
       << n(RecordType::kRouterDecisions) << " router decisions, " << n(RecordType::kAllToAll) << " all-to-all, "
       << n(RecordType::kComputeSpan) << " compute spans, " << n(RecordType::kMarker) << " markers, "
       << n(RecordType::kRange) << " ranges, " << n(RecordType::kGpuKernel) << " GPU kernels, "
       << n(RecordType::kStepEnd) << " step ends), " << totals.agent_dropped + totals.bad_frames << " dropped";
  if (totals.bad_frames != 0) line << " (" << totals.bad_frames << " bad frames)";
  io.err << line.str() << std::endl;
  if (totals.streams == 0)
    io.err
        << "moeprof: no process reported to the collector (is the command dynamically linked? is MOEPROF_DISABLE set?)"
        << std::endl;
}

}  // namespace

int run_command(Args args, const Io& io) {
  static const OptionSpec kSpecs[] = {kHelpOption, {"output", 'o', true}, {"force", 'f', false}, {"routing", 0, true},
                                      {"capture", 0, true}};
  const ParsedArgs parsed = parse_args("run", kSpecs, args, /*takes_command=*/true);
  if (print_help_if_asked(parsed, "run", io)) return kExitOk;
  if (parsed.command.empty())
    throw UsageError("run", "missing the command to run (moeprof run [options] -- CMD ARGS...)");
  const std::string routing_text = parsed.value("routing").value_or("off");
  const std::optional<std::string> routing = parse_routing_mode(routing_text);
  if (!routing) throw UsageError("run", "--routing must be off, full or sample:N, not '" + routing_text + "'");
  const std::optional<std::string> output = parsed.value("output");
  if (output && output->empty()) throw UsageError("run", "option --output needs a file name");

  std::string error;
  const std::string agent = find_agent_library(executable_path(), &error);
  if (agent.empty()) return fail_setup(io, error);
  const std::optional<std::vector<CaptureAdapter>> adapters =
      capture_adapters(parsed.value("capture").value_or("all"), agent, &error);
  if (!adapters) throw UsageError("run", error);

  const std::string path = output ? *output : default_trace_path();
  const FileSizeSignalIgnored file_size_signal;
  std::unique_ptr<store::Writer> writer = create_trace(path, parsed.has("force"), &error);
  if (!writer) return fail_setup(io, error);

  store::RunInfo run;
  run.command = shell_command_line(parsed.command);
  run.host = host_name();
  run.moeprof_version = version();
  run.routing_mode = *routing;
  run.start_realtime_ns = realtime_ns();
  writer->set_run(run);

  // Block the forwarded signals before the collector thread exists, so it inherits the block
  // and they all arrive in this thread's wait loops.
  SignalBlock signals;
  std::unique_ptr<ingest::Collector> collector = ingest::Collector::start(*writer, {}, &error);
  if (!collector) {
    discard_trace(std::move(writer), path);
    return fail_setup(io, error);
  }
  const WorkloadEnvironment workload = workload_environment(environ, collector->socket_path(), *routing, agent, *adapters);
  for (const std::string& note : workload.notes) io.err << "moeprof: " << note << "\n";
  const std::vector<std::string>& env = workload.env;
  io.out.flush();
  io.err.flush();
  const pid_t child = start_process(parsed.command, env, signals.previous(), file_size_signal.previous(), &error);
  if (child < 0) {
    // Nothing ran, so there is no trace to keep.
    collector.reset();
    discard_trace(std::move(writer), path);
    io.err << "moeprof: " << error << std::endl;
    return 127;
  }
  const int exit_code = wait_forwarding_signals(child, signals);
  wait_for_agents(*collector, signals, io);

  std::string write_error;
  bool written = collector->stop(0ms, &write_error);
  run.end_realtime_ns = realtime_ns();
  run.exit_code = exit_code;
  written = written && writer->finalize(run, &write_error);
  writer.reset();
  if (written) {
    print_summary(path, collector->totals(), io);
  } else {
    io.err << "moeprof: the trace " << path << " is incomplete: " << write_error << std::endl;
  }
  return exit_code;
}

}  // namespace moeprof::cli

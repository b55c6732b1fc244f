// The decisions `moeprof run` makes before it starts anything: where the trace goes, which
// agent library is preloaded, and the workload's environment.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace moeprof::cli {

// The first of moeprof-trace.db, moeprof-trace-1.db, moeprof-trace-2.db, ... that does not
// exist in `directory` ("" = the current directory).
std::string default_trace_path(const std::string& directory = "");

// "off", "full" or "sample:N" with N >= 1, in canonical form; nullopt for anything else.
std::optional<std::string> parse_routing_mode(const std::string& text);

// The path of this executable (/proc/self/exe).
std::string executable_path();

// The agent library to preload: $MOEPROF_AGENT_PATH when set, else
// <directory of `executable`>/../lib/libmoeprof_agent.so. Absolute. "" and a one-line
// `error` when it is not a readable file.
std::string find_agent_library(const std::string& executable, std::string* error);

// A capture adapter of `moeprof run --capture`: its library, next to the agent, gets into the
// workload either preloaded (mpi), named by the variable its host library reads (nvtx:
// NVTX_INJECTION64_PATH, nccl: NCCL_PROFILER_PLUGIN, cupti: CUDA_INJECTION64_PATH), or put
// first on a search path (python: the folder of the `moeprof` package and its sitecustomize.py,
// on PYTHONPATH).
struct CaptureAdapter {
  std::string source;
  std::string library;   // a shared library, or the folder of a search path
  std::string variable;  // empty: preloaded
  bool search_path = false;  // `library` goes first on the path list in `variable`
  bool operator==(const CaptureAdapter&) const = default;
};

// The capture sources: `api` (the engine's own calls, always recorded: the agent itself),
// then those of mpi, nvtx, nccl, cupti whose library lies next to the agent, and python where
// <agent's folder>/python/moeprof is.
std::vector<std::string> available_sources(const std::string& agent);
// The adapters of a comma-separated list of sources ("all": every available one), each once.
// nullopt and a one-line `error` for a name that is unknown or not built here.
std::optional<std::vector<CaptureAdapter>> capture_adapters(const std::string& list, const std::string& agent,
                                                            std::string* error);

struct WorkloadEnvironment {
  std::vector<std::string> env;
  std::vector<std::string> notes;  // one line each: adapters left out, and why
};
// `base` (an environ-style array) with MOEPROF_SOCKET and MOEPROF_ROUTING set, the agent and
// the preloaded adapters appended to LD_PRELOAD (each once), search-path adapters put first on
// their path list (once), and the other adapters' variables set. A variable another tool
// already set (nsys sets NVTX_INJECTION64_PATH and CUDA_INJECTION64_PATH) is left alone: that
// tool holds the hook, and a note says the source is off.
WorkloadEnvironment workload_environment(const char* const* base, const std::string& socket, const std::string& routing,
                                         const std::string& agent, std::span<const CaptureAdapter> adapters);

// argv as one line that a POSIX shell reads back as the same words (for the trace's run row).
std::string shell_command_line(std::span<const std::string> argv);

}  // namespace moeprof::cli

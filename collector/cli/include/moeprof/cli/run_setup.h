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

// The capture sources of `moeprof run --capture`: `api` (the engine's own calls, always
// recorded: the agent itself) and the adapters whose library lies next to the agent
// (`mpi`: libmoeprof_mpi.so), in that order.
std::vector<std::string> available_sources(const std::string& agent);
// The adapter libraries to preload for a comma-separated list of sources ("all": every
// available one). Empty and a one-line `error` for a name that is unknown or not built here.
std::optional<std::vector<std::string>> capture_libraries(const std::string& list, const std::string& agent,
                                                          std::string* error);

// `base` (an environ-style array) with MOEPROF_SOCKET and MOEPROF_ROUTING set and the
// libraries (the agent first, then adapters) appended to LD_PRELOAD, each once.
std::vector<std::string> workload_environment(const char* const* base, const std::string& socket,
                                              const std::string& routing, std::span<const std::string> preload);

// argv as one line that a POSIX shell reads back as the same words (for the trace's run row).
std::string shell_command_line(std::span<const std::string> argv);

}  // namespace moeprof::cli

#include "moeprof/cli/run_setup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace moeprof::cli {
namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

std::string default_trace_path(const std::string& directory) {
  const std::string prefix = directory.empty() ? "" : directory + "/";
  std::string candidate = prefix + "moeprof-trace.db";
  for (int n = 1; exists(candidate); ++n) candidate = prefix + "moeprof-trace-" + std::to_string(n) + ".db";
  return candidate;
}

std::optional<std::string> parse_routing_mode(const std::string& text) {
  if (text == "off" || text == "full") return text;
  if (!starts_with(text, "sample:")) return std::nullopt;
  const std::string digits = text.substr(7);
  uint32_t every = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), every);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || every == 0) return std::nullopt;
  return "sample:" + std::to_string(every);
}

std::string executable_path() {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

std::string find_agent_library(const std::string& executable, std::string* error) {
  std::string candidate;
  std::string origin;
  if (const char* override_path = std::getenv("MOEPROF_AGENT_PATH"); override_path != nullptr && *override_path) {
    candidate = override_path;
    origin = " (from MOEPROF_AGENT_PATH)";
  } else {
    candidate = directory_of(executable) + "/../lib/libmoeprof_agent.so";
  }
  char resolved[PATH_MAX];
  if (::realpath(candidate.c_str(), resolved) == nullptr) {
    *error = "cannot find the agent library " + candidate + origin + ": " + std::strerror(errno);
    return "";
  }
  struct stat st;
  if (::stat(resolved, &st) != 0 || !S_ISREG(st.st_mode) || ::access(resolved, R_OK) != 0) {
    *error = "the agent library " + candidate + origin + " is not a readable file";
    return "";
  }
  return resolved;
}

namespace {

struct AdapterKind {
  const char* source;
  const char* variable;  // "": preloaded
  bool search_path;      // the adapter is a folder put first on the path list in `variable`
};
constexpr AdapterKind kAdapters[] = {{"mpi", "", false},
                                     {"nvtx", "NVTX_INJECTION64_PATH", false},
                                     {"nccl", "NCCL_PROFILER_PLUGIN", false},
                                     {"cupti", "CUDA_INJECTION64_PATH", false},
                                     {"python", "PYTHONPATH", true}};

// The library (or folder) of an adapter source, next to the agent.
std::string adapter_library(const std::string& agent, const AdapterKind& kind) {
  if (kind.search_path) return directory_of(agent) + "/" + kind.source;
  return directory_of(agent) + "/libmoeprof_" + kind.source + ".so";
}

// What proves an adapter is built: its library, or its Python package.
bool adapter_built(const std::string& agent, const AdapterKind& kind) {
  const std::string library = adapter_library(agent, kind);
  return ::access((kind.search_path ? library + "/moeprof/__init__.py" : library).c_str(), R_OK) == 0;
}

// LD_PRELOAD separates entries by ':' or ' ', search paths by ':'.
bool list_has(const std::string& list, const std::string& entry, const char* separators) {
  for (size_t start = 0; start <= list.size();) {
    const size_t end = list.find_first_of(separators, start);
    if (list.substr(start, end - start) == entry) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::vector<std::string> available_sources(const std::string& agent) {
  std::vector<std::string> out{"api"};
  for (const AdapterKind& a : kAdapters)
    if (adapter_built(agent, a)) out.emplace_back(a.source);
  return out;
}

std::optional<std::vector<CaptureAdapter>> capture_adapters(const std::string& list, const std::string& agent,
                                                            std::string* error) {
  const std::vector<std::string> available = available_sources(agent);
  std::vector<CaptureAdapter> adapters;
  const auto add = [&](const std::string& source) {
    const auto known = std::find_if(std::begin(kAdapters), std::end(kAdapters),
                                    [&](const AdapterKind& a) { return source == a.source; });
    if (known == std::end(kAdapters)) return;  // api: the agent itself
    CaptureAdapter adapter{source, adapter_library(agent, *known), known->variable, known->search_path};
    if (std::find(adapters.begin(), adapters.end(), adapter) == adapters.end()) adapters.push_back(adapter);
  };
  for (size_t start = 0; start <= list.size();) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    if (name == "all") {
      for (const std::string& source : available) add(source);
    } else if (std::find(available.begin(), available.end(), name) != available.end()) {
      add(name);
    } else {
      std::string names;
      for (const std::string& source : available) names += (names.empty() ? "" : ", ") + source;
      *error = "--capture: '" + name + "' is not a capture source of this build (it has: " + names + ", all)";
      return std::nullopt;
    }
    start = comma + 1;
  }
  return adapters;
}

WorkloadEnvironment workload_environment(const char* const* base, const std::string& socket, const std::string& routing,
                                         const std::string& agent, std::span<const CaptureAdapter> adapters) {
  WorkloadEnvironment out;
  std::string preload;
  for (const char* const* p = base; p != nullptr && *p != nullptr; ++p) {
    const std::string entry = *p;
    if (starts_with(entry, "LD_PRELOAD=")) {
      preload = entry.substr(11);
    } else if (!starts_with(entry, "MOEPROF_SOCKET=") && !starts_with(entry, "MOEPROF_ROUTING=")) {
      out.env.push_back(entry);
    }
  }
  const auto append_preload = [&](const std::string& library) {
    if (!list_has(preload, library, ": ")) preload = preload.empty() ? library : preload + ":" + library;
  };
  append_preload(agent);
  for (const CaptureAdapter& adapter : adapters) {
    if (adapter.variable.empty()) {
      append_preload(adapter.library);
      continue;
    }
    const std::string prefix = adapter.variable + "=";
    const auto set = std::find_if(out.env.begin(), out.env.end(), [&](const std::string& e) { return starts_with(e, prefix); });
    if (adapter.search_path) {
      const std::string current = set == out.env.end() ? "" : set->substr(prefix.size());
      const std::string value = current.empty()                              ? adapter.library
                                : list_has(current, adapter.library, ":") ? current
                                                                          : adapter.library + ":" + current;
      if (set == out.env.end())
        out.env.push_back(prefix + value);
      else
        *set = prefix + value;
      continue;
    }
    if (set == out.env.end())
      out.env.push_back(prefix + adapter.library);
    else if (set->substr(prefix.size()) != adapter.library)
      out.notes.push_back(adapter.variable + " is already set (to " + set->substr(prefix.size()) +
                          ", another tool's); " + adapter.source + " capture is off for this run");
  }
  out.env.push_back("LD_PRELOAD=" + preload);
  out.env.push_back("MOEPROF_SOCKET=" + socket);
  out.env.push_back("MOEPROF_ROUTING=" + routing);
  return out;
}

std::string shell_command_line(std::span<const std::string> argv) {
  static constexpr std::string_view kPlain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";
  std::string line;
  for (const std::string& arg : argv) {
    if (!line.empty()) line.push_back(' ');
    if (!arg.empty() && arg.find_first_not_of(kPlain) == std::string::npos) {
      line += arg;
      continue;
    }
    line.push_back('\'');
    for (char c : arg) {
      if (c == '\'')
        line += "'\\''";
      else
        line.push_back(c);
    }
    line.push_back('\'');
  }
  return line;
}

}  // namespace moeprof::cli

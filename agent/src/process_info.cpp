#include "process_info.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "moeprof/moeprof.h"

namespace moeprof::agent {

int32_t rank_hint_from_environment() {
  for (const char* name : {"RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    const char* text = std::getenv(name);
    if (text == nullptr) continue;
    const char* end = text + std::strlen(text);
    int32_t rank;
    const auto [stop, ec] = std::from_chars(text, end, rank);
    if (ec == std::errc() && stop == end && rank >= 0) return rank;
  }
  return -1;
}

std::string command_line() {
  std::string out;
  const int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  close(fd);
  if (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

void build_hello(wire::Hello* hello, wire::Bytes* var) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const size_t host_size = std::strlen(host);
  const std::string command = command_line();
  var->assign(host, host + host_size);
  var->insert(var->end(), command.begin(), command.end());

  timespec realtime, monotonic;
  clock_gettime(CLOCK_REALTIME, &realtime);
  clock_gettime(CLOCK_MONOTONIC, &monotonic);
  *hello = wire::Hello{};
  hello->tag = static_cast<uint8_t>(wire::RecordType::kHello);
  hello->pid = static_cast<uint32_t>(getpid());
  hello->ppid = static_cast<uint32_t>(getppid());
  hello->rank_hint = rank_hint_from_environment();
  hello->realtime_ns = realtime.tv_sec * 1'000'000'000LL + realtime.tv_nsec;
  hello->monotonic_ns = monotonic.tv_sec * 1'000'000'000LL + monotonic.tv_nsec;
  hello->agent_version = MOEPROF_API_VERSION;
  hello->host_size = static_cast<uint16_t>(host_size);
}

}  // namespace moeprof::agent

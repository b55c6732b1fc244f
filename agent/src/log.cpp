#include "log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace moeprof::agent {
namespace {

std::atomic<int> g_log_fd{-1};

void vlog(int fd, const char* format, va_list args) {
  char line[1024];
  int n = std::snprintf(line, sizeof line, "moeprof agent[%d]: ", static_cast<int>(getpid()));
  const int m = std::vsnprintf(line + n, sizeof line - n - 1, format, args);
  n = std::min<int>(n + std::max(m, 0), static_cast<int>(sizeof line) - 2);
  line[n++] = '\n';
  [[maybe_unused]] const ssize_t written = write(fd, line, static_cast<size_t>(n));
}

}  // namespace

void configure_log() {
  const char* target = std::getenv("MOEPROF_AGENT_LOG");
  int fd = -1;
  if (target != nullptr && std::strcmp(target, "stderr") == 0) {
    fd = STDERR_FILENO;
  } else if (target != nullptr && *target != '\0') {
    fd = open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  const int old = g_log_fd.exchange(fd);
  if (old > STDERR_FILENO) close(old);
}

void log_line(const char* format, ...) {
  const int fd = g_log_fd.load();
  if (fd < 0) return;
  va_list args;
  va_start(args, format);
  vlog(fd, format, args);
  va_end(args);
}

void log_important(const char* format, ...) {
  const int fd = g_log_fd.load();
  va_list args;
  va_start(args, format);
  vlog(fd >= 0 ? fd : STDERR_FILENO, format, args);
  va_end(args);
}

}  // namespace moeprof::agent

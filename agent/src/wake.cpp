#include "wake.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace moeprof::agent::wake {
namespace {
std::atomic<int> g_fd{-1};
}

bool open() {
  if (g_fd.load(std::memory_order_acquire) >= 0) return true;
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return false;
  int expected = -1;
  if (!g_fd.compare_exchange_strong(expected, fd, std::memory_order_acq_rel)) close(fd);
  return true;
}

int fd() { return g_fd.load(std::memory_order_acquire); }

void signal() {
  const int fd = g_fd.load(std::memory_order_acquire);
  if (fd < 0) return;
  const uint64_t one = 1;
  // A full counter (EAGAIN) means a wake-up is already pending: nothing is lost.
  [[maybe_unused]] const ssize_t n = write(fd, &one, sizeof one);
}

void drain() {
  const int fd = g_fd.load(std::memory_order_acquire);
  if (fd < 0) return;
  uint64_t value;
  [[maybe_unused]] const ssize_t n = read(fd, &value, sizeof value);
}

void renew_after_fork() {
  const int old_fd = g_fd.load(std::memory_order_acquire);
  if (old_fd < 0) return;
  const int fresh = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fresh < 0) return;
  dup3(fresh, old_fd, O_CLOEXEC);
  close(fresh);
}

}  // namespace moeprof::agent::wake

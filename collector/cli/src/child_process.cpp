#include "child_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace moeprof::cli {

SignalBlock::SignalBlock() {
  sigemptyset(&blocked_);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&blocked_, sig);
  pthread_sigmask(SIG_BLOCK, &blocked_, &previous_);
}

SignalBlock::~SignalBlock() {
  // Drop a pending SIGCHLD of the child we reaped ourselves; keep anything else pending so
  // it acts once unblocked.
  const timespec zero{0, 0};
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  while (sigtimedwait(&chld, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

FileSizeSignalIgnored::FileSizeSignalIgnored() {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGXFSZ, &ignore, &previous_);
}

FileSizeSignalIgnored::~FileSizeSignalIgnored() { sigaction(SIGXFSZ, &previous_, nullptr); }

int SignalBlock::wait(std::chrono::milliseconds timeout, siginfo_t* info) const {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  const timespec limit{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  const int sig = sigtimedwait(&blocked_, info, &limit);
  return sig > 0 ? sig : 0;
}

pid_t start_process(const std::vector<std::string>& argv, const std::vector<std::string>& env, const sigset_t& mask,
                    const struct sigaction& file_size_action, std::string* error) {
  // Everything the child needs is prepared before fork: between fork and exec only
  // async-signal-safe calls are allowed.
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int report[2];  // the child writes errno here when exec fails; closes on exec otherwise
  if (::pipe2(report, O_CLOEXEC) != 0) {
    *error = std::string("cannot start '") + argv[0] + "': " + std::strerror(errno);
    return -1;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("cannot start '") + argv[0] + "': " + std::strerror(errno);
    ::close(report[0]);
    ::close(report[1]);
    return -1;
  }
  if (pid == 0) {
    ::close(report[0]);
    pthread_sigmask(SIG_SETMASK, &mask, nullptr);
    sigaction(SIGXFSZ, &file_size_action, nullptr);  // an ignored signal would stay ignored across exec
    ::execvpe(args[0], args.data(), envp.data());
    const int failure = errno;
    [[maybe_unused]] const ssize_t n = ::write(report[1], &failure, sizeof failure);
    ::_exit(127);
  }
  ::close(report[1]);
  int failure = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *error = "cannot run '" + argv[0] + "': " + std::strerror(failure);
    return -1;
  }
  return pid;
}

int wait_forwarding_signals(pid_t child, const SignalBlock& signals) {
  for (;;) {
    siginfo_t info{};
    const int sig = signals.wait(std::chrono::milliseconds(200), &info);
    if (sig != 0 && sig != SIGCHLD) {
      if (info.si_code != SI_KERNEL) ::kill(child, sig);
      continue;
    }
    int status = 0;
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    if (done < 0 && errno != EINTR) return 127;  // not our child any more: nothing to report
  }
}

}  // namespace moeprof::cli

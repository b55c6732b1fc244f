// Starting the workload of `moeprof run` and waiting for it while forwarding signals.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace moeprof::cli {

// Blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGCHLD in this thread for its lifetime, so
// they are taken synchronously by wait() (threads started meanwhile inherit the block).
class SignalBlock {
 public:
  SignalBlock();
  ~SignalBlock();
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;

  // The mask before the block: what the workload should start with.
  const sigset_t& previous() const { return previous_; }
  // Waits up to `timeout` for one of the blocked signals; 0 when none came.
  int wait(std::chrono::milliseconds timeout, siginfo_t* info) const;

 private:
  sigset_t blocked_;
  sigset_t previous_;
};

// SIGXFSZ ignored for its lifetime: a trace write beyond the file size limit (ulimit -f)
// then fails with EFBIG, which the store reports, instead of killing moeprof and leaving
// the trace half-written. The workload gets the disposition moeprof started with.
class FileSizeSignalIgnored {
 public:
  FileSizeSignalIgnored();
  ~FileSizeSignalIgnored();
  FileSizeSignalIgnored(const FileSizeSignalIgnored&) = delete;
  FileSizeSignalIgnored& operator=(const FileSizeSignalIgnored&) = delete;
  const struct sigaction& previous() const { return previous_; }

 private:
  struct sigaction previous_ {};
};

// fork + execvp of argv with exactly `env`; the child starts with `mask` and SIGXFSZ's
// `file_size_action`. The pid, or -1 and a one-line `error` when the command could not be
// executed.
pid_t start_process(const std::vector<std::string>& argv, const std::vector<std::string>& env, const sigset_t& mask,
                    const struct sigaction& file_size_action, std::string* error);

// Waits until `child` ends and returns its exit code the way a shell reports it (128+N for
// death by signal N). SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to moeprof are passed on; those the
// terminal sent to the whole foreground process group already reached the child.
int wait_forwarding_signals(pid_t child, const SignalBlock& signals);

}  // namespace moeprof::cli

// The `moeprof` command line as a library: main() is a thin wrapper, tests call it in-process.
#pragma once

#include <ostream>
#include <span>
#include <string>

namespace moeprof::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // bad input, problems found, a failed write
inline constexpr int kExitUsage = 2;    // bad command line, or `moeprof run` could not start

struct Io {
  std::ostream& out;
  std::ostream& err;
};

// Runs one command line (the words after "moeprof") and returns the exit status. Every error
// is reported as one line "moeprof: ..." on io.err; nothing escapes as an exception.
int main_entry(std::span<const std::string> args, const Io& io);

}  // namespace moeprof::cli

// Only in libmoeprof_agent.so: `moeprof run` preloads the agent into the workload and sets
// MOEPROF_SOCKET, so the agent starts itself before main(). moeprof_init registers the
// flush at exit.
#include <cstdlib>

#include "moeprof/moeprof.h"

namespace {

[[gnu::constructor]] void start_when_preloaded() {
  if (std::getenv("MOEPROF_SOCKET") != nullptr) moeprof_init(nullptr);
}

}  // namespace

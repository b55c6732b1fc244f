// A workload that records one step every --period-ms milliseconds until it is killed: step s
// reports s + 1 tokens for expert 0 of layer 0, then prints "recorded step s" (flushed), so a
// test knows what was recorded when it kills it.
//   moeprof_steady_workload [--period-ms N]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "moeprof/moeprof.h"

int main(int argc, char** argv) {
  int period_ms = 10;
  if (argc == 3 && std::strcmp(argv[1], "--period-ms") == 0) period_ms = std::atoi(argv[2]);
  if (period_ms <= 0 || (argc != 1 && argc != 3)) {
    std::fprintf(stderr, "usage: moeprof_steady_workload [--period-ms N]\n");
    return 2;
  }
  for (int64_t step = 0;; ++step) {
    moeprof_step_begin(step);
    const uint32_t counts[2] = {static_cast<uint32_t>(step + 1), 0};
    moeprof_expert_counts(0, 2, counts);
    moeprof_step_end(step);
    std::printf("recorded step %lld\n", static_cast<long long>(step));
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(period_ms));
  }
}

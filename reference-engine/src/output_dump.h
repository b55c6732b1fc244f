// --dump-output FILE: every step's final hidden states, gathered on rank 0 in global token
// order, as text that round-trips floats exactly:
//   moe-engine-output v1 tokens=N hidden=H
//   STEP TOKEN v_0 ... v_(H-1)        (one line per step and global token)
#pragma once

#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace moeprof::engine {

class OutputDump {
 public:
  OutputDump() = default;
  OutputDump(const OutputDump&) = delete;
  OutputDump& operator=(const OutputDump&) = delete;
  ~OutputDump();
  // Rank 0 creates the file; other ranks only take part in add_step. false and a one-line
  // `error` when the file cannot be created.
  bool open(const std::string& path, int32_t rank, int64_t global_tokens, int32_t hidden, std::string* error);
  // Collective: gathers every rank's x (tokens x hidden, same token count on every rank).
  void add_step(int64_t step, const std::vector<float>& x, MPI_Comm comm);
  // Closes the file; false and `error` when something could not be written.
  bool close(std::string* error);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool active_ = false;
  int32_t hidden_ = 0;
  std::vector<float> all_;
};

}  // namespace moeprof::engine

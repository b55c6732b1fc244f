// Everything the engine reports, through the moeprof C API only (a no-op outside
// `moeprof run`), mirrored into the ground truth where tests compare the trace with it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "expert_map.h"
#include "ground_truth.h"
#include "model_config.h"
#include "moeprof/moeprof.h"

namespace moeprof::engine {

class Recorder {
 public:
  explicit Recorder(GroundTruth* truth) : truth_(truth) {}

  void topology(int32_t rank, int32_t local_rank, int32_t world_size, const ModelConfig& model);
  void placement(int32_t layer, const ExpertMap& map);
  void step_begin(int64_t step);
  void step_end(int64_t step);
  // This rank's router counts of `layer` (before capacity drops).
  void expert_counts(int32_t layer, std::span<const uint32_t> counts);
  void expert_drops(int32_t layer, std::span<const uint32_t> dropped);
  bool routing_wanted() const { return moeprof_routing_wanted() != 0; }
  void router_decisions(int32_t layer, uint32_t tokens, uint32_t top_k, const int32_t* ids, const float* weights);

  moeprof_span all_to_all_begin(int32_t layer, moeprof_phase phase) { return moeprof_all_to_all_begin(layer, phase); }
  // Bytes per peer are rows x row_bytes, this rank included.
  void all_to_all_end(moeprof_span span, int32_t layer, moeprof_phase phase, std::span<const int32_t> send_rows,
                      std::span<const int32_t> recv_rows, uint64_t row_bytes);

  // A compute span for the lifetime of the object.
  class Compute {
   public:
    Compute(int32_t layer, moeprof_compute_kind kind) : span_(moeprof_compute_begin(layer, kind)) {}
    ~Compute() { moeprof_compute_end(span_); }
    Compute(const Compute&) = delete;
    Compute& operator=(const Compute&) = delete;

   private:
    moeprof_span span_;
  };

 private:
  GroundTruth* truth_;
  int64_t step_ = 0;
  std::vector<uint64_t> send_bytes_, recv_bytes_;
};

}  // namespace moeprof::engine

// Writes a trace DB: creates it from the embedded schemas/trace.sql, batches rows into
// transactions (WAL journal, prepared statements), and finalises it when the run ends.
#pragma once

#include <memory>
#include <string>

#include "moeprof/store/rows.h"
#include "moeprof/store/summariser.h"

namespace moeprof::store {

class Writer {
 public:
  // Creates a new trace at `path` (refuses to overwrite an existing file). With a
  // summariser, every stored row also passes through it and the window summaries it makes
  // are stored as they complete. nullptr and a one-line `error` on failure.
  static std::unique_ptr<Writer> create(const std::string& path, std::string* error,
                                        std::unique_ptr<Summariser> summariser = nullptr);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void set_run(const RunInfo& run);
  // Returns the new process id (used by later calls about this process).
  int64_t add_process(const ProcessInfo& process);
  void update_process(const ProcessInfo& process);  // by process.id
  void set_model(const ModelShape& model);  // a later call replaces the shape
  void add_placement(const LayerPlacement& placement);
  void add_step(const StepSpan& step);
  void add_expert_load(const ExpertLoad& load);
  void add_expert_drops(const ExpertLoad& dropped);  // counts = tokens dropped over capacity
  void add_router_decisions(const RouterDecisionBatch& batch);
  void add_all_to_all(const AllToAllEvent& event);
  void add_compute_span(const ComputeSpan& span);
  void add_marker(const Marker& marker);
  void add_range(const Range& range);
  void add_gpu_kernel(const GpuKernel& kernel);
  void add_drops(const DropCount& drops);  // adds to the (process, source, reason) total
  void add_recorded(const RecordedCount& recorded);  // adds to the (process, source) total

  // Commits the open transaction now (rows are also committed every `batch_rows` rows).
  bool commit(std::string* error = nullptr);
  // Commits (with the summaries of every window still open), records the run's end, checkpoints the WAL into the main file.
  bool finalize(const RunInfo& run, std::string* error = nullptr);
  // First error any call met (empty if none); later calls after an error are ignored.
  const std::string& error() const;

  struct Impl;

 private:
  explicit Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moeprof::store

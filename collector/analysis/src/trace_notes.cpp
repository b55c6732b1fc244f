#include "moeprof/analysis/trace_notes.h"

namespace moeprof::analysis {

std::vector<TraceNote> trace_notes(const store::Reader& reader) {
  std::vector<TraceNote> out;
  const store::TableCounts counts = reader.counts();
  if (counts.processes == 0) {
    out.push_back({std::nullopt, std::nullopt,
                   "no process reported to the collector: the agent was disabled (MOEPROF_DISABLE), could not "
                   "load (a statically linked command), or the command started no program"});
  } else if (counts.expert_load == 0 && counts.router_decisions == 0 && counts.all_to_all == 0) {
    out.push_back({std::nullopt, std::nullopt,
                   "no MoE events were recorded: no expert load, routing or all-to-all came from the engine's "
                   "C API calls or a capture source (for Python: a transformers or fairscale MoE model, "
                   "torch.distributed all-to-alls, or moeprof.attach / moeprof.record_* calls)"});
  }
  for (store::Note& note : reader.notes()) out.push_back({note.rank, note.source, std::move(note.text)});
  return out;
}

}  // namespace moeprof::analysis

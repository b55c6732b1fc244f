// Everything a trace holds, read back through store::Reader and written as text, so two
// traces can be compared in one assertion (and a difference shows where it is).
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "moeprof/store/reader.h"

namespace moeprof::testing {

inline std::string dump_trace(const store::Reader& reader) {
  std::ostringstream out;
  for (const store::ProcessInfo& p : reader.processes())
    out << "process pid=" << p.pid << " ppid=" << p.ppid << " host=" << p.host << " cmd=" << p.command
        << " rank=" << p.rank << " local=" << p.local_rank << " world=" << p.world_size << " ep=" << p.ep_size
        << " rt=" << p.realtime_ns << " mono=" << p.monotonic_ns << " end=" << p.end_ns << " clean=" << p.clean_exit
        << "\n";
  if (auto m = reader.model())
    out << "model " << m->name << " " << m->num_layers << " " << m->num_experts << " " << m->top_k << " "
        << m->num_shared_experts << " " << m->hidden_size << "\n";
  for (const store::LayerPlacement& p : reader.placements()) {
    out << "placement rank=" << p.rank << " layer=" << p.layer << ":";
    for (const auto& s : p.slots) out << " " << s.expert << "@" << s.rank;
    out << "\n";
  }
  for (const store::StepSpan& s : reader.steps())
    out << "step rank=" << s.rank << " step=" << s.step << " " << s.start_ns << ".." << s.end_ns << "\n";
  reader.for_each_expert_load({}, [&](const store::ExpertLoad& l) {
    out << "load rank=" << l.rank << " step=" << l.step << " layer=" << l.layer << ":";
    for (uint32_t c : l.counts) out << " " << c;
    out << "\n";
  });
  reader.for_each_router_decisions({}, [&](const store::RouterDecisionBatch& b) {
    out << "routing rank=" << b.rank << " step=" << b.step << " layer=" << b.layer << " offset=" << b.token_offset
        << " tokens=" << b.routing.num_tokens << " k=" << b.routing.top_k << ":";
    for (int32_t id : b.routing.expert_ids) out << " " << id;
    out << " |";
    for (float w : b.routing.gate_weights) out << " " << w;
    out << "\n";
  });
  reader.for_each_all_to_all({}, [&](const store::AllToAllEvent& e) {
    out << "a2a rank=" << e.rank << " step=" << e.step << " layer=" << e.layer << " phase=" << int(e.phase)
        << " source=" << int(e.source) << " tid=" << e.tid << " " << e.start_ns << ".." << e.end_ns << ":";
    for (const auto& p : e.peers) out << " " << p.peer << "/" << p.send_bytes << "/" << p.recv_bytes;
    out << "\n";
  });
  reader.for_each_compute_span({}, [&](const store::ComputeSpan& s) {
    out << "compute rank=" << s.rank << " step=" << s.step << " layer=" << s.layer << " kind=" << int(s.kind)
        << " tid=" << s.tid << " " << s.start_ns << ".." << s.end_ns << " name=" << s.name << "\n";
  });
  for (const store::Marker& m : reader.markers())
    out << "marker rank=" << m.rank << " step=" << m.step << " tid=" << m.tid << " ts=" << m.ts_ns << " " << m.name
        << "\n";
  for (const store::DropCount& d : reader.drops())
    out << "drops rank=" << d.rank << " source=" << int(d.source) << " reason=" << int(d.reason) << " " << d.count
        << "\n";
  return out.str();
}

inline std::string dump_trace(const std::string& path) {
  std::string error;
  auto reader = store::Reader::open(path, &error);
  if (!reader) {
    ADD_FAILURE() << error;
    return "";
  }
  return dump_trace(*reader);
}

}  // namespace moeprof::testing

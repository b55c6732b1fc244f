// CSV exports of a trace (`moeprof export`). Rows stream from the reader, so memory stays
// bounded by one (rank, step, layer) of expert load or by the all-to-alls of one rank that
// start at the same nanosecond.
#pragma once

#include <ostream>
#include <string_view>

#include "moeprof/store/reader.h"

namespace moeprof::cli {

inline constexpr std::string_view kExpertLoadCsvHeader = "rank,step,layer,expert,tokens";
inline constexpr std::string_view kAllToAllCsvHeader =
    "rank,step,layer,phase,peer,send_bytes,recv_bytes,start_ns,end_ns";

// One row per non-zero token count; counts of the same (rank, step, layer, expert) recorded
// in several rows are added up. Sorted by rank, step, layer, expert.
void write_expert_load_csv(const store::Reader& reader, std::ostream& out);
// One row per all-to-all and peer; phase as dispatch/combine/other. Sorted by rank,
// start_ns, peer.
void write_all_to_all_csv(const store::Reader& reader, std::ostream& out);

}  // namespace moeprof::cli

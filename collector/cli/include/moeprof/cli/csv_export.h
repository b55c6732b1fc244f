// CSV exports of a trace (`moeprof export`). Rows stream from the reader, so memory stays
// bounded by one (rank, step, layer) of expert load or by the all-to-alls of one rank that
// start at the same nanosecond.
#pragma once

#include <ostream>
#include <string_view>

#include "moeprof/store/reader.h"

namespace moeprof::cli {

inline constexpr std::string_view kExpertLoadCsvHeader = "rank,step,layer,expert,tokens";
inline constexpr std::string_view kRoutingCsvHeader = "rank,step,layer,token,slot,expert,weight";
inline constexpr std::string_view kAllToAllCsvHeader =
    "rank,step,layer,phase,peer,send_bytes,recv_bytes,start_ns,end_ns";
inline constexpr std::string_view kRangesCsvHeader =
    "rank,tid,step,kind,source,domain,name,category,color,start_ns,end_ns,payload,category_name";
inline constexpr std::string_view kKernelsCsvHeader =
    "rank,device,stream,correlation_id,step,layer,compute_kind,name,start_ns,end_ns,launch_ns,launch_tid,"
    "grid_x,grid_y,grid_z,block_x,block_y,block_z,nvtx_range";

// One row per non-zero token count; counts of the same (rank, step, layer, expert) recorded
// in several rows are added up. Sorted by rank, step, layer, expert.
void write_expert_load_csv(const store::Reader& reader, std::ostream& out);
// One row per recorded routing choice: token (its number within the step and layer on that
// rank), slot (0 .. top_k-1, in the router's order), the expert and its gate weight (shortest
// text that reads back as the same float; empty when none were recorded). Sorted by step,
// layer, rank, token.
void write_routing_csv(const store::Reader& reader, std::ostream& out);
// One row per all-to-all and peer; phase as dispatch/combine/other. Sorted by rank,
// start_ns, peer.
void write_all_to_all_csv(const store::Reader& reader, std::ostream& out);
// One row per range or mark (kind push_pop, start_end or mark; color as 0xAARRGGBB hex,
// empty when none); text fields quoted as RFC 4180 asks. Sorted by rank, start_ns.
void write_ranges_csv(const store::Reader& reader, std::ostream& out);
// One row per GPU kernel; compute_kind empty when the kernel was not classified; nvtx_range
// the path of the ranges open on the launching thread at launch (analysis/kernel_ranges.h),
// empty when none or the launch is unknown. Sorted by rank, start_ns.
void write_kernels_csv(const store::Reader& reader, std::ostream& out);

}  // namespace moeprof::cli

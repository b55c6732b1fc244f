#include "moeprof/analysis/comm_alltoall.h"

#include <algorithm>
#include <map>
#include <utility>

#include "moeprof/analysis/window_summary.h"

namespace moeprof::analysis {

void AllToAllStatsAccumulator::add(const store::AllToAllEvent& e) {
  AllToAllStats& s = stats_[{e.layer, e.phase}];
  s.count += 1;
  s.total_ns += e.end_ns - e.start_ns;
  for (const auto& p : e.peers) {
    s.bytes_sent += p.send_bytes;
    if (p.peer != e.rank) s.network_bytes_sent += p.send_bytes;
  }
}

void AllToAllStatsAccumulator::add(const AllToAllStats& part) {
  AllToAllStats& s = stats_[{part.layer, part.phase}];
  s.count += part.count;
  s.total_ns += part.total_ns;
  s.bytes_sent += part.bytes_sent;
  s.network_bytes_sent += part.network_bytes_sent;
}

std::vector<AllToAllStats> AllToAllStatsAccumulator::finish() const {
  std::vector<AllToAllStats> out;
  for (const auto& [key, stats] : stats_) {
    AllToAllStats& s = out.emplace_back(stats);
    s.layer = key.first;
    s.phase = key.second;
  }
  return out;
}

void VolumeMatrixAccumulator::add(const store::AllToAllEvent& e) {
  if (e.rank < 0 || (phase_ && e.phase != *phase_)) return;
  size_ = std::max(size_, e.rank + 1);  // a rank with no peers still has a row
  for (const auto& p : e.peers)
    if (p.peer >= 0) bytes_[{e.rank, p.peer}] += p.send_bytes;
}

void VolumeMatrixAccumulator::add(int32_t from, int32_t to, wire::Phase phase, uint64_t bytes) {
  if (from < 0 || (phase_ && phase != *phase_)) return;
  size_ = std::max(size_, from + 1);
  if (to >= 0) bytes_[{from, to}] += bytes;
}

VolumeMatrix VolumeMatrixAccumulator::finish() const {
  VolumeMatrix m;
  m.size = size_;
  for (const auto& [key, b] : bytes_) m.size = std::max(m.size, key.second + 1);
  m.bytes.assign(static_cast<size_t>(m.size) * m.size, 0);
  for (const auto& [key, b] : bytes_) m.bytes[static_cast<size_t>(key.first) * m.size + key.second] = b;
  return m;
}

double AllToAllStats::bandwidth_bytes_per_s() const {
  return total_ns > 0 ? static_cast<double>(network_bytes_sent) * 1e9 / static_cast<double>(total_ns) : 0.0;
}

std::vector<AllToAllStats> all_to_all_stats(const std::vector<store::AllToAllEvent>& events) {
  AllToAllStatsAccumulator acc;
  for (const auto& e : events) acc.add(e);
  return acc.finish();
}

std::vector<AllToAllStats> all_to_all_stats(const store::Reader& reader, const store::Filter& filter) {
  AllToAllStatsAccumulator acc;
  reader.for_each_all_to_all(filter, [&](const store::AllToAllEvent& e) { acc.add(e); });
  return acc.finish();
}

VolumeMatrix volume_matrix(const std::vector<store::AllToAllEvent>& events, std::optional<wire::Phase> phase) {
  VolumeMatrixAccumulator acc(phase);
  for (const auto& e : events) acc.add(e);
  return acc.finish();
}

VolumeMatrix volume_matrix(const store::Reader& reader, const store::Filter& filter,
                           std::optional<wire::Phase> phase) {
  VolumeMatrixAccumulator acc(phase);
  // Summaries have no time: a time window reads rows only.
  const SummaryCover cover = filter.time_begin_ns || filter.time_end_ns
                                 ? SummaryCover{}
                                 : summary_cover(reader, filter.step_begin, filter.step_end);
  for (const store::Filter& f : cover.uncovered(filter))
    reader.for_each_all_to_all(f, [&](const store::AllToAllEvent& e) { acc.add(e); });
  add_volume_summaries(
      reader, cover,
      [&](int32_t rank, int32_t layer) {
        return (!filter.rank || rank == *filter.rank) && (!filter.layer || layer == *filter.layer);
      },
      &acc);
  return acc.finish();
}

}  // namespace moeprof::analysis

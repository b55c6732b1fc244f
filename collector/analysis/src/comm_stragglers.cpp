#include "moeprof/analysis/comm_stragglers.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace moeprof::analysis {

namespace {

// (step, layer, phase) of an event.
using CollectiveKey = std::tuple<int64_t, int32_t, wire::Phase>;

struct Arrival {
  int32_t rank;
  int64_t start_ns;
};

// Adds up instances: who was last and the wait it caused.
class InstanceTally {
 public:
  void add(const std::vector<Arrival>& arrivals) {
    if (arrivals.size() < 2) return;
    out_.instances += 1;
    const Arrival* last = &arrivals.front();
    for (const Arrival& a : arrivals) {
      ranks_[a.rank].instances += 1;
      if (a.start_ns > last->start_ns || (a.start_ns == last->start_ns && a.rank < last->rank)) last = &a;
    }
    int64_t wait = 0;
    for (const Arrival& a : arrivals) wait += last->start_ns - a.start_ns;
    if (wait == 0) return;
    RankStraggling& r = ranks_[last->rank];
    r.times_last += 1;
    r.wait_caused_ns += wait;
  }
  Stragglers finish() {
    for (auto& [rank, r] : ranks_) {
      r.rank = rank;
      out_.ranks.push_back(r);
    }
    return std::move(out_);
  }

 private:
  Stragglers out_;
  std::map<int32_t, RankStraggling> ranks_;
};

// Takes events in (rank, start) order, so that occurrence indices follow start order.
class Accumulator {
 public:
  explicit Accumulator(std::optional<wire::Phase> phase) : phase_(phase) {}

  void add(const store::AllToAllEvent& e) {
    if (phase_ && e.phase != *phase_) return;
    const CollectiveKey key{e.step, e.layer, e.phase};
    const int64_t occurrence = seen_[{e.rank, key}]++;
    instances_[{key, occurrence}].push_back({e.rank, e.start_ns});
  }

  Stragglers finish() const {
    InstanceTally tally;
    for (const auto& [instance, arrivals] : instances_) tally.add(arrivals);
    return tally.finish();
  }

 private:
  std::optional<wire::Phase> phase_;
  std::map<std::pair<int32_t, CollectiveKey>, int64_t> seen_;
  std::map<std::pair<CollectiveKey, int64_t>, std::vector<Arrival>> instances_;
};

}  // namespace

store::AllToAllEvent without_peers(const store::AllToAllEvent& e) {
  store::AllToAllEvent out;
  out.rank = e.rank;
  out.step = e.step;
  out.layer = e.layer;
  out.phase = e.phase;
  out.source = e.source;
  out.tid = e.tid;
  out.start_ns = e.start_ns;
  out.end_ns = e.end_ns;
  return out;
}

void Stragglers::merge(const Stragglers& other) {
  instances += other.instances;
  std::map<int32_t, RankStraggling> by_rank;
  const auto add = [&](const std::vector<RankStraggling>& list) {
    for (const RankStraggling& r : list) {
      RankStraggling& sum = by_rank[r.rank];
      sum.rank = r.rank;
      sum.instances += r.instances;
      sum.times_last += r.times_last;
      sum.wait_caused_ns += r.wait_caused_ns;
    }
  };
  add(ranks);
  add(other.ranks);
  ranks.clear();
  for (const auto& [rank, r] : by_rank) ranks.push_back(r);
}

Stragglers find_stragglers(const std::vector<store::AllToAllEvent>& events, std::optional<wire::Phase> phase) {
  // Sorted by (collective, rank, start, input order), each rank's events of a collective
  // are its occurrences in start order; re-sorted by (collective, occurrence), each run is
  // an instance. Plain sorts: the writer runs this for every window of a live trace.
  struct Event {
    CollectiveKey key;
    int32_t rank;
    int64_t start_ns;
    size_t input;
    int64_t occurrence = 0;
  };
  std::vector<Event> sorted;
  sorted.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const store::AllToAllEvent& e = events[i];
    if (!phase || e.phase == *phase) sorted.push_back({{e.step, e.layer, e.phase}, e.rank, e.start_ns, i});
  }
  std::sort(sorted.begin(), sorted.end(), [](const Event& a, const Event& b) {
    return std::tie(a.key, a.rank, a.start_ns, a.input) < std::tie(b.key, b.rank, b.start_ns, b.input);
  });
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i].key == sorted[i - 1].key && sorted[i].rank == sorted[i - 1].rank)
      sorted[i].occurrence = sorted[i - 1].occurrence + 1;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Event& a, const Event& b) {
    return std::tie(a.key, a.occurrence) < std::tie(b.key, b.occurrence);
  });
  std::vector<Arrival> arrivals;
  InstanceTally tally;
  for (size_t i = 0; i < sorted.size();) {
    size_t end = i;
    arrivals.clear();
    for (; end < sorted.size() && sorted[end].key == sorted[i].key && sorted[end].occurrence == sorted[i].occurrence; ++end)
      arrivals.push_back({sorted[end].rank, sorted[end].start_ns});
    tally.add(arrivals);
    i = end;
  }
  return tally.finish();
}

Stragglers find_stragglers(const store::Reader& reader, const store::Filter& filter,
                           std::optional<wire::Phase> phase) {
  Accumulator acc(phase);
  reader.for_each_all_to_all(filter, [&](const store::AllToAllEvent& e) { acc.add(e); });
  return acc.finish();
}

}  // namespace moeprof::analysis

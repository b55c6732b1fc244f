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
    Stragglers out;
    std::map<int32_t, RankStraggling> ranks;
    for (const auto& [instance, arrivals] : instances_) {
      if (arrivals.size() < 2) continue;
      out.instances += 1;
      const Arrival* last = &arrivals.front();
      for (const Arrival& a : arrivals) {
        ranks[a.rank].instances += 1;
        if (a.start_ns > last->start_ns || (a.start_ns == last->start_ns && a.rank < last->rank)) last = &a;
      }
      int64_t wait = 0;
      for (const Arrival& a : arrivals) wait += last->start_ns - a.start_ns;
      if (wait == 0) continue;
      RankStraggling& r = ranks[last->rank];
      r.times_last += 1;
      r.wait_caused_ns += wait;
    }
    for (auto& [rank, r] : ranks) {
      r.rank = rank;
      out.ranks.push_back(r);
    }
    return out;
  }

 private:
  std::optional<wire::Phase> phase_;
  std::map<std::pair<int32_t, CollectiveKey>, int64_t> seen_;
  std::map<std::pair<CollectiveKey, int64_t>, std::vector<Arrival>> instances_;
};

}  // namespace

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
  std::vector<const store::AllToAllEvent*> ordered;
  ordered.reserve(events.size());
  for (const auto& e : events) ordered.push_back(&e);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return std::tie(a->rank, a->start_ns) < std::tie(b->rank, b->start_ns);
  });
  Accumulator acc(phase);
  for (const auto* e : ordered) acc.add(*e);
  return acc.finish();
}

Stragglers find_stragglers(const store::Reader& reader, const store::Filter& filter,
                           std::optional<wire::Phase> phase) {
  Accumulator acc(phase);
  reader.for_each_all_to_all(filter, [&](const store::AllToAllEvent& e) { acc.add(e); });
  return acc.finish();
}

}  // namespace moeprof::analysis

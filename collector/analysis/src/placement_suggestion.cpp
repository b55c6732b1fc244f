#include "moeprof/analysis/placement_suggestion.h"

#include <algorithm>
#include <numeric>
#include <span>

#include "moeprof/analysis/rank_load.h"

namespace moeprof::analysis {

namespace {

using placement::ExpertRanks;

// Replica counts for `experts`: one each, then every redundant slot to the expert with the
// highest load / replicas (lowest index on ties) that has fewer replicas than `max_replicas`.
std::vector<int32_t> replicate(std::span<const double> load, const std::vector<int32_t>& experts, int32_t redundant,
                               int32_t max_replicas) {
  std::vector<int32_t> count(experts.size(), 1);
  for (int32_t k = 0; k < redundant; ++k) {
    size_t best = experts.size();
    for (size_t i = 0; i < experts.size(); ++i) {
      if (count[i] >= max_replicas) continue;
      const double per_replica = load[static_cast<size_t>(experts[i])] / count[i];
      if (best == experts.size() || per_replica > load[static_cast<size_t>(experts[best])] / count[best]) best = i;
    }
    if (best == experts.size()) break;
    ++count[best];
  }
  return count;
}

// Replicates `experts` and packs the replicas onto `ranks` (each with `slots` slots) into
// `out`, heaviest replica first onto the least-loaded rank with a free slot that lacks it.
void pack(std::span<const double> load, const std::vector<int32_t>& experts, const std::vector<int32_t>& ranks,
          int32_t redundant, int32_t slots, ExpertRanks* out) {
  const std::vector<int32_t> count = replicate(load, experts, redundant, static_cast<int32_t>(ranks.size()));
  struct Replica {
    int32_t expert;
    double tokens;
  };
  std::vector<Replica> replicas;
  for (size_t i = 0; i < experts.size(); ++i)
    for (int32_t k = 0; k < count[i]; ++k)
      replicas.push_back({experts[i], load[static_cast<size_t>(experts[i])] / count[i]});
  std::stable_sort(replicas.begin(), replicas.end(),
                   [](const Replica& a, const Replica& b) { return a.tokens > b.tokens; });

  std::vector<double> rank_load(ranks.size(), 0.0);
  std::vector<std::vector<Replica>> held(ranks.size());
  auto holds = [&](size_t r, int32_t expert) {
    return std::any_of(held[r].begin(), held[r].end(), [&](const Replica& x) { return x.expert == expert; });
  };
  auto least_loaded = [&](auto&& eligible) {
    size_t best = ranks.size();
    for (size_t r = 0; r < ranks.size(); ++r)
      if (eligible(r) && (best == ranks.size() || rank_load[r] < rank_load[best] ||
                          (rank_load[r] == rank_load[best] && held[r].size() < held[best].size())))
        best = r;
    return best;
  };
  auto put = [&](size_t r, const Replica& x) {
    held[r].push_back(x);
    rank_load[r] += x.tokens;
  };
  for (const Replica& replica : replicas) {
    const size_t best = least_loaded([&](size_t r) {
      return held[r].size() < static_cast<size_t>(slots) && !holds(r, replica.expert);
    });
    if (best != ranks.size()) {
      put(best, replica);
      continue;
    }
    // Every rank with a free slot already holds this expert. A full rank `to` lacks it (an
    // expert has at most one replica per rank) and holds some replica y the free rank `from`
    // lacks (`to` holds `slots` distinct experts, `from` fewer than `slots` besides this one),
    // so move y to `from` and put this replica on `to`, choosing the y that keeps the larger
    // of the two ranks smallest.
    const size_t from = least_loaded([&](size_t r) { return held[r].size() < static_cast<size_t>(slots); });
    size_t to = ranks.size(), moved = 0;
    double best_peak = 0;
    for (size_t r = 0; r < ranks.size(); ++r) {
      if (holds(r, replica.expert)) continue;
      for (size_t i = 0; i < held[r].size(); ++i) {
        if (holds(from, held[r][i].expert)) continue;
        const double peak = std::max(rank_load[from] + held[r][i].tokens, rank_load[r] - held[r][i].tokens + replica.tokens);
        if (to == ranks.size() || peak < best_peak) {
          to = r;
          moved = i;
          best_peak = peak;
        }
      }
    }
    const Replica y = held[to][moved];
    held[to].erase(held[to].begin() + static_cast<std::ptrdiff_t>(moved));
    rank_load[to] -= y.tokens;
    put(from, y);
    put(to, replica);
  }
  for (size_t r = 0; r < ranks.size(); ++r)
    for (const Replica& x : held[r]) (*out)[static_cast<size_t>(x.expert)].push_back(ranks[r]);
}

// Groups of experts per node: heaviest first onto the least-loaded node with room, each
// node taking experts / nodes.
std::vector<std::vector<int32_t>> experts_by_node(std::span<const double> load, int32_t nodes) {
  std::vector<int32_t> order(load.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return load[static_cast<size_t>(a)] > load[static_cast<size_t>(b)]; });
  const size_t per_node = load.size() / static_cast<size_t>(nodes);
  std::vector<std::vector<int32_t>> groups(static_cast<size_t>(nodes));
  std::vector<double> node_load(static_cast<size_t>(nodes), 0.0);
  for (int32_t e : order) {
    size_t best = groups.size();
    for (size_t n = 0; n < groups.size(); ++n)
      if (groups[n].size() < per_node && (best == groups.size() || node_load[n] < node_load[best])) best = n;
    groups[best].push_back(e);
    node_load[best] += load[static_cast<size_t>(e)];
  }
  return groups;
}

void suggest_layer(std::span<const double> load, const SuggestionOptions& o, ExpertRanks* out) {
  const int32_t experts = static_cast<int32_t>(load.size());
  const int32_t slots = (experts + o.redundant_per_layer) / o.num_ranks;
  const int32_t nodes = std::max(o.num_nodes, 1);
  const int32_t ranks_per_node = o.num_ranks / nodes;
  out->assign(load.size(), {});
  const auto groups = nodes == 1 ? std::vector<std::vector<int32_t>>{[&] {
    std::vector<int32_t> all(load.size());
    std::iota(all.begin(), all.end(), 0);
    return all;
  }()}
                                 : experts_by_node(load, nodes);
  for (int32_t n = 0; n < nodes; ++n) {
    std::vector<int32_t> ranks(static_cast<size_t>(ranks_per_node));
    std::iota(ranks.begin(), ranks.end(), n * ranks_per_node);
    pack(load, groups[static_cast<size_t>(n)], ranks, o.redundant_per_layer / nodes, slots, out);
  }
  for (auto& ranks : *out) std::sort(ranks.begin(), ranks.end());
}

std::string check_options(const ExpertLoadMatrix& load, const SuggestionOptions& o) {
  const int32_t e = load.num_experts;
  if (load.num_layers <= 0 || e <= 0) return "the window has no expert load to place";
  if (o.num_ranks <= 0) return "the number of ranks must be at least 1 (got " + std::to_string(o.num_ranks) + ")";
  if (o.redundant_per_layer < 0)
    return "the redundant expert slots must not be negative (got " + std::to_string(o.redundant_per_layer) + ")";
  if (o.num_nodes < 0) return "the number of nodes must not be negative (got " + std::to_string(o.num_nodes) + ")";
  if ((e + o.redundant_per_layer) % o.num_ranks != 0)
    return std::to_string(e) + " experts + " + std::to_string(o.redundant_per_layer) +
           " redundant slots do not divide evenly over " + std::to_string(o.num_ranks) + " ranks";
  if (o.num_nodes > 1 && (o.num_ranks % o.num_nodes != 0 || e % o.num_nodes != 0 ||
                          o.redundant_per_layer % o.num_nodes != 0))
    return "ranks (" + std::to_string(o.num_ranks) + "), experts (" + std::to_string(e) + ") and redundant slots (" +
           std::to_string(o.redundant_per_layer) + ") must all divide by the " + std::to_string(o.num_nodes) +
           " nodes";
  return "";
}

double busiest(const std::vector<double>& ranks) { return *std::max_element(ranks.begin(), ranks.end()); }

}  // namespace

bool suggest_placement(const ExpertLoadMatrix& load, const SuggestionOptions& options,
                       const placement::PlacementFile* input, PlacementSuggestion* out, std::string* error) {
  if (std::string problem = check_options(load, options); !problem.empty()) {
    if (error != nullptr) *error = "cannot suggest a placement: " + problem;
    return false;
  }
  const bool use_input =
      input != nullptr && input->num_ranks == options.num_ranks && input->num_experts == load.num_experts;
  const ExpertRanks block = block_placement(load.num_experts, options.num_ranks);

  *out = PlacementSuggestion{};
  out->placement.num_experts = load.num_experts;
  out->placement.num_ranks = options.num_ranks;
  double mean_sum = 0;
  for (int32_t layer = 0; layer < load.num_layers; ++layer) {
    const ExpertRanks* given = use_input ? input->layer(layer) : nullptr;
    const ExpertRanks& before = given != nullptr ? *given : block;
    const std::vector<double> before_ranks = rank_tokens(load.layer(layer), before, options.num_ranks);

    LayerPrediction p;
    p.busiest_before = busiest(before_ranks);
    p.balancedness_before = rank_balancedness(before_ranks);
    ExpertRanks after;
    suggest_layer(load.layer(layer), options, &after);
    std::vector<double> after_ranks = rank_tokens(load.layer(layer), after, options.num_ranks);
    if (busiest(after_ranks) > p.busiest_before) {
      p.kept_input = true;
      after = before;
      after_ranks = before_ranks;
    }
    p.busiest_after = busiest(after_ranks);
    p.balancedness_after = rank_balancedness(after_ranks);

    mean_sum += std::accumulate(after_ranks.begin(), after_ranks.end(), 0.0) / options.num_ranks;
    out->busiest_before += p.busiest_before;
    out->busiest_after += p.busiest_after;
    out->layers.push_back(p);
    out->placement.layers.emplace(layer, std::move(after));
  }
  out->balancedness_before = out->busiest_before > 0 ? mean_sum / out->busiest_before : 0;
  out->balancedness_after = out->busiest_after > 0 ? mean_sum / out->busiest_after : 0;
  return true;
}

}  // namespace moeprof::analysis

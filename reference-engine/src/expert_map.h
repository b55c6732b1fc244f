// Where the experts of one layer live at run time: from a placement file, or the default
// block placement (expert e on rank e * ranks / experts).
#pragma once

#include <cstdint>
#include <vector>

#include "moeprof/placement/placement_file.h"

namespace moeprof::engine {

class ExpertMap {
 public:
  ExpertMap(placement::ExpertRanks ranks, int32_t num_ranks);
  int32_t num_experts() const { return static_cast<int32_t>(ranks_.size()); }
  const std::vector<int32_t>& ranks_of(int32_t expert) const { return ranks_[static_cast<size_t>(expert)]; }
  // The rank that computes expert `expert` for global token `token`: with replicas, replica
  // number token mod replicas, in the listed order.
  int32_t destination(int32_t expert, int64_t token) const {
    const std::vector<int32_t>& r = ranks_[static_cast<size_t>(expert)];
    return r.size() == 1 ? r[0] : r[static_cast<size_t>(token % static_cast<int64_t>(r.size()))];
  }
  // The experts `rank` holds, ascending.
  const std::vector<int32_t>& experts_on(int32_t rank) const { return held_[static_cast<size_t>(rank)]; }

 private:
  placement::ExpertRanks ranks_;
  std::vector<std::vector<int32_t>> held_;  // per rank
};

placement::ExpertRanks block_placement(int32_t num_experts, int32_t num_ranks);

// One map per layer: the file's placement of the layer, or block placement without a file.
// The file must fit the run (placement::check_placement_fits).
std::vector<ExpertMap> expert_maps(const placement::PlacementFile* file, int32_t num_layers, int32_t num_experts,
                                   int32_t num_ranks);

}  // namespace moeprof::engine

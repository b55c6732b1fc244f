#include "ground_truth.h"

#include "moeprof/files/text_file.h"

namespace moeprof::engine {

void GroundTruth::expert_counts(int64_t step, int32_t layer, std::span<const uint32_t> counts) {
  const std::string prefix = std::to_string(rank_) + "," + std::to_string(step) + "," + std::to_string(layer) + ",";
  for (size_t e = 0; e < counts.size(); ++e)
    if (counts[e] != 0) expert_load_ += prefix + std::to_string(e) + "," + std::to_string(counts[e]) + "\n";
}

void GroundTruth::all_to_all(int64_t step, int32_t layer, moeprof_phase phase, std::span<const uint64_t> send_bytes,
                             std::span<const uint64_t> recv_bytes) {
  const std::string prefix = std::to_string(rank_) + "," + std::to_string(step) + "," + std::to_string(layer) + "," +
                             (phase == MOEPROF_PHASE_DISPATCH ? "dispatch," : "combine,");
  for (size_t p = 0; p < send_bytes.size(); ++p)
    if (send_bytes[p] != 0 || recv_bytes[p] != 0)
      a2a_ +=
          prefix + std::to_string(p) + "," + std::to_string(send_bytes[p]) + "," + std::to_string(recv_bytes[p]) + "\n";
}

bool GroundTruth::write(const std::string& dir, std::string* error) const {
  const std::string suffix = ".rank" + std::to_string(rank_) + ".csv";
  return files::write_text_file_atomically(dir + "/expert-load" + suffix, expert_load_, error) &&
         files::write_text_file_atomically(dir + "/a2a" + suffix, a2a_, error);
}

}  // namespace moeprof::engine

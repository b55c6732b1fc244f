#include "moeprof/analysis/window_summariser.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

namespace moeprof::analysis {
namespace {

using store::SummaryKind;
using store::SummaryRow;

void add_counts(std::map<int32_t, std::vector<uint64_t>>& sums, const store::ExpertLoad& load) {
  std::vector<uint64_t>& sum = sums[load.layer];
  if (sum.size() < load.counts.size()) sum.resize(load.counts.size(), 0);
  for (size_t e = 0; e < load.counts.size(); ++e) sum[e] += load.counts[e];
}

std::vector<LayerCounts> layer_counts(std::map<int32_t, std::vector<uint64_t>>& sums) {
  std::vector<LayerCounts> out;
  for (auto& [layer, counts] : sums) out.push_back({layer, std::move(counts)});
  return out;
}

// What one rank contributes to one window.
struct RankWindow {
  std::map<int32_t, std::vector<uint64_t>> load, drops;
  AllToAllStatsAccumulator all_to_all;
  PeerVolume volume;
  bool has_all_to_all = false;
  OverlapAccumulator overlap;
  WindowOverlap bounds;  // first start and last end of the spans given to `overlap`
  bool has_spans = false;

  void note_span(int64_t start_ns, int64_t end_ns) {
    has_spans = true;
    bounds.first_start_ns = std::min(bounds.first_start_ns, start_ns);
    bounds.last_end_ns = std::max(bounds.last_end_ns, end_ns);
  }
};

// What needs every rank of one window.
struct Window {
  std::map<int32_t, CapacityCurve> capacity;
  std::vector<store::AllToAllEvent> arrivals;  // all-to-alls without their peer bytes
};

class WindowSummariser final : public store::Summariser {
 public:
  explicit WindowSummariser(int64_t window_steps) : window_steps_(window_steps) {}

  int64_t window_steps() const override { return window_steps_; }

  void add_expert_load(const store::ExpertLoad& load) override {
    const int64_t w = seen(load.rank, load.step);
    add_counts(rank_window(load.rank, w).load, load);
    window(w).capacity[load.layer].add_batch(load.counts);
  }

  void add_expert_drops(const store::ExpertLoad& dropped) override {
    add_counts(rank_window(dropped.rank, seen(dropped.rank, dropped.step)).drops, dropped);
  }

  void add_all_to_all(const store::AllToAllEvent& event) override {
    const int64_t w = seen(event.rank, event.step);
    RankWindow& r = rank_window(event.rank, w);
    r.all_to_all.add(event);
    for (const wire::PeerBytes& p : event.peers) r.volume[{event.layer, event.phase, p.peer}] += p.send_bytes;
    r.has_all_to_all = true;
    r.overlap.add(event);
    r.note_span(event.start_ns, event.end_ns);
    window(w).arrivals.push_back(without_peers(event));
  }

  void add_compute_span(const store::ComputeSpan& span) override {
    RankWindow& r = rank_window(span.rank, seen(span.rank, span.step));
    r.overlap.add(span);
    r.note_span(span.start_ns, span.end_ns);
  }

  void add_step(const store::StepSpan& step) override {
    RankWindow& r = rank_window(step.rank, seen(step.rank, step.step));
    r.overlap.add(step);
    r.note_span(step.start_ns, step.end_ns);
  }

  int64_t take(bool all, std::vector<SummaryRow>* out) override {
    last_rank_window_ = nullptr;
    last_window_ = nullptr;
    for (auto it = rank_windows_.begin(); it != rank_windows_.end();) {
      const auto [rank, w] = it->first;
      if (!all && latest_[rank] < w + 2) {
        ++it;
        continue;
      }
      emit(rank, w, it->second, out);
      it = rank_windows_.erase(it);
    }
    int64_t slowest = std::numeric_limits<int64_t>::max();
    for (const auto& [rank, latest] : latest_) slowest = std::min(slowest, latest);
    for (auto it = windows_.begin(); it != windows_.end();) {
      const bool forced = static_cast<int64_t>(windows_.size()) > kMaxOpenWindows;
      if (!all && !forced && slowest < it->first + 2) break;  // windows_ is in window order
      emit(it->first, it->second, out);
      it = windows_.erase(it);
    }
    int64_t open = std::numeric_limits<int64_t>::max();
    for (const auto& [key, r] : rank_windows_) open = std::min(open, key.second);
    if (!windows_.empty()) open = std::min(open, windows_.begin()->first);
    return open;
  }

 private:
  // Notes that `rank` sent a row of `step`; returns the step's window.
  int64_t seen(int32_t rank, int64_t step) {
    const int64_t w = window_of(step, window_steps_);
    if (last_latest_ == latest_.end() || last_latest_->first != rank) last_latest_ = latest_.try_emplace(rank, w).first;
    last_latest_->second = std::max(last_latest_->second, w);
    return w;
  }
  // Rows come in runs of one rank and window: the last one found is kept (map nodes stay
  // put until take() erases them, which forgets these).
  RankWindow& rank_window(int32_t rank, int64_t w) {
    if (last_rank_window_ == nullptr || last_rank_ != rank || last_rank_w_ != w) {
      last_rank_window_ = &rank_windows_[{rank, w}];
      last_rank_ = rank;
      last_rank_w_ = w;
    }
    return *last_rank_window_;
  }
  Window& window(int64_t w) {
    if (last_window_ == nullptr || last_w_ != w) {
      last_window_ = &windows_[w];
      last_w_ = w;
    }
    return *last_window_;
  }

  static SummaryRow row(SummaryKind kind, int32_t rank, int64_t w, wire::Bytes data) {
    return SummaryRow{kind, rank, w, std::move(data)};
  }

  void emit(int32_t rank, int64_t w, RankWindow& r, std::vector<SummaryRow>* out) {
    if (!r.load.empty()) out->push_back(row(SummaryKind::kExpertLoad, rank, w, summary_codec::encode_counts(layer_counts(r.load))));
    if (!r.drops.empty())
      out->push_back(row(SummaryKind::kExpertDrops, rank, w, summary_codec::encode_counts(layer_counts(r.drops))));
    if (r.has_all_to_all) {
      out->push_back(row(SummaryKind::kAllToAll, rank, w, summary_codec::encode_all_to_all(r.all_to_all.finish())));
      out->push_back(row(SummaryKind::kVolume, rank, w, summary_codec::encode_volume(r.volume)));
    }
    if (r.has_spans) {
      std::vector<RankOverlap> overlap = r.overlap.finish();  // one rank: one entry
      r.bounds.overlap = std::move(overlap.front());
      out->push_back(row(SummaryKind::kOverlap, rank, w, summary_codec::encode_overlap(r.bounds)));
    }
  }

  void emit(int64_t w, Window& window, std::vector<SummaryRow>* out) {
    if (!window.capacity.empty())
      out->push_back(row(SummaryKind::kCapacity, -1, w, summary_codec::encode_capacity(window.capacity)));
    if (!window.arrivals.empty())
      out->push_back(row(SummaryKind::kStragglers, -1, w, summary_codec::encode_stragglers(find_stragglers(window.arrivals))));
  }

  int64_t window_steps_;
  std::map<int32_t, int64_t> latest_;  // the newest window each rank has sent rows of
  std::map<int32_t, int64_t>::iterator last_latest_ = latest_.end();  // never erased
  std::map<std::pair<int32_t, int64_t>, RankWindow> rank_windows_;
  std::map<int64_t, Window> windows_;
  RankWindow* last_rank_window_ = nullptr;
  int32_t last_rank_ = 0;
  int64_t last_rank_w_ = 0;
  Window* last_window_ = nullptr;
  int64_t last_w_ = 0;
};

}  // namespace

std::unique_ptr<store::Summariser> make_window_summariser(int64_t window_steps) {
  return std::make_unique<WindowSummariser>(std::max<int64_t>(window_steps, 1));
}

}  // namespace moeprof::analysis

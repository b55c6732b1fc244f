// synth::generate: a simulated expert-parallel job, step by step and layer by layer, with all
// ranks advanced together so that the collectives couple them the way real ones do (the
// slowest rank sets when an all-to-all ends).
#include <algorithm>
#include <cstdio>
#include <numeric>

#include "moeprof/analysis/window_summariser.h"
#include "moeprof/store/writer.h"
#include "moeprof/synth/synth.h"
#include "popularity.h"

namespace moeprof::synth {
namespace {

// The simulated hardware: one GPU per rank.
constexpr double kFlopsPerNs = 400e3;          // 400 TFLOP/s achieved (bf16)
constexpr double kAllToAllBytesPerNs = 50.0;   // 50 GB/s per GPU for all-to-all traffic
constexpr int64_t kAllToAllLatencyNs = 20'000;
constexpr uint64_t kBytesPerValue = 2;         // bf16 activations
// Expert FFN width relative to the hidden size (DeepSeek-V3: 7168 / 2048).
constexpr double kExpertWidthRatio = 1.0 / 3.5;
constexpr double kComputeJitter = 0.03;        // relative standard deviation of compute times
constexpr int64_t kKernelOverheadNs = 5'000;   // launch and tail of every compute phase
constexpr uint32_t kLaunchSkewNs = 20'000;     // ranks start a step up to this far apart
constexpr int64_t kStepTailNs = 2'000'000;     // embedding, head, optimizer: outside the MoE layers
constexpr int64_t kStepGapNs = 100'000;
// A fixed clock origin keeps traces identical for identical seeds.
constexpr int64_t kStartMonotonicNs = 1'000'000'000'000;
constexpr int64_t kStartRealtimeNs = 1'750'000'000'000'000'000;
constexpr uint32_t kPidBase = 10'000;

// Independent random streams, so switching one kind of row on or off leaves the others as
// they were (the same seed gives the same counts with or without routing rows).
enum Stream : uint64_t { kPopularityStream, kCountsStream, kRoutingStream, kTimingStream };

std::string validate(const Options& o) {
  const store::ModelShape& s = o.shape;
  if (s.num_layers < 1 || s.num_experts < 1 || s.hidden_size < 1 || s.num_shared_experts < 0)
    return "the model shape needs at least 1 layer, 1 expert and a hidden size";
  if (s.top_k < 1 || s.top_k > s.num_experts)
    return "top-k " + std::to_string(s.top_k) + " must be between 1 and the " + std::to_string(s.num_experts) +
           " experts";
  if (o.ranks < 1 || o.ranks > 4096) return "ranks must be between 1 and 4096";
  if (o.steps < 0) return "steps must not be negative";
  if (o.tokens_per_rank < 1 || o.tokens_per_rank > 1'000'000) return "tokens per rank must be between 1 and 1000000";
  if (!(o.zipf_skew >= 0.0 && o.zipf_skew <= 100.0)) return "Zipf skew must be between 0 and 100";
  return {};
}

std::string command_line(const Options& o) {
  char skew[32];
  std::snprintf(skew, sizeof skew, "%g", o.zipf_skew);
  return "moeprof synth --shape " + o.shape.name + " --ranks " + std::to_string(o.ranks) + " --steps " +
         std::to_string(o.steps) + " --skew zipf:" + skew + " --seed " + std::to_string(o.seed);
}

class Generator {
 public:
  Generator(const Options& o, store::Writer& writer)
      : o_(o),
        w_(writer),
        ranks_(static_cast<size_t>(o.ranks)),
        experts_(static_cast<size_t>(o.shape.num_experts)),
        popularity_rng_(mix_seed(o.seed, kPopularityStream)),
        counts_rng_(mix_seed(o.seed, kCountsStream)),
        routing_rng_(mix_seed(o.seed, kRoutingStream)),
        timing_rng_(mix_seed(o.seed, kTimingStream)),
        owner_(experts_),
        loads_(ranks_),
        sent_(ranks_ * ranks_),
        clock_(ranks_, kStartMonotonicNs),
        shared_end_(ranks_) {
    // Block placement: rank r holds experts [r·E/R, (r+1)·E/R).
    for (size_t e = 0; e < experts_; ++e) owner_[e] = static_cast<int32_t>(e * ranks_ / experts_);
    for (int32_t layer = 0; layer < o.shape.num_layers; ++layer)
      popularity_.emplace_back(experts_, o.shape.top_k, o.zipf_skew, popularity_rng_);
    for (size_t r = 0; r < ranks_; ++r) {
      loads_[r].rank = static_cast<int32_t>(r);
      processes_.push_back(process(r));
    }
    const double h = o.shape.hidden_size;
    const double tokens = o.tokens_per_rank;
    attention_ns_ = 8.0 * tokens * h * h / kFlopsPerNs;  // QKV + output projections
    gate_ns_ = 2.0 * tokens * h * o.shape.num_experts / kFlopsPerNs;
    expert_ns_per_token_ = 6.0 * h * h * kExpertWidthRatio / kFlopsPerNs;  // 3 matmuls (SwiGLU)
    shared_ns_ = tokens * o.shape.num_shared_experts * expert_ns_per_token_;
    token_bytes_ = static_cast<uint64_t>(o.shape.hidden_size) * kBytesPerValue;
  }

  void run() {
    w_.set_run(run_info(false));
    w_.set_model(o_.shape);
    for (auto& p : processes_) p.id = w_.add_process(p);
    std::vector<wire::PlacementSlot> slots(experts_);
    for (size_t e = 0; e < experts_; ++e) slots[e] = {static_cast<int32_t>(e), owner_[e]};
    for (int32_t layer = 0; layer < o_.shape.num_layers; ++layer) w_.add_placement({0, layer, slots});

    for (int64_t step = 0; step < o_.steps && w_.error().empty(); ++step) run_step(step);

    for (size_t r = 0; r < ranks_; ++r) {
      processes_[r].end_ns = clock_[r];
      processes_[r].clean_exit = true;
      w_.update_process(processes_[r]);
    }
  }

  store::RunInfo run_info(bool ended) const {
    store::RunInfo run;
    run.command = command_line(o_);
    run.host = "synth";
    run.routing_mode = o_.routing ? "full" : "off";
    run.start_realtime_ns = kStartRealtimeNs;
    if (ended) {
      run.end_realtime_ns = kStartRealtimeNs + (*std::max_element(clock_.begin(), clock_.end()) - kStartMonotonicNs);
      run.exit_code = 0;
    }
    return run;
  }

 private:
  store::ProcessInfo process(size_t r) const {
    store::ProcessInfo p;
    p.pid = kPidBase + static_cast<uint32_t>(r);
    p.ppid = kPidBase - 1;
    p.host = "synth";
    p.command = "moe-train --rank " + std::to_string(r);
    p.rank = static_cast<int32_t>(r);
    p.local_rank = static_cast<int32_t>(r % 8);
    p.world_size = o_.ranks;
    p.ep_size = o_.ranks;
    p.realtime_ns = kStartRealtimeNs;
    p.monotonic_ns = kStartMonotonicNs;
    p.agent_version = 1;
    return p;
  }

  uint32_t tid(size_t r) const { return kPidBase + static_cast<uint32_t>(r); }

  int64_t jittered(double ns) {
    return static_cast<int64_t>(ns * std::max(0.5, 1.0 + kComputeJitter * timing_rng_.normal()));
  }
  int64_t compute_ns(double ns) { return kKernelOverheadNs + jittered(ns); }

  void span(size_t r, int64_t step, int32_t layer, wire::ComputeKind kind, const char* name, int64_t start,
            int64_t end) {
    if (!o_.compute) return;
    span_.rank = static_cast<int32_t>(r);
    span_.step = step;
    span_.layer = layer;
    span_.kind = kind;
    span_.source = wire::Source::kApi;
    span_.tid = tid(r);
    span_.start_ns = start;
    span_.end_ns = end;
    span_.name = name;
    w_.add_compute_span(span_);
  }

  // One all-to-all on every rank: `send(r, p)` tokens go from r to p. Every rank starts when
  // it gets there; all end together, when the busiest rank's traffic is through after the
  // last rank joined. Peers include the rank itself (its local copy, as in MPI_Alltoallv's
  // counts), which takes no network time.
  template <class Send>
  void all_to_all(int64_t step, int32_t layer, wire::Phase phase, const std::vector<int64_t>& start, Send send,
                  int64_t* end) {
    uint64_t busiest = 0;
    for (size_t r = 0; r < ranks_; ++r) {
      uint64_t out = 0, in = 0;
      for (size_t p = 0; p < ranks_; ++p)
        if (p != r) {
          out += send(r, p);
          in += send(p, r);
        }
      busiest = std::max({busiest, out, in});
    }
    *end = *std::max_element(start.begin(), start.end()) + kAllToAllLatencyNs +
           static_cast<int64_t>(static_cast<double>(busiest * token_bytes_) / kAllToAllBytesPerNs);
    if (!o_.all_to_all) return;
    a2a_.peers.resize(ranks_);
    for (size_t r = 0; r < ranks_; ++r) {
      a2a_.rank = static_cast<int32_t>(r);
      a2a_.step = step;
      a2a_.layer = layer;
      a2a_.phase = phase;
      a2a_.source = wire::Source::kApi;
      a2a_.tid = tid(r);
      a2a_.start_ns = start[r];
      a2a_.end_ns = *end;
      for (size_t p = 0; p < ranks_; ++p)
        a2a_.peers[p] = {static_cast<int32_t>(p), send(r, p) * token_bytes_, send(p, r) * token_bytes_};
      w_.add_all_to_all(a2a_);
    }
  }

  void run_step(int64_t step) {
    const int64_t step_begin = *std::max_element(clock_.begin(), clock_.end()) + kStepGapNs;
    std::vector<int64_t> step_start(ranks_);
    for (size_t r = 0; r < ranks_; ++r) clock_[r] = step_start[r] = step_begin + timing_rng_.below(kLaunchSkewNs);
    for (int32_t layer = 0; layer < o_.shape.num_layers; ++layer) run_layer(step, layer);
    for (size_t r = 0; r < ranks_; ++r) {
      clock_[r] += jittered(kStepTailNs);
      w_.add_step({static_cast<int32_t>(r), step, step_start[r], clock_[r]});
    }
  }

  void run_layer(int64_t step, int32_t layer) {
    const uint32_t tokens = o_.tokens_per_rank, top_k = static_cast<uint32_t>(o_.shape.top_k);
    const std::vector<double>& inclusion = popularity_[static_cast<size_t>(layer)].inclusion(step);
    std::fill(sent_.begin(), sent_.end(), 0);
    for (size_t r = 0; r < ranks_; ++r) {
      store::ExpertLoad& load = loads_[r];
      sample_counts(inclusion, tokens, top_k, counts_rng_, &load.counts);
      for (size_t e = 0; e < experts_; ++e) sent_[r * ranks_ + static_cast<size_t>(owner_[e])] += load.counts[e];
      load.step = step;
      load.layer = layer;
      if (o_.counts) w_.add_expert_load(load);
      if (o_.routing) {
        routing_from_counts(load.counts, tokens, top_k, routing_rng_, &batch_.routing);
        batch_.rank = load.rank;
        batch_.step = step;
        batch_.layer = layer;
        batch_.token_offset = 0;
        w_.add_router_decisions(batch_);
      }
    }
    const auto dispatch = [&](size_t from, size_t to) { return sent_[from * ranks_ + to]; };
    const auto combine = [&](size_t from, size_t to) { return sent_[to * ranks_ + from]; };

    // Attention (not recorded), then the gate.
    for (size_t r = 0; r < ranks_; ++r) {
      const int64_t gate_start = clock_[r] + compute_ns(attention_ns_);
      clock_[r] = gate_start + compute_ns(gate_ns_);
      span(r, step, layer, wire::ComputeKind::kGate, "moe.gate", gate_start, clock_[r]);
    }
    // Dispatch, with the shared experts computing meanwhile (the overlap operators aim for).
    int64_t dispatch_end = 0;
    all_to_all(step, layer, wire::Phase::kDispatch, clock_, dispatch, &dispatch_end);
    for (size_t r = 0; r < ranks_; ++r) {
      shared_end_[r] = clock_[r];
      if (o_.shape.num_shared_experts > 0) {
        shared_end_[r] += compute_ns(shared_ns_);
        span(r, step, layer, wire::ComputeKind::kSharedExpert, "moe.shared_expert", clock_[r], shared_end_[r]);
      }
    }
    // Routed experts: each rank computes the tokens its experts received.
    for (size_t r = 0; r < ranks_; ++r) {
      uint64_t received = 0;
      for (size_t p = 0; p < ranks_; ++p) received += dispatch(p, r);
      const int64_t start = std::max(dispatch_end, shared_end_[r]);
      clock_[r] = start + compute_ns(static_cast<double>(received) * expert_ns_per_token_);
      span(r, step, layer, wire::ComputeKind::kExpert, "moe.experts", start, clock_[r]);
    }
    int64_t combine_end = 0;
    all_to_all(step, layer, wire::Phase::kCombine, clock_, combine, &combine_end);
    std::fill(clock_.begin(), clock_.end(), combine_end);
  }

  const Options& o_;
  store::Writer& w_;
  size_t ranks_, experts_;
  Rng popularity_rng_, counts_rng_, routing_rng_, timing_rng_;
  std::vector<int32_t> owner_;  // rank holding each expert
  std::vector<LayerPopularity> popularity_;
  std::vector<store::ProcessInfo> processes_;
  std::vector<store::ExpertLoad> loads_;
  std::vector<uint64_t> sent_;  // tokens rank r sends to rank p in dispatch: sent_[r * ranks + p]
  std::vector<int64_t> clock_;  // where each rank is in time
  std::vector<int64_t> shared_end_;
  store::RouterDecisionBatch batch_;
  store::AllToAllEvent a2a_;
  store::ComputeSpan span_;
  double attention_ns_ = 0, gate_ns_ = 0, expert_ns_per_token_ = 0, shared_ns_ = 0;
  uint64_t token_bytes_ = 0;
};

}  // namespace

bool generate(const Options& options, const std::string& path, std::string* error) {
  if (const std::string problem = validate(options); !problem.empty()) {
    if (error) *error = "synth: " + problem;
    return false;
  }
  std::unique_ptr<store::Writer> writer =
      store::Writer::create(path, error, options.summaries ? store::in_background(analysis::make_window_summariser()) : nullptr);
  if (!writer) return false;
  Generator generator(options, *writer);
  generator.run();
  if (writer->finalize(generator.run_info(true), error)) return true;
  writer.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());  // no half-made trace
  return false;
}

}  // namespace moeprof::synth

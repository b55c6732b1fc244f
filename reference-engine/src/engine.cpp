#include "engine.h"

#include <algorithm>

#include "balance.h"
#include "capacity.h"
#include "inputs.h"
#include "moe_layer.h"
#if MOEPROF_ENGINE_CUDA
#include "cuda/cuda_moe_layer.h"
#endif

namespace moeprof::engine {

Engine::Engine(const Options& options, const ModelConfig& model, std::vector<ExpertMap> maps, MPI_Comm comm,
               int32_t local_rank, Recorder& recorder)
    : options_(options),
      model_(model),
      maps_(std::move(maps)),
      comm_(comm),
      local_rank_(local_rank),
      recorder_(recorder),
      skew_(options.zipf_skew, options.drift, options.seed, model.num_layers, model.num_experts) {
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &ranks_);
  recorder_.topology(rank_, local_rank, ranks_, model_);
  for (int32_t layer = 0; layer < model_.num_layers; ++layer) {
    const ExpertMap& map = maps_[static_cast<size_t>(layer)];
    recorder_.placement(layer, map);
    weights_.push_back(make_layer_weights(model_, options_.seed, layer, map.experts_on(rank_)));
  }
  if (options_.balance == Balance::kAuxFree)
    selection_bias_.assign(static_cast<size_t>(model_.num_layers),
                           std::vector<float>(size_t(model_.num_experts), 0.0f));
}

std::unique_ptr<LayerBackend> Engine::make_layer_backend() {
#if MOEPROF_ENGINE_CUDA
  if (options_.backend == Backend::kCuda) return make_cuda_layer_backend(model_, comm_, local_rank_, recorder_);
#endif
  return std::make_unique<MoeLayer>(model_, comm_, recorder_);
}

// The step's global load of every layer (one MPI_Allreduce), then each layer's bias update.
void Engine::update_balance(const std::vector<uint64_t>& step_counts) {
  std::vector<uint64_t> global(step_counts.size());
  MPI_Allreduce(step_counts.data(), global.data(), static_cast<int>(global.size()), MPI_UINT64_T, MPI_SUM, comm_);
  const size_t experts = size_t(model_.num_experts);
  for (size_t layer = 0; layer < selection_bias_.size(); ++layer)
    update_aux_free_bias(selection_bias_[layer], std::span(global).subspan(layer * experts, experts), kAuxFreeGamma);
}

RunStats Engine::run(OutputDump& dump) {
  const uint32_t tokens = static_cast<uint32_t>(options_.tokens), hidden = static_cast<uint32_t>(model_.hidden);
  const size_t experts = size_t(model_.num_experts);
  const uint32_t capacity =
      expert_capacity(options_.capacity_factor, tokens, uint32_t(model_.top_k), uint32_t(model_.num_experts));
  const std::unique_ptr<LayerBackend> layer_pass = make_layer_backend();
  std::vector<float> x(size_t(tokens) * hidden), skew_bias(skew_.active() ? experts : 0);
  std::vector<uint64_t> step_counts(size_t(model_.num_layers) * experts);
  std::vector<uint32_t> counts(experts);
  uint64_t dropped = 0;

  MPI_Barrier(comm_);
  const double start = MPI_Wtime();
  std::vector<double> step_seconds;
  for (int64_t step = 0; step < options_.steps; ++step) {
    if (options_.timing) MPI_Barrier(comm_);
    const double step_start = options_.timing ? MPI_Wtime() : 0.0;
    recorder_.step_begin(step);
    const int64_t first_token = int64_t(rank_) * tokens;
    make_tokens(options_.seed, step, first_token, tokens, hidden, x.data());
    layer_pass->begin_step(x);
    LayerStep s;
    s.global_first_token = first_token;
    s.capacity = capacity;
    s.record_routing = recorder_.routing_wanted();
    s.chunks = options_.chunks;
    s.timing = options_.timing;
    for (int32_t layer = 0; layer < model_.num_layers; ++layer) {
      s.layer = layer;
      if (skew_.active()) skew_.logit_bias(layer, step, skew_bias.data());
      s.logit_bias = skew_bias;
      s.selection_bias = selection_bias_.empty() ? std::span<const float>() : selection_bias_[size_t(layer)];
      dropped += layer_pass->forward(s, weights_[size_t(layer)], maps_[size_t(layer)], x, counts);
      std::copy(counts.begin(), counts.end(), step_counts.begin() + std::ptrdiff_t(size_t(layer) * experts));
    }
    layer_pass->end_step(x);
    if (!selection_bias_.empty()) update_balance(step_counts);
    recorder_.step_end(step);
    dump.add_step(step, x, comm_);
    if (options_.timing) {
      MPI_Barrier(comm_);
      step_seconds.push_back(MPI_Wtime() - step_start);
    }
  }
  MPI_Barrier(comm_);
  RunStats stats;
  stats.seconds = MPI_Wtime() - start;
  stats.tokens = uint64_t(tokens) * uint64_t(ranks_) * uint64_t(options_.steps);
  MPI_Allreduce(&dropped, &stats.dropped, 1, MPI_UINT64_T, MPI_SUM, comm_);
  if (options_.timing) {
    const ExchangeTiming& t = layer_pass->exchange_timing();
    stats.step_seconds = std::move(step_seconds);
    stats.exchanges = t.exchanges;
    MPI_Allreduce(&t.send_bytes, &stats.exchange_bytes, 1, MPI_UINT64_T, MPI_SUM, comm_);
    MPI_Allreduce(&t.seconds, &stats.exchange_seconds, 1, MPI_DOUBLE, MPI_MAX, comm_);
    MPI_Allreduce(&t.dispatch_seconds, &stats.dispatch_seconds, 1, MPI_DOUBLE, MPI_MAX, comm_);
  }
  return stats;
}

}  // namespace moeprof::engine

#include "cuda_moe_layer.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../capacity.h"
#include "../dispatch_plan.h"
#include "../exchange.h"
#include "cuda_chunk.h"
#include "device_array.h"
#include "engine_kernels.h"
#include "moeprof/kernels/cuda_check.h"
#include "moeprof/kernels/moe_kernels.h"
#include "moeprof/kernels/moe_kernels_cuda.h"
#include "nccl_check.h"

namespace moeprof::engine {
namespace {

using cuda::CudaChunk;
using cuda::DeviceArray;

// One layer's weights on the device, uploaded the first time the layer runs.
struct DeviceLayer {
  bool uploaded = false;
  DeviceArray<float> router, shared_gate_up, shared_down;
  std::vector<DeviceArray<float>> gate_up, down;  // by expert id; empty where not held
  std::vector<kernels::cuda::ExpertFfnWeights> experts;
  kernels::cuda::ExpertFfnWeights shared;
};

class CudaMoeLayer : public LayerBackend {
 public:
  CudaMoeLayer(const ModelConfig& model, MPI_Comm comm, int32_t local_rank, Recorder& recorder)
      : model_(model), comm_(comm), recorder_(recorder), layers_(size_t(model.num_layers)) {
    int rank = 0, devices = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &ranks_);
    MOEPROF_CUDA_CHECK(cudaGetDeviceCount(&devices));
    if (devices == 0) throw std::runtime_error("--backend cuda: no CUDA device");
    MOEPROF_CUDA_CHECK(cudaSetDevice(local_rank % devices));
    MOEPROF_CUDA_CHECK(cudaStreamCreateWithFlags(&context_.compute, cudaStreamNonBlocking));
    // NCCL's kernels first when both streams have work: the all-to-alls are what the
    // pipeline hides behind the experts, not the other way round.
    int lowest = 0, greatest = 0;
    MOEPROF_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&lowest, &greatest));
    MOEPROF_CUDA_CHECK(cudaStreamCreateWithPriority(&context_.comm, cudaStreamNonBlocking, greatest));
    MOEPROF_CUBLAS_CHECK(cublasCreate(&context_.cublas));
    MOEPROF_CUBLAS_CHECK(cublasSetStream(context_.cublas, context_.compute));
    ncclUniqueId id{};
    if (rank == 0) MOEPROF_NCCL_CHECK(ncclGetUniqueId(&id));
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, comm);
    MOEPROF_NCCL_CHECK(ncclCommInitRank(&context_.nccl, ranks_, id, rank));
    context_.mpi = comm;
    context_.hidden = uint32_t(model.hidden);
    context_.ffn = uint32_t(model.ffn);
    context_.top_k = uint32_t(model.top_k);
    context_.num_experts = uint32_t(model.num_experts);
  }
  ~CudaMoeLayer() override {
    cudaStreamSynchronize(context_.comm);
    cudaStreamSynchronize(context_.compute);
    chunks_.clear();
    ncclCommDestroy(context_.nccl);
    cublasDestroy(context_.cublas);
    cudaStreamDestroy(context_.comm);
    cudaStreamDestroy(context_.compute);
  }
  CudaMoeLayer(const CudaMoeLayer&) = delete;
  CudaMoeLayer& operator=(const CudaMoeLayer&) = delete;

  void begin_step(const std::vector<float>& x) override { x_.upload(x, context_.compute); }
  void end_step(std::vector<float>& x) override { x_.download(x.size(), x, context_.compute); }
  uint64_t forward(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map, std::vector<float>& x,
                   std::span<uint32_t> counts) override;
  const ExchangeTiming& exchange_timing() const override { return timing_; }

 private:
  DeviceLayer& device_layer(int32_t layer, const LayerWeights& weights);
  uint64_t route(const LayerStep& step, DeviceLayer& device, const ExpertMap& map, std::span<uint32_t> counts);
  void shared_expert(int32_t layer, DeviceLayer& device);
  void run_blocking(const LayerStep& step, DeviceLayer& device);
  void run_pipelined(const LayerStep& step, DeviceLayer& device);
  void end_dispatch(int32_t layer, CudaChunk& chunk);
  void experts(int32_t layer, CudaChunk& chunk, DeviceLayer& device);
  void end_combine(int32_t layer, CudaChunk& chunk);
  uint64_t row_bytes() const { return uint64_t(model_.hidden) * sizeof(float); }

  const ModelConfig& model_;
  MPI_Comm comm_;
  int32_t ranks_ = 1;
  Recorder& recorder_;
  std::vector<DeviceLayer> layers_;
  cuda::ChunkContext context_;
  std::vector<std::unique_ptr<CudaChunk>> chunks_;  // grown once, reused
  size_t active_chunks_ = 0;
  ExchangeTiming timing_;
  uint32_t tokens_ = 0;
  // Host side of the routing (the CPU backend's code plans the chunks).
  std::vector<int32_t> topk_ids_, kept_ids_;
  std::vector<float> topk_weights_;
  std::vector<uint32_t> dropped_;
  // Device buffers, reused from layer to layer.
  DeviceArray<float> x_, h_, logits_, bias_, selection_bias_, topk_weights_device_, shared_out_, y_, shared_scratch_;
  DeviceArray<int32_t> ids_;
};

DeviceLayer& CudaMoeLayer::device_layer(int32_t layer, const LayerWeights& w) {
  DeviceLayer& d = layers_.at(size_t(layer));
  if (d.uploaded) return d;
  d.router.upload(w.router, context_.compute);
  if (!w.shared.empty()) {
    d.shared = {d.shared_gate_up.upload(w.shared.gate_up, context_.compute),
                d.shared_down.upload(w.shared.down, context_.compute)};
  }
  d.gate_up.resize(w.experts.size());
  d.down.resize(w.experts.size());
  d.experts.assign(w.experts.size(), {});
  for (size_t e = 0; e < w.experts.size(); ++e) {
    if (w.experts[e].empty()) continue;  // held by another rank
    d.experts[e] = {d.gate_up[e].upload(w.experts[e].gate_up, context_.compute),
                    d.down[e].upload(w.experts[e].down, context_.compute)};
  }
  d.uploaded = true;
  return d;
}

uint64_t CudaMoeLayer::route(const LayerStep& step, DeviceLayer& device, const ExpertMap& map,
                             std::span<uint32_t> counts) {
  const uint32_t hidden = uint32_t(model_.hidden), k = uint32_t(model_.top_k), experts = uint32_t(model_.num_experts);
  const size_t pairs = size_t(tokens_) * k;
  Recorder::Compute gate(step.layer, MOEPROF_COMPUTE_GATE);
  cuda::rms_norm(x_.get(), tokens_, hidden, h_.reserve(size_t(tokens_) * hidden), context_.compute);
  // logits (tokens x experts) = h (tokens x hidden) * router (hidden x experts), row-major.
  const float one = 1.0f, zero = 0.0f;
  float* logits = logits_.reserve(size_t(tokens_) * experts);
  MOEPROF_CUBLAS_CHECK(cublasSgemm(context_.cublas, CUBLAS_OP_N, CUBLAS_OP_N, int(experts), int(tokens_), int(hidden),
                                   &one, device.router.get(), int(experts), h_.get(), int(hidden), &zero, logits,
                                   int(experts)));
  if (!step.logit_bias.empty())
    cuda::add_column_bias(logits, tokens_, experts, bias_.upload(step.logit_bias, context_.compute), context_.compute);
  kernels::GatingConfig config = gating_config(model_, {});
  if (!step.selection_bias.empty())
    config.selection_bias = std::span<const float>(selection_bias_.upload(step.selection_bias, context_.compute),
                                                   step.selection_bias.size());
  kernels::cuda::topk_gating(logits, tokens_, config, ids_.reserve(pairs), topk_weights_device_.reserve(pairs),
                             context_.compute);
  ids_.download(pairs, topk_ids_, context_.compute);
  topk_weights_device_.download(pairs, topk_weights_, context_.compute);
  // Capacity and the chunks' dispatch plans, on the host, as the CPU backend makes them.
  kernels::expert_histogram_cpu(topk_ids_.data(), pairs, experts, counts.data());
  kept_ids_.resize(pairs);
  dropped_.resize(experts);
  const uint64_t dropped_total =
      apply_capacity(topk_ids_.data(), pairs, experts, step.capacity, kept_ids_.data(), dropped_.data());
  active_chunks_ = size_t(std::max(step.chunks, 1));
  while (chunks_.size() < active_chunks_) chunks_.push_back(std::make_unique<CudaChunk>());
  for (size_t c = 0; c < active_chunks_; ++c) {
    CudaChunk& chunk = *chunks_[c];
    chunk.token_begin = uint32_t(uint64_t(tokens_) * c / active_chunks_);
    chunk.token_end = uint32_t(uint64_t(tokens_) * (c + 1) / active_chunks_);
    chunk.plan = plan_dispatch(kept_ids_, k, chunk.token_begin, chunk.token_end, step.global_first_token, map, ranks_);
    chunk.gather(context_, h_.get());
  }
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(context_.compute));  // the gathers belong to the gate span, as on the CPU
  return dropped_total;
}

void CudaMoeLayer::shared_expert(int32_t layer, DeviceLayer& device) {
  if (device.shared.gate_up == nullptr) return;
  Recorder::Compute span(layer, MOEPROF_COMPUTE_SHARED_EXPERT);
  const uint32_t offsets[2] = {0, tokens_};
  const uint32_t ffn = uint32_t(model_.shared_ffn());
  kernels::cuda::grouped_swiglu_ffn(context_.cublas, &device.shared, 1, offsets, uint32_t(model_.hidden), ffn, h_.get(),
                                    shared_out_.reserve(size_t(tokens_) * model_.hidden),
                                    shared_scratch_.reserve(size_t(tokens_) * 2 * ffn), context_.compute,
                                    kernels::cuda::FfnRole::kSharedExpert);
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(context_.compute));
}

void CudaMoeLayer::end_dispatch(int32_t layer, CudaChunk& chunk) {
  chunk.finish_dispatch();
  recorder_.all_to_all_end(chunk.dispatch_span, layer, MOEPROF_PHASE_DISPATCH, chunk.plan.rows_to_peer, chunk.recv_rows,
                           row_bytes());
}

void CudaMoeLayer::experts(int32_t layer, CudaChunk& chunk, DeviceLayer& device) {
  Recorder::Compute span(layer, MOEPROF_COMPUTE_EXPERT);
  chunk.run_experts(context_, device.experts);
}

void CudaMoeLayer::end_combine(int32_t layer, CudaChunk& chunk) {
  chunk.finish_combine();
  recorder_.all_to_all_end(chunk.combine_span, layer, MOEPROF_PHASE_COMBINE, chunk.recv_rows, chunk.plan.rows_to_peer,
                           row_bytes());
  Recorder::Compute span(layer, MOEPROF_COMPUTE_OTHER);
  chunk.weighted_sum(context_, topk_weights_device_.get(), y_.get());
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(context_.compute));  // the span ends when the sum is done
}

// As MoeLayer::run_blocking: shared expert, then dispatch (count exchange inside its span,
// --timing over the id and row exchange), experts, combine.
void CudaMoeLayer::run_blocking(const LayerStep& step, DeviceLayer& device) {
  CudaChunk& chunk = *chunks_[0];
  shared_expert(step.layer, device);
  chunk.dispatch_span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_DISPATCH);
  chunk.recv_rows = exchange_row_counts(chunk.plan.rows_to_peer, 1, comm_);
  chunk.reserve(context_);
  double t0 = step.timing ? MPI_Wtime() : 0.0;
  chunk.start_dispatch(context_);
  chunk.finish_dispatch();
  if (step.timing) {
    timing_.seconds += MPI_Wtime() - t0;
    timing_.dispatch_seconds += MPI_Wtime() - t0;
    timing_.send_bytes += chunk.send_row_count() * row_bytes();
    ++timing_.exchanges;
  }
  end_dispatch(step.layer, chunk);
  experts(step.layer, chunk, device);
  chunk.combine_span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_COMBINE);
  t0 = step.timing ? MPI_Wtime() : 0.0;
  chunk.start_combine(context_);
  chunk.finish_combine();
  if (step.timing) {
    timing_.seconds += MPI_Wtime() - t0;
    timing_.send_bytes += chunk.recv_row_count() * row_bytes();
    ++timing_.exchanges;
  }
  end_combine(step.layer, chunk);
}

// As MoeLayer::run_pipelined: while chunk c's experts run on the compute stream, chunk c+1's
// dispatch and chunk c-1's combine move on the comm stream; the shared expert runs while
// chunk 0 is dispatched. The comm stream gets the same NCCL order on every rank (D0, D1, C0,
// D2, C1, ...), so the send/recv groups always match.
void CudaMoeLayer::run_pipelined(const LayerStep& step, DeviceLayer& device) {
  const size_t n = active_chunks_;
  // One count exchange for every chunk, inside chunk 0's dispatch.
  chunks_[0]->dispatch_span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_DISPATCH);
  std::vector<int32_t> send_counts(size_t(ranks_) * n);
  for (size_t c = 0; c < n; ++c)
    for (size_t p = 0; p < size_t(ranks_); ++p) send_counts[p * n + c] = chunks_[c]->plan.rows_to_peer[p];
  const std::vector<int32_t> recv_counts = exchange_row_counts(send_counts, static_cast<int>(n), comm_);
  for (size_t c = 0; c < n; ++c) {
    chunks_[c]->recv_rows.resize(size_t(ranks_));
    for (size_t p = 0; p < size_t(ranks_); ++p) chunks_[c]->recv_rows[p] = recv_counts[p * n + c];
    chunks_[c]->reserve(context_);
  }
  chunks_[0]->start_dispatch(context_);
  shared_expert(step.layer, device);
  for (size_t c = 0; c < n; ++c) {
    end_dispatch(step.layer, *chunks_[c]);
    if (c + 1 < n) {
      chunks_[c + 1]->dispatch_span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_DISPATCH);
      chunks_[c + 1]->start_dispatch(context_);
    }
    experts(step.layer, *chunks_[c], device);
    chunks_[c]->combine_span = recorder_.all_to_all_begin(step.layer, MOEPROF_PHASE_COMBINE);
    chunks_[c]->start_combine(context_);
    if (c > 0) end_combine(step.layer, *chunks_[c - 1]);
  }
  end_combine(step.layer, *chunks_[n - 1]);
}

uint64_t CudaMoeLayer::forward(const LayerStep& step, const LayerWeights& weights, const ExpertMap& map,
                               std::vector<float>& x, std::span<uint32_t> counts) {
  const uint32_t hidden = uint32_t(model_.hidden), k = uint32_t(model_.top_k);
  tokens_ = uint32_t(x.size() / hidden);
  DeviceLayer& device = device_layer(step.layer, weights);
  const uint64_t dropped = route(step, device, map, counts);
  recorder_.expert_counts(step.layer, counts);
  if (step.capacity != kUnlimited) recorder_.expert_drops(step.layer, dropped_);
  if (step.record_routing) recorder_.router_decisions(step.layer, tokens_, k, topk_ids_.data(), topk_weights_.data());
  cuda::fill(y_.reserve(x.size()), x.size(), 0.0f, context_.compute);
  if (step.chunks == 0)
    run_blocking(step, device);
  else
    run_pipelined(step, device);
  Recorder::Compute residual(step.layer, MOEPROF_COMPUTE_OTHER);
  cuda::residual_add(x_.get(), device.shared.gate_up != nullptr ? shared_out_.get() : nullptr, y_.get(), x.size(),
                     context_.compute);
  MOEPROF_CUDA_CHECK(cudaStreamSynchronize(context_.compute));  // x stays on the device until end_step
  return dropped;
}

}  // namespace

std::unique_ptr<LayerBackend> make_cuda_layer_backend(const ModelConfig& model, MPI_Comm comm, int32_t local_rank,
                                                      Recorder& recorder) {
  return std::make_unique<CudaMoeLayer>(model, comm, local_rank, recorder);
}

}  // namespace moeprof::engine

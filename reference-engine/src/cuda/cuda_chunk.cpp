#include "cuda_chunk.h"

#include <numeric>

#include "engine_kernels.h"
#include "moeprof/kernels/cuda_check.h"
#include "nccl_check.h"

namespace moeprof::engine::cuda {
namespace {

// Rows (of `width` floats) to and from every peer, as one NCCL group of sends and receives.
void exchange_rows(const float* send, std::span<const int32_t> send_rows, float* recv,
                   std::span<const int32_t> recv_rows, size_t width, ncclComm_t comm, cudaStream_t stream) {
  size_t send_offset = 0, recv_offset = 0;
  MOEPROF_NCCL_CHECK(ncclGroupStart());
  for (size_t peer = 0; peer < send_rows.size(); ++peer) {
    const size_t out = size_t(send_rows[peer]) * width, in = size_t(recv_rows[peer]) * width;
    if (out != 0) MOEPROF_NCCL_CHECK(ncclSend(send + send_offset, out, ncclFloat, int(peer), comm, stream));
    if (in != 0) MOEPROF_NCCL_CHECK(ncclRecv(recv + recv_offset, in, ncclFloat, int(peer), comm, stream));
    send_offset += out;
    recv_offset += in;
  }
  MOEPROF_NCCL_CHECK(ncclGroupEnd());
}

// inverse[order[i] - base] = i; -1 elsewhere (n entries).
std::vector<int32_t> inverse_of(std::span<const uint32_t> order, size_t n, size_t base = 0) {
  std::vector<int32_t> inverse(n, -1);
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i] - base] = static_cast<int32_t>(i);
  return inverse;
}

}  // namespace

CudaChunk::CudaChunk() {
  for (cudaEvent_t* event : {&gathered_, &dispatched_, &computed_, &combined_event_})
    MOEPROF_CUDA_CHECK(cudaEventCreateWithFlags(event, cudaEventDisableTiming));
}

CudaChunk::~CudaChunk() {
  for (cudaEvent_t event : {gathered_, dispatched_, computed_, combined_event_}) cudaEventDestroy(event);
}

void CudaChunk::gather(ChunkContext& c, const float* h) {
  const uint32_t rows = uint32_t(plan.row_to_pair.size());
  kernels::cuda::permute_rows(h, c.hidden, row_to_pair_.upload(plan.row_to_pair, c.compute),
                              num_send_rows_.upload(std::span<const uint32_t>(&rows, 1), c.compute), rows, c.top_k,
                              send_.reserve(size_t(rows) * c.hidden), c.compute);
  MOEPROF_CUDA_CHECK(cudaEventRecord(gathered_, c.compute));
}

uint64_t CudaChunk::recv_row_count() const { return std::accumulate(recv_rows.begin(), recv_rows.end(), uint64_t{0}); }

void CudaChunk::reserve(ChunkContext& c) {
  const size_t received = recv_row_count(), sent = plan.row_to_pair.size(), hidden = c.hidden;
  recv_.reserve(received * hidden);
  expert_out_.reserve(received * hidden);
  combined_.reserve(sent * hidden);
  pair_to_row_.reserve(size_t(token_end - token_begin) * c.top_k);
  // The compute scratch every chunk shares: at least this chunk's size.
  c.grouped_in.reserve(received * hidden);
  c.grouped_out.reserve(received * hidden);
  c.scratch.reserve(received * 2 * c.ffn);
  c.ones.reserve(received);
  c.grouped_to_row.reserve(received);
  c.row_to_grouped.reserve(received);
}

void CudaChunk::start_dispatch(ChunkContext& c) {
  expert_ids_ = std::make_unique<RowsAlltoallv>(plan.rows_to_peer, recv_rows, 1);  // small: MPI, on the host
  recv_expert.resize(expert_ids_->recv_elements());
  expert_ids_->start(plan.row_expert.data(), recv_expert.data(), c.mpi);
  MOEPROF_CUDA_CHECK(cudaStreamWaitEvent(c.comm, gathered_, 0));
  exchange_rows(send_.get(), plan.rows_to_peer, recv_.reserve(recv_row_count() * c.hidden), recv_rows, c.hidden, c.nccl,
                c.comm);
  MOEPROF_CUDA_CHECK(cudaEventRecord(dispatched_, c.comm));
}

void CudaChunk::finish_dispatch() {
  if (expert_ids_) {
    expert_ids_->wait();
    expert_ids_.reset();
  }
  MOEPROF_CUDA_CHECK(cudaEventSynchronize(dispatched_));
}

void CudaChunk::run_experts(ChunkContext& c, std::span<const kernels::cuda::ExpertFfnWeights> experts) {
  const uint32_t received = uint32_t(recv_expert.size()), hidden = c.hidden;
  const ExpertGroups groups = group_by_expert(recv_expert, c.num_experts);
  MOEPROF_CUDA_CHECK(cudaStreamWaitEvent(c.compute, dispatched_, 0));
  kernels::cuda::permute_rows(recv_.get(), hidden, c.grouped_to_row.upload(groups.grouped_to_row, c.compute),
                              c.num_rows.upload(std::span<const uint32_t>(&received, 1), c.compute), received, 1,
                              c.grouped_in.reserve(size_t(received) * hidden), c.compute);
  kernels::cuda::grouped_swiglu_ffn(c.cublas, experts.data(), c.num_experts, groups.expert_offsets.data(), hidden,
                                    c.ffn, c.grouped_in.get(), c.grouped_out.reserve(size_t(received) * hidden),
                                    c.scratch.reserve(size_t(received) * 2 * c.ffn), c.compute);
  // Back to arrival order: expert_out[row] = grouped_out[g] where grouped_to_row[g] = row (an
  // unpermute with one choice of weight 1 per row).
  float* out = expert_out_.reserve(size_t(received) * hidden);
  fill(out, size_t(received) * hidden, 0.0f, c.compute);
  fill(c.ones.reserve(received), received, 1.0f, c.compute);
  kernels::cuda::unpermute_rows(c.grouped_out.get(), hidden,
                                c.row_to_grouped.upload(inverse_of(groups.grouped_to_row, received), c.compute),
                                received, 1, c.ones.get(), out, c.compute);
  MOEPROF_CUDA_CHECK(cudaEventRecord(computed_, c.compute));
  MOEPROF_CUDA_CHECK(cudaEventSynchronize(computed_));  // the compute span ends when they have run
}

void CudaChunk::start_combine(ChunkContext& c) {
  MOEPROF_CUDA_CHECK(cudaStreamWaitEvent(c.comm, computed_, 0));
  exchange_rows(expert_out_.get(), recv_rows, combined_.reserve(size_t(plan.row_to_pair.size()) * c.hidden),
                plan.rows_to_peer, c.hidden, c.nccl, c.comm);
  MOEPROF_CUDA_CHECK(cudaEventRecord(combined_event_, c.comm));
}

void CudaChunk::finish_combine() { MOEPROF_CUDA_CHECK(cudaEventSynchronize(combined_event_)); }

void CudaChunk::weighted_sum(ChunkContext& c, const float* topk_weights, float* y) {
  // Over the chunk's tokens only: row_to_pair holds batch pairs token * top_k + choice.
  const uint32_t tokens = token_end - token_begin;
  const size_t first_pair = size_t(token_begin) * c.top_k;
  MOEPROF_CUDA_CHECK(cudaStreamWaitEvent(c.compute, combined_event_, 0));
  kernels::cuda::unpermute_rows(
      combined_.get(), c.hidden,
      pair_to_row_.upload(inverse_of(plan.row_to_pair, size_t(tokens) * c.top_k, first_pair), c.compute), tokens,
      c.top_k, topk_weights + first_pair, y + size_t(token_begin) * c.hidden, c.compute);
}

}  // namespace moeprof::engine::cuda

#include "exchange.h"

namespace moeprof::engine {

RowsAlltoallv::RowsAlltoallv(std::span<const int32_t> send_rows, std::span<const int32_t> recv_rows, int width) {
  const auto layout = [width](std::span<const int32_t> rows, std::vector<int>& counts, std::vector<int>& displs) {
    size_t total = 0;
    for (int32_t r : rows) {
      counts.push_back(r * width);
      displs.push_back(static_cast<int>(total));
      total += size_t(r) * size_t(width);
    }
    return total;
  };
  send_total_ = layout(send_rows, send_counts_, send_displs_);
  recv_total_ = layout(recv_rows, recv_counts_, recv_displs_);
}

RowsAlltoallv::~RowsAlltoallv() {
  // Never leave MPI holding pointers into freed memory.
  if (request_ != MPI_REQUEST_NULL) wait();
}

void RowsAlltoallv::wait() { MPI_Wait(&request_, MPI_STATUS_IGNORE); }

void RowsAlltoallv::poke() {
  if (request_ == MPI_REQUEST_NULL) return;
  int done = 0;
  MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
}

std::vector<int32_t> exchange_row_counts(std::span<const int32_t> send, int chunks, MPI_Comm comm) {
  std::vector<int32_t> recv(send.size());
  MPI_Alltoall(send.data(), chunks, MPI_INT32_T, recv.data(), chunks, MPI_INT32_T, comm);
  return recv;
}

}  // namespace moeprof::engine

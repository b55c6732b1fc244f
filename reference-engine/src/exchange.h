// MPI all-to-alls of rows: the element counts and displacements of one MPI_Alltoallv, kept
// alive with it (MPI reads them until a nonblocking exchange completes).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <vector>

namespace moeprof::engine {

template <class T>
MPI_Datatype mpi_type();
template <>
inline MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
inline MPI_Datatype mpi_type<int32_t>() {
  return MPI_INT32_T;
}

class RowsAlltoallv {
 public:
  // send_rows[p] rows to peer p, recv_rows[p] rows from p, `width` elements per row.
  RowsAlltoallv(std::span<const int32_t> send_rows, std::span<const int32_t> recv_rows, int width);
  RowsAlltoallv(const RowsAlltoallv&) = delete;
  RowsAlltoallv& operator=(const RowsAlltoallv&) = delete;
  ~RowsAlltoallv();

  size_t send_elements() const { return send_total_; }
  size_t recv_elements() const { return recv_total_; }

  template <class T>
  void run(const T* send, T* recv, MPI_Comm comm) {
    MPI_Alltoallv(send, send_counts_.data(), send_displs_.data(), mpi_type<T>(), recv, recv_counts_.data(),
                  recv_displs_.data(), mpi_type<T>(), comm);
  }
  // MPI_Ialltoallv; finish with wait(). The buffers must stay alive until then.
  template <class T>
  void start(const T* send, T* recv, MPI_Comm comm) {
    MPI_Ialltoallv(send, send_counts_.data(), send_displs_.data(), mpi_type<T>(), recv, recv_counts_.data(),
                   recv_displs_.data(), mpi_type<T>(), comm, &request_);
  }
  void wait();
  // Lets MPI progress the exchange (Open MPI moves nonblocking collectives inside MPI calls).
  void poke();

 private:
  std::vector<int> send_counts_, send_displs_, recv_counts_, recv_displs_;
  size_t send_total_ = 0, recv_total_ = 0;
  MPI_Request request_ = MPI_REQUEST_NULL;
};

// Row counts of several chunks: send[p * chunks + c] rows of chunk c go to peer p; returns
// recv[p * chunks + c], what peer p sends in chunk c (one MPI_Alltoall).
std::vector<int32_t> exchange_row_counts(std::span<const int32_t> send, int chunks, MPI_Comm comm);

}  // namespace moeprof::engine

/* A third-party-style MPI program: it knows nothing of moeprof and only calls MPI. Every
 * all-to-all shape the MPI capture interposes, with uneven counts, several datatypes, a
 * sub-communicator numbered in reverse, in-place and non-blocking calls. Each rank writes what
 * it sent to and received from every peer, as world ranks, to DIR/mpi.rank<R>.csv (header
 * rank,peer,send_bytes,recv_bytes, one row per peer of each call), computed from its own
 * counts and type sizes: the ground truth the trace is compared with.
 * usage: mpi_workload DIR */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE* truth;
static int world_rank;

/* One call's rows: counts (elements) times type sizes, peers translated to world ranks. */
static void note(MPI_Comm comm, const int* send_counts, int send_size, const int* recv_counts, int recv_size) {
  int n;
  MPI_Comm_size(comm, &n);
  MPI_Group group, world;
  MPI_Comm_group(comm, &group);
  MPI_Comm_group(MPI_COMM_WORLD, &world);
  for (int p = 0; p < n; ++p) {
    int global;
    MPI_Group_translate_ranks(group, 1, &p, world, &global);
    fprintf(truth, "%d,%d,%lld,%lld\n", world_rank, global, (long long)send_counts[p] * send_size,
            (long long)recv_counts[p] * recv_size);
  }
  MPI_Group_free(&group);
  MPI_Group_free(&world);
}

/* Counts where rank r sends (r + 1) * (p + 2) elements to peer p, and receives the mirror. */
static void uneven(MPI_Comm comm, int* send, int* sdispl, int* recv, int* rdispl, int* total_send, int* total_recv) {
  int n, r;
  MPI_Comm_size(comm, &n);
  MPI_Comm_rank(comm, &r);
  *total_send = *total_recv = 0;
  for (int p = 0; p < n; ++p) {
    send[p] = (r + 1) * (p + 2);
    recv[p] = (p + 1) * (r + 2);
    sdispl[p] = *total_send;
    rdispl[p] = *total_recv;
    *total_send += send[p];
    *total_recv += recv[p];
  }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  if (argc != 2) {
    fprintf(stderr, "usage: mpi_workload DIR\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  int n;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  char path[4096];
  snprintf(path, sizeof path, "%s/mpi.rank%d.csv", argv[1], world_rank);
  truth = fopen(path, "w");
  if (!truth) MPI_Abort(MPI_COMM_WORLD, 1);
  fprintf(truth, "rank,peer,send_bytes,recv_bytes\n");

  int send[64], sdispl[64], recv[64], rdispl[64], total_send, total_recv;
  /* 1. Alltoallv of ints with uneven counts. */
  uneven(MPI_COMM_WORLD, send, sdispl, recv, rdispl, &total_send, &total_recv);
  int* ints_out = calloc((size_t)total_send, sizeof(int));
  int* ints_in = calloc((size_t)total_recv, sizeof(int));
  MPI_Alltoallv(ints_out, send, sdispl, MPI_INT, ints_in, recv, rdispl, MPI_INT, MPI_COMM_WORLD);
  note(MPI_COMM_WORLD, send, sizeof(int), recv, sizeof(int));

  /* 2. Alltoall of 3 doubles on a sub-communicator of one parity, numbered in reverse. */
  MPI_Comm half;
  MPI_Comm_split(MPI_COMM_WORLD, world_rank % 2, -world_rank, &half);
  int half_n;
  MPI_Comm_size(half, &half_n);
  double doubles_out[3 * 64], doubles_in[3 * 64];
  memset(doubles_out, 0, sizeof doubles_out);
  MPI_Alltoall(doubles_out, 3, MPI_DOUBLE, doubles_in, 3, MPI_DOUBLE, half);
  int threes[64];
  for (int p = 0; p < half_n; ++p) threes[p] = 3;
  note(half, threes, sizeof(double), threes, sizeof(double));

  /* 3. Ialltoallv of shorts on the sub-communicator, completed by MPI_Wait. */
  uneven(half, send, sdispl, recv, rdispl, &total_send, &total_recv);
  short* shorts_out = calloc((size_t)total_send, sizeof(short));
  short* shorts_in = calloc((size_t)total_recv, sizeof(short));
  MPI_Request request;
  MPI_Ialltoallv(shorts_out, send, sdispl, MPI_SHORT, shorts_in, recv, rdispl, MPI_SHORT, half, &request);
  MPI_Wait(&request, MPI_STATUS_IGNORE);
  note(half, send, sizeof(short), recv, sizeof(short));

  /* 4. Two Ialltoalls of chars in flight together, completed by MPI_Waitall. */
  char chars_out[2][5 * 64], chars_in[2][5 * 64];
  memset(chars_out, 0, sizeof chars_out);
  MPI_Request requests[2];
  MPI_Ialltoall(chars_out[0], 5, MPI_CHAR, chars_in[0], 5, MPI_CHAR, MPI_COMM_WORLD, &requests[0]);
  MPI_Ialltoall(chars_out[1], 2, MPI_CHAR, chars_in[1], 2, MPI_CHAR, half, &requests[1]);
  MPI_Waitall(2, requests, MPI_STATUSES_IGNORE);
  int fives[64], twos[64];
  for (int p = 0; p < 64; ++p) {
    fives[p] = 5;
    twos[p] = 2;
  }
  note(MPI_COMM_WORLD, fives, 1, fives, 1);
  note(half, twos, 1, twos, 1);

  /* 5. Alltoallw: doubles between ranks of different parity, ints between the others (a
   * pair's two sides use the same type). */
  int w_send[64], w_recv[64], w_sdispl[64], w_rdispl[64];
  MPI_Datatype types[64];
  for (int p = 0; p < n; ++p) {
    types[p] = (world_rank + p) % 2 ? MPI_DOUBLE : MPI_INT;
    w_send[p] = w_recv[p] = 4;
    w_sdispl[p] = w_rdispl[p] = p * 4 * (int)sizeof(double);
  }
  char* w_out = calloc((size_t)n * 4, sizeof(double));
  char* w_in = calloc((size_t)n * 4, sizeof(double));
  MPI_Alltoallw(w_out, w_send, w_sdispl, types, w_in, w_recv, w_rdispl, types, MPI_COMM_WORLD);
  for (int p = 0; p < n; ++p) { /* MPI_COMM_WORLD: peer p is world rank p */
    long long bytes = 4LL * ((world_rank + p) % 2 ? (int)sizeof(double) : (int)sizeof(int));
    fprintf(truth, "%d,%d,%lld,%lld\n", world_rank, p, bytes, bytes);
  }

  /* 6. In-place Alltoall of 7 ints: it sends what it receives. */
  int in_place[7 * 64];
  memset(in_place, 0, sizeof in_place);
  MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, in_place, 7, MPI_INT, MPI_COMM_WORLD);
  int sevens[64];
  for (int p = 0; p < n; ++p) sevens[p] = 7;
  note(MPI_COMM_WORLD, sevens, sizeof(int), sevens, sizeof(int));

  fclose(truth);
  free(ints_out);
  free(ints_in);
  free(shorts_out);
  free(shorts_in);
  free(w_out);
  free(w_in);
  MPI_Comm_free(&half);
  MPI_Finalize();
  return 0;
}

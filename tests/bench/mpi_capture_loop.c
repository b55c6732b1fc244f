/* MPI capture overhead (issue 7): a program that calls small all-to-alls back to back, the
 * heaviest use of the interposed calls. Prints the seconds per call (slowest rank).
 *   mpirun -np R moeprof_mpi_capture_loop [CALLS]   (default 20000; half MPI_Alltoall, half
 *   MPI_Ialltoallv + MPI_Wait) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, n;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  const int calls = argc > 1 ? atoi(argv[1]) : 20000;
  int* out = calloc((size_t)n * 2, sizeof(int));
  int* in = calloc((size_t)n * 2, sizeof(int));
  int* counts = malloc((size_t)n * sizeof(int));
  int* displs = malloc((size_t)n * sizeof(int));
  for (int p = 0; p < n; ++p) {
    counts[p] = 2;
    displs[p] = 2 * p;
  }
  MPI_Alltoall(out, 2, MPI_INT, in, 2, MPI_INT, MPI_COMM_WORLD); /* warm-up */
  MPI_Barrier(MPI_COMM_WORLD);
  const double start = MPI_Wtime();
  for (int i = 0; i < calls / 2; ++i) {
    MPI_Alltoall(out, 2, MPI_INT, in, 2, MPI_INT, MPI_COMM_WORLD);
    MPI_Request request;
    MPI_Ialltoallv(out, counts, displs, MPI_INT, in, counts, displs, MPI_INT, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
  }
  double seconds = MPI_Wtime() - start, slowest = 0;
  MPI_Reduce(&seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (rank == 0) printf("mpi_capture_loop: ranks=%d calls=%d seconds_per_call=%.9f\n", n, calls, slowest / calls);
  free(out);
  free(in);
  free(counts);
  free(displs);
  MPI_Finalize();
  return 0;
}

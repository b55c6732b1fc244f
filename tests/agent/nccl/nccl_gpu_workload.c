/* A real NCCL program, for machines with GPUs: one process drives every visible GPU (at most
 * 8) as the ranks of one communicator (ncclCommInitAll). With two or more GPUs it makes an
 * ncclAlltoAll, a grouped ncclSend/ncclRecv all-to-all with uneven counts and an AllReduce;
 * with one GPU (NCCL runs one-rank collectives without events) a send/receive to itself.
 * It writes what it did, from its own counts (comm_rank is the communicator rank whose
 * plugin context saw it; peers are communicator ranks):
 *   DIR/nccl_gpu_a2a.csv     call,comm_rank,peer,send_bytes,recv_bytes
 *   DIR/nccl_gpu_ranges.csv  name,comm_rank,peer,bytes
 * Exits 77 when there is no GPU (the test is then skipped).
 * usage: nccl_gpu_workload DIR */
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_GPUS 8

#define CHECK_CUDA(call)                                                              \
  do {                                                                                \
    cudaError_t e_ = (call);                                                          \
    if (e_ != cudaSuccess) {                                                          \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)
#define CHECK_NCCL(call)                                                              \
  do {                                                                                \
    ncclResult_t r_ = (call);                                                         \
    if (r_ != ncclSuccess) {                                                          \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, ncclGetErrorString(r_)); \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)

static int n;
static ncclComm_t comms[MAX_GPUS];
static cudaStream_t streams[MAX_GPUS];
static float* send_buf[MAX_GPUS];
static float* recv_buf[MAX_GPUS];

/* Elements rank r sends to peer p in the grouped all-to-all. */
static size_t uneven(int r, int p) { return (size_t)((r + 1) * (p + 2) * 1000 + 17 * r); }

static void sync_all(void) {
  for (int r = 0; r < n; ++r) {
    CHECK_CUDA(cudaSetDevice(r));
    CHECK_CUDA(cudaStreamSynchronize(streams[r]));
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: nccl_gpu_workload DIR\n");
    return 2;
  }
  if (cudaGetDeviceCount(&n) != cudaSuccess || n < 1) {
    printf("no GPU: nothing to do\n");
    return 77;
  }
  if (n > MAX_GPUS) n = MAX_GPUS;
  char path[4096];
  snprintf(path, sizeof path, "%s/nccl_gpu_a2a.csv", argv[1]);
  FILE* a2a = fopen(path, "w");
  snprintf(path, sizeof path, "%s/nccl_gpu_ranges.csv", argv[1]);
  FILE* ranges = fopen(path, "w");
  if (a2a == NULL || ranges == NULL) {
    perror(argv[1]);
    return 1;
  }
  fprintf(a2a, "call,comm_rank,peer,send_bytes,recv_bytes\n");
  fprintf(ranges, "name,comm_rank,peer,bytes\n");

  int devices[MAX_GPUS];
  for (int r = 0; r < n; ++r) devices[r] = r;
  CHECK_NCCL(ncclCommInitAll(comms, n, devices));
  const size_t elements = 1 << 22;  /* per buffer, enough for every call below */
  for (int r = 0; r < n; ++r) {
    CHECK_CUDA(cudaSetDevice(r));
    CHECK_CUDA(cudaStreamCreate(&streams[r]));
    CHECK_CUDA(cudaMalloc((void**)&send_buf[r], elements * sizeof(float)));
    CHECK_CUDA(cudaMalloc((void**)&recv_buf[r], elements * sizeof(float)));
  }

  if (n >= 2) {
    /* 1. ncclAlltoAll, 1024 floats to every rank. */
    const size_t count = 1024;
    CHECK_NCCL(ncclGroupStart());
    for (int r = 0; r < n; ++r) CHECK_NCCL(ncclAlltoAll(send_buf[r], recv_buf[r], count, ncclFloat32, comms[r], streams[r]));
    CHECK_NCCL(ncclGroupEnd());
    sync_all();
    for (int r = 0; r < n; ++r)
      for (int p = 0; p < n; ++p) fprintf(a2a, "0,%d,%d,%zu,%zu\n", r, p, count * 4, count * 4);

    /* 2. An alltoallv as ncclSend/ncclRecv in one group, uneven counts. */
    CHECK_NCCL(ncclGroupStart());
    for (int r = 0; r < n; ++r) {
      size_t send_offset = 0, recv_offset = 0;
      for (int p = 0; p < n; ++p) {
        CHECK_NCCL(ncclSend(send_buf[r] + send_offset, uneven(r, p), ncclFloat32, p, comms[r], streams[r]));
        CHECK_NCCL(ncclRecv(recv_buf[r] + recv_offset, uneven(p, r), ncclFloat32, p, comms[r], streams[r]));
        send_offset += uneven(r, p);
        recv_offset += uneven(p, r);
      }
    }
    CHECK_NCCL(ncclGroupEnd());
    sync_all();
    for (int r = 0; r < n; ++r)
      for (int p = 0; p < n; ++p) fprintf(a2a, "1,%d,%d,%zu,%zu\n", r, p, uneven(r, p) * 4, uneven(p, r) * 4);

    /* 3. AllReduce of 65536 floats. */
    CHECK_NCCL(ncclGroupStart());
    for (int r = 0; r < n; ++r)
      CHECK_NCCL(ncclAllReduce(send_buf[r], recv_buf[r], 1 << 16, ncclFloat32, ncclSum, comms[r], streams[r]));
    CHECK_NCCL(ncclGroupEnd());
    sync_all();
    for (int r = 0; r < n; ++r) fprintf(ranges, "AllReduce,%d,-1,%d\n", r, (1 << 16) * 4);
  } else {
    /* One GPU: a send and a receive to itself (one peer: point-to-point ranges). */
    CHECK_CUDA(cudaSetDevice(0));
    CHECK_NCCL(ncclGroupStart());
    CHECK_NCCL(ncclSend(send_buf[0], 1000, ncclFloat32, 0, comms[0], streams[0]));
    CHECK_NCCL(ncclRecv(recv_buf[0], 1000, ncclFloat32, 0, comms[0], streams[0]));
    CHECK_NCCL(ncclGroupEnd());
    sync_all();
    fprintf(ranges, "Send,0,0,4000\nRecv,0,0,4000\n");
  }

  for (int r = 0; r < n; ++r) {
    CHECK_CUDA(cudaSetDevice(r));
    CHECK_NCCL(ncclCommDestroy(comms[r]));
    CHECK_CUDA(cudaFree(send_buf[r]));
    CHECK_CUDA(cudaFree(recv_buf[r]));
    CHECK_CUDA(cudaStreamDestroy(streams[r]));
  }
  fclose(a2a);
  fclose(ranges);
  printf("%d GPU(s): done\n", n);
  return 0;
}

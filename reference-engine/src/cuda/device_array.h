// A growable array in device memory: grows to the largest size asked for and stays there,
// so a layer's buffers are allocated in the first step and reused in every later one.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <span>
#include <vector>

#include "moeprof/kernels/cuda_check.h"

namespace moeprof::engine::cuda {

template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& other) noexcept : data_(other.data_), capacity_(other.capacity_) {
    other.data_ = nullptr;
    other.capacity_ = 0;
  }
  ~DeviceArray() { cudaFree(data_); }

  // At least n elements (contents not kept when it grows).
  T* reserve(size_t n) {
    if (n > capacity_) {
      cudaFree(data_);
      data_ = nullptr;
      capacity_ = 0;  // stays true if the allocation below throws
      void* memory = nullptr;
      MOEPROF_CUDA_CHECK(cudaMalloc(&memory, n * sizeof(T)));
      data_ = static_cast<T*>(memory);
      capacity_ = n;
    }
    return data_;
  }
  // A copy of `host`, in order on `stream`, complete when this returns (so `host` may be a
  // temporary: pageable copies are only documented to be staged, not finished, on return).
  T* upload(std::span<const T> host, cudaStream_t stream) {
    T* out = reserve(host.size());
    if (!host.empty()) {
      MOEPROF_CUDA_CHECK(cudaMemcpyAsync(out, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, stream));
      MOEPROF_CUDA_CHECK(cudaStreamSynchronize(stream));
    }
    return out;
  }
  // The first n elements into host (resized), after everything queued on `stream`.
  void download(size_t n, std::vector<T>& host, cudaStream_t stream) const {
    host.resize(n);
    if (n != 0) MOEPROF_CUDA_CHECK(cudaMemcpyAsync(host.data(), data_, n * sizeof(T), cudaMemcpyDeviceToHost, stream));
    MOEPROF_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  T* get() const { return data_; }

 private:
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace moeprof::engine::cuda

#include "output_dump.h"

#include <cerrno>
#include <cstring>

namespace moeprof::engine {

OutputDump::~OutputDump() {
  if (file_) std::fclose(file_);
}

bool OutputDump::open(const std::string& path, int32_t rank, int64_t global_tokens, int32_t hidden,
                      std::string* error) {
  active_ = true;
  hidden_ = hidden;
  path_ = path;
  if (rank != 0) return true;
  file_ = std::fopen(path.c_str(), "w");
  if (!file_) {
    *error = path + ": cannot create: " + std::strerror(errno);
    return false;
  }
  std::fprintf(file_, "moe-engine-output v1 tokens=%lld hidden=%d\n", static_cast<long long>(global_tokens), hidden);
  return true;
}

void OutputDump::add_step(int64_t step, const std::vector<float>& x, MPI_Comm comm) {
  if (!active_) return;
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  if (rank == 0) all_.resize(x.size() * size_t(ranks));
  MPI_Gather(x.data(), static_cast<int>(x.size()), MPI_FLOAT, all_.data(), static_cast<int>(x.size()), MPI_FLOAT, 0,
             comm);
  if (rank != 0 || !file_) return;
  const size_t tokens = all_.size() / size_t(hidden_);
  for (size_t t = 0; t < tokens; ++t) {
    std::fprintf(file_, "%lld %zu", static_cast<long long>(step), t);
    for (int32_t i = 0; i < hidden_; ++i) std::fprintf(file_, " %.9g", double(all_[t * size_t(hidden_) + size_t(i)]));
    std::fputc('\n', file_);
  }
}

bool OutputDump::close(std::string* error) {
  if (!file_) return true;
  const bool ok = std::ferror(file_) == 0 && std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok) *error = path_ + ": cannot write: " + std::strerror(errno);
  return ok;
}

}  // namespace moeprof::engine

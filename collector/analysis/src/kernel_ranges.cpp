#include "moeprof/analysis/kernel_ranges.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <tuple>
#include <utility>

namespace moeprof::analysis {
namespace {

using Thread = std::pair<int32_t, uint32_t>;  // rank, tid

bool has_extent(const store::Range& r) {
  return r.kind == wire::RangeKind::kPushPop || r.kind == wire::RangeKind::kStartEnd;
}

void append_name(std::string& path, const store::Range& r) {
  if (!path.empty()) path += kRangePathSeparator;
  if (!r.domain.empty()) {
    path += r.domain;
    path += ':';
  }
  path += r.name;
}

}  // namespace

std::vector<std::string> kernel_range_paths(std::span<const store::Range> ranges,
                                            std::span<const store::GpuKernel> kernels) {
  std::vector<std::string> paths(kernels.size());

  // Ranges by thread, then outermost first: opened in this order, the open ones of a thread
  // stay in path order.
  std::vector<const store::Range*> by_thread;
  for (const store::Range& r : ranges)
    if (has_extent(r)) by_thread.push_back(&r);
  std::stable_sort(by_thread.begin(), by_thread.end(), [](const store::Range* a, const store::Range* b) {
    if (a->rank != b->rank) return a->rank < b->rank;
    if (a->tid != b->tid) return a->tid < b->tid;
    if (a->start_ns != b->start_ns) return a->start_ns < b->start_ns;
    return a->end_ns > b->end_ns;
  });

  // Kernels with a known launch, by thread and launch time (launches alike get the same path,
  // so their order among themselves does not matter).
  std::vector<size_t> launches;
  for (size_t i = 0; i < kernels.size(); ++i)
    if (kernels[i].launch_tid != 0 && kernels[i].launch_ns != 0) launches.push_back(i);
  std::sort(launches.begin(), launches.end(), [&](size_t a, size_t b) {
    const store::GpuKernel& x = kernels[a];
    const store::GpuKernel& y = kernels[b];
    return std::tie(x.rank, x.launch_tid, x.launch_ns) < std::tie(y.rank, y.launch_tid, y.launch_ns);
  });

  // One sweep: for each thread, in launch order, open the ranges that started by the launch
  // and drop those that ended by it. Launch times only grow within a thread, so a range
  // dropped once never contains a later launch.
  const auto thread_of = [](const store::Range* r) { return Thread{r->rank, r->tid}; };
  size_t next = 0;                        // first range of by_thread not opened yet
  std::vector<const store::Range*> open;  // of `thread`, started by the last launch, outermost first
  std::optional<Thread> thread;
  for (size_t i : launches) {
    const store::GpuKernel& kernel = kernels[i];
    const Thread launch_thread{kernel.rank, kernel.launch_tid};
    if (launch_thread != thread) {
      open.clear();
      while (next < by_thread.size() && thread_of(by_thread[next]) < launch_thread) ++next;
      thread = launch_thread;
    }
    while (next < by_thread.size() && thread_of(by_thread[next]) == launch_thread &&
           by_thread[next]->start_ns <= kernel.launch_ns)
      open.push_back(by_thread[next++]);
    std::erase_if(open, [&](const store::Range* r) { return r->end_ns <= kernel.launch_ns; });
    for (const store::Range* r : open) append_name(paths[i], *r);
  }
  return paths;
}

}  // namespace moeprof::analysis

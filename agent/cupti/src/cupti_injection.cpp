// libmoeprof_cupti.so: the CUPTI capture source. `moeprof run --capture cupti` names it in
// CUDA_INJECTION64_PATH; the CUDA driver loads it during cuInit and calls InitializeInjection
// (its only export). From then on CUPTI's activity API records every kernel execution and the
// runtime/driver calls that launch kernels, into a fixed pool of buffers. Completed buffers
// are decoded on the thread CUPTI delivers them on (its worker, or the flusher here), never
// on an application thread, and every kernel goes to the agent (moeprof_record_gpu_kernel)
// with its launch time and thread, its step, and the compute kind its name says.
//
// The only work on the application's launch path is the launch callback: it remembers the
// step current at each launch in a lock-free table (step_table.h).
//
// Nothing here may fail the application: every CUPTI error ends in one stderr line and a
// source that records nothing. When another tool already holds CUPTI (Nsight Systems,
// Nsight Compute, PyTorch's Kineto, ...) the source backs off.
#include <cupti.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "activity_decoder.h"
#include "buffer_pool.h"
#include "capture_settings.h"
#include "clock_alignment.h"
#include "gpu_kernel_record.h"
#include "kernel_classifier.h"
#include "kernel_names.h"
#include "launch_callbacks.h"
#include "moeprof/moeprof.h"
#include "step_table.h"

namespace moeprof::cupti {
namespace {

void say(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

std::string describe(CUptiResult result) {
  const char* text = nullptr;
  if (cuptiGetResultString(result, &text) != CUPTI_SUCCESS || text == nullptr) return std::to_string(result);
  return text;
}

void not_recording(const std::string& why) {
  say("moeprof: CUPTI could not start (" + why + "); GPU kernels will not be recorded");
}

void in_use(const std::string& holder) {
  say("moeprof: CUPTI is in use by another tool (" + holder + "); GPU kernels will not be recorded");
}

// Everything the source keeps once started. Created once and never destroyed: CUPTI may call
// back into it (a late buffer) until the process is gone.
class Capture final : public KernelSink {
 public:
  Capture(const CaptureSettings& settings, KernelClassifier classifier, std::unique_ptr<StepTable> steps,
          int64_t clock_offset_ns, bool thread_ids_are_tids)
      : pool(static_cast<size_t>(settings.buffer_kb) * 1024, settings.buffers),
        steps_(std::move(steps)),
        classifier_(std::move(classifier)),
        names_(classifier_, settings.kernel_names),
        decoder_(DecoderOptions{settings.correlation_slots, settings.pending_kernels, 4, clock_offset_ns,
                                thread_ids_are_tids, steps_.get()},
                 this) {}

  void kernel(const KernelEvent& event) override {
    const moeprof_gpu_kernel k = to_gpu_kernel(event, names_.lookup(event.name));
    moeprof_record_gpu_kernel(&k);
  }

  void completed(uint8_t* buffer, size_t valid_bytes) {
    {
      const std::lock_guard lock(mutex_);
      decoder_.decode(buffer, valid_bytes);
      count_drops();
    }
    pool.give_back(buffer);
  }

  // At exit, after the last forced flush: kernels still waiting for their launch go out.
  void finish() {
    const std::lock_guard lock(mutex_);
    decoder_.finish();
    count_drops();
    const DecoderStats& s = decoder_.stats();
    if (s.kernels_unjoined > 0)
      say("moeprof: " + std::to_string(s.kernels_unjoined) + " of " + std::to_string(s.kernels) +
          " GPU kernels were recorded without their launch call (launch_ns 0); more "
          "MOEPROF_CUPTI_PENDING_KERNELS or MOEPROF_CUPTI_CORRELATION_SLOTS may keep them");
  }

  BufferPool pool;

 private:
  // Kernels without timestamps, buffers CUPTI could not walk to the end (at least one record
  // each) and the records CUPTI itself dropped (no buffer free) since the last call.
  void count_drops() {
    const DecoderStats& s = decoder_.stats();
    const uint64_t ours = s.kernels_untimed + s.invalid_buffers;
    size_t dropped = 0;
    if (cuptiActivityGetNumDroppedRecords(nullptr, 0, &dropped) != CUPTI_SUCCESS) dropped = 0;
    moeprof_count_drops(MOEPROF_SOURCE_CUPTI, ours - counted_ + dropped);
    counted_ = ours;
  }

  std::unique_ptr<StepTable> steps_;
  KernelClassifier classifier_;
  std::mutex mutex_;  // one decoder: CUPTI's worker and a flushing thread may both deliver
  KernelNames names_;
  ActivityDecoder decoder_;
  uint64_t counted_ = 0;
};

std::atomic<Capture*> g_capture{nullptr};
pid_t g_started_in = 0;

// Periodic flush of partly filled buffers (CUPTI's own period only hands over full ones), so
// the trace fills while the workload runs. On its own thread: cuptiActivityFlushAll blocks.
class Flusher {
 public:
  explicit Flusher(uint32_t period_ms) : thread_([this, period_ms] { run(period_ms); }) {}
  void stop() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(uint32_t period_ms) {
    pthread_setname_np(pthread_self(), "moeprof-cupti");
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(period_ms), [this] { return stopping_; })) {
      lock.unlock();
      cuptiActivityFlushAll(0);
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};
Flusher* g_flusher = nullptr;

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  Capture* capture = g_capture.load(std::memory_order_acquire);
  *buffer = capture != nullptr ? capture->pool.take() : nullptr;
  *size = *buffer != nullptr ? capture->pool.buffer_bytes() : 0;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid_bytes) {
  Capture* capture = g_capture.load(std::memory_order_acquire);
  if (capture == nullptr || buffer == nullptr) return;
  try {
    capture->completed(buffer, valid_bytes);
  } catch (...) {
    capture->pool.give_back(buffer);  // a name that could not be demangled for lack of memory
  }
}

// At each launch call's entry, on the launching thread: the step it belongs to.
void CUPTIAPI on_launch(void* steps, CUpti_CallbackDomain domain, CUpti_CallbackId, const void* data) {
  if ((domain != CUPTI_CB_DOMAIN_RUNTIME_API && domain != CUPTI_CB_DOMAIN_DRIVER_API) || data == nullptr) return;
  const auto* call = static_cast<const CUpti_CallbackData*>(data);
  if (call->callbackSite == CUPTI_API_ENTER)
    static_cast<StepTable*>(steps)->remember(call->correlationId, moeprof_current_step());
}

uint64_t CUPTIAPI agent_clock() { return static_cast<uint64_t>(moeprof_now_ns()); }

bool cupti_clock(uint64_t* ns) { return cuptiGetTimestamp(ns) == CUPTI_SUCCESS; }

void at_exit() {
  // A forked child inherits this handler but neither CUPTI's state nor the flusher thread.
  if (getpid() != g_started_in) return;
  Capture* capture = g_capture.load(std::memory_order_acquire);
  if (capture == nullptr) return;
  try {
    if (g_flusher != nullptr) g_flusher->stop();
    cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    capture->finish();
  } catch (...) {
  }
}

// Activity records of the launch calls: per call where CUPTI allows it, else whole domains.
bool enable_launch_records() {
  bool runtime = true, driver = true;
  for (CUpti_CallbackId id : runtime_launch_callbacks())
    runtime = runtime && cuptiActivityEnableRuntimeApi(id, 1) == CUPTI_SUCCESS;
  for (CUpti_CallbackId id : driver_launch_callbacks())
    driver = driver && cuptiActivityEnableDriverApi(id, 1) == CUPTI_SUCCESS;
  if (!runtime) runtime = cuptiActivityEnable(CUPTI_ACTIVITY_KIND_RUNTIME) == CUPTI_SUCCESS;
  if (!driver) driver = cuptiActivityEnable(CUPTI_ACTIVITY_KIND_DRIVER) == CUPTI_SUCCESS;
  return runtime || driver;
}

bool enable_launch_callbacks(CUpti_SubscriberHandle subscriber) {
  bool all = true;
  for (CUpti_CallbackId id : runtime_launch_callbacks())
    all = cuptiEnableCallback(1, subscriber, CUPTI_CB_DOMAIN_RUNTIME_API, id) == CUPTI_SUCCESS && all;
  for (CUpti_CallbackId id : driver_launch_callbacks())
    all = cuptiEnableCallback(1, subscriber, CUPTI_CB_DOMAIN_DRIVER_API, id) == CUPTI_SUCCESS && all;
  return all;
}

void start() {
  std::vector<std::string> warnings;
  const CaptureSettings settings =
      read_settings([](const char* name) -> const char* { return std::getenv(name); }, &warnings);
  std::string kinds_warning;
  KernelClassifier classifier = KernelClassifier::from_env(std::getenv("MOEPROF_KERNEL_KINDS"), &kinds_warning);
  if (!kinds_warning.empty()) warnings.push_back(kinds_warning);
  for (const std::string& w : warnings) say(w);

  // CUPTI allows one subscriber, and every client is to subscribe before anything else: this
  // is where a tool that got there first shows.
  auto steps = std::make_unique<StepTable>(settings.correlation_slots);
  CUpti_SubscriberHandle subscriber = nullptr;
  char holder[CUPTI_OLD_SUBSCRIBER_NAME_MIN_LEN + 1] = {};
  CUpti_SubscriberParams params{};
  params.structSize = CUpti_SubscriberParams_STRUCT_SIZE;
  params.subscriberName = "moeprof";
  params.oldSubscriberName = holder;
  params.oldSubscriberSize = CUPTI_OLD_SUBSCRIBER_NAME_MIN_LEN;
  const CUptiResult subscribed = cuptiSubscribe_v2(&subscriber, on_launch, steps.get(), &params);
  if (subscribed == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED) {
    in_use(holder[0] != '\0' ? std::string(holder) : describe(subscribed));
    return;
  }
  const auto give_up = [&](const std::string& why, CUptiResult result) {
    if (subscriber != nullptr) cuptiUnsubscribe(subscriber);
    if (result == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED)
      in_use(describe(result));
    else
      not_recording(why + ": " + describe(result));
  };
  if (subscribed != CUPTI_SUCCESS) {
    // CUPTI that cannot take a subscriber will not record activity either.
    give_up("cuptiSubscribe", subscribed);
    return;
  }

  // Times: CUPTI reads the agent's clock itself, or an offset is measured once.
  int64_t clock_offset_ns = 0;
  if (const CUptiResult r = cuptiActivityRegisterTimestampCallback(agent_clock); r != CUPTI_SUCCESS) {
    const std::optional<int64_t> offset = measure_clock_offset(moeprof_now_ns, cupti_clock);
    if (!offset) {
      give_up("cannot put CUPTI's clock on the agent's: cuptiActivityRegisterTimestampCallback", r);
      return;
    }
    clock_offset_ns = *offset;
  }
  // Thread ids as the kernel numbers threads (gettid), like every other record of the agent.
  const bool tids = cuptiSetThreadIdType(CUPTI_ACTIVITY_THREAD_ID_TYPE_SYSTEM) == CUPTI_SUCCESS;

  auto capture = std::make_unique<Capture>(settings, std::move(classifier), std::move(steps), clock_offset_ns, tids);
  if (!capture->pool.valid()) {
    give_up("no memory for " + std::to_string(settings.buffers) + " buffers of " + std::to_string(settings.buffer_kb) +
                " KiB",
            CUPTI_ERROR_OUT_OF_MEMORY);
    return;
  }
  g_capture.store(capture.get(), std::memory_order_release);
  if (const CUptiResult r = cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed); r != CUPTI_SUCCESS) {
    g_capture.store(nullptr, std::memory_order_release);
    give_up("cuptiActivityRegisterCallbacks", r);
    return;
  }
  if (const CUptiResult r = cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL); r != CUPTI_SUCCESS) {
    g_capture.store(nullptr, std::memory_order_release);
    give_up("cuptiActivityEnable(CONCURRENT_KERNEL)", r);
    return;
  }
  g_started_in = getpid();
  static_cast<void>(capture.release());  // lives as long as the process (see Capture)

  if (!enable_launch_records())
    say("moeprof: CUPTI records no launch calls here; GPU kernels are recorded without their launch");
  if (!enable_launch_callbacks(subscriber))
    say("moeprof: CUPTI launch callbacks are off here; GPU kernels get the step current when they are recorded");
  std::atexit(at_exit);
  if (settings.flush_ms > 0) {
    cuptiActivityFlushPeriod(settings.flush_ms);
    try {
      g_flusher = new Flusher(settings.flush_ms);
    } catch (const std::exception& e) {
      say(std::string("moeprof: no CUPTI flusher thread (") + e.what() + "); GPU kernels arrive as buffers fill");
    }
  }
}

}  // namespace
}  // namespace moeprof::cupti

// The CUDA driver's entry point for CUDA_INJECTION64_PATH libraries: called once, inside
// cuInit, before the application's first CUDA work. Returns 1 (success) whatever happens: a
// source that cannot record must not keep CUDA from working.
extern "C" __attribute__((visibility("default"))) int InitializeInjection(void) {
  static std::atomic<bool> called{false};
  if (called.exchange(true)) return 1;
  // Outside `moeprof run` (or with the agent disabled) CUPTI is left untouched.
  if (moeprof_enabled() == 0) return 1;
  try {
    moeprof::cupti::start();
  } catch (const std::exception& e) {
    moeprof::cupti::not_recording(e.what());
  } catch (...) {
    moeprof::cupti::not_recording("unexpected error");
  }
  return 1;
}

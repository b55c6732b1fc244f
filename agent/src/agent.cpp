#include "agent.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "hot_state.h"
#include "log.h"
#include "process_info.h"
#include "recorder.h"
#include "signals.h"
#include "testing.h"
#include "wake.h"

namespace moeprof::agent {

HotState g_hot;
DropCounters g_drops;

namespace {

constexpr uint64_t kHelloSequence = 0;
std::atomic<int> g_send_timeout_ms{2000};

void shutdown_at_exit() {
  try {
    Agent::instance().shutdown();
  } catch (...) {
    // Exiting anyway; the collector sees a stream without Goodbye.
  }
}

}  // namespace

void set_clock_for_testing(TestClock clock) { g_test_clock.store(clock, std::memory_order_relaxed); }
void set_send_timeout_for_testing(int milliseconds) { g_send_timeout_ms.store(milliseconds); }

Agent& Agent::instance() {
  static Agent* const agent = new Agent;
  return *agent;
}

moeprof_status Agent::init(const moeprof_init_options* options) {
  std::lock_guard lock(lifecycle_);
  if (running_) return MOEPROF_OK;
  configure_log();
  // Under `moeprof run` the user asked for a trace: say why there will be none.
  const bool under_moeprof_run = std::getenv("MOEPROF_SOCKET") != nullptr;
  const auto fail = [&](moeprof_status status, const std::string& why) {
    if (under_moeprof_run && status != MOEPROF_ERROR_DISABLED) log_important("not recording: %s", why.c_str());
    else log_line("not recording: %s", why.c_str());
    return status;
  };

  Config config;
  std::string error;
  if (const moeprof_status status = load_config(options, &config, &error); status != MOEPROF_OK)
    return fail(status, error);
  if (config.socket_path.empty())
    return fail(MOEPROF_ERROR_NO_COLLECTOR, "no collector socket (MOEPROF_SOCKET is not set)");
  if (!wake::open()) return fail(MOEPROF_ERROR_NO_COLLECTOR, std::string("eventfd: ") + std::strerror(errno));
  RingPool* pool = pool_for(config, &error);
  if (pool == nullptr) return fail(MOEPROF_ERROR_NO_COLLECTOR, error);

  config_ = config;
  pool_ = pool;
  clock_kind_ = choose_clock(config.prefer_monotonic_clock);
  if (clock_kind_ == ClockKind::kTsc && !have_tsc_anchor_) {
    first_tsc_anchor_ = take_tsc_anchor();
    have_tsc_anchor_ = true;
  }
  g_clock_kind.store(clock_kind_, std::memory_order_relaxed);
  metadata_.clear();
  written_baseline_ = pool_->records_written();
  dropped_baseline_ = g_drops.total();
  frames_sent_ = 0;
  if (!start_session(/*open_now=*/true, &error)) return fail(MOEPROF_ERROR_NO_COLLECTOR, error);

  g_hot.step.store(0, std::memory_order_relaxed);
  g_hot.routing_mode.store(config_.routing_mode, std::memory_order_relaxed);
  g_hot.routing_every.store(config_.routing_every, std::memory_order_relaxed);
  g_hot.pool.store(pool_, std::memory_order_relaxed);
  install_process_hooks();
  g_hot.enabled.store(true, std::memory_order_release);
  running_ = true;
  log_line("recording to %s (clock %s, %u rings of %llu KiB)", config_.socket_path.c_str(),
           clock_kind_ == ClockKind::kTsc ? "tsc" : clock_kind_ == ClockKind::kTest ? "test" : "monotonic",
           pool_->size(), static_cast<unsigned long long>(pool_->ring_bytes() >> 10));
  return MOEPROF_OK;
}

RingPool* Agent::pool_for(const Config& config, std::string* error) {
  if (pool_ != nullptr && pool_->size() == config.max_threads && pool_->ring_bytes() == std::bit_ceil(config.ring_bytes))
    return pool_;
  std::unique_ptr<RingPool> pool = RingPool::create(config.max_threads, config.ring_bytes, error);
  if (pool == nullptr) return nullptr;
  pools_.push_back(std::move(pool));
  return pools_.back().get();
}

bool Agent::open_stream(Connection* connection, std::string* error) {
  if (!connection->open(config_.socket_path, g_send_timeout_ms.load(), error)) return false;
  wire::FrameWriter frame;
  frame.begin(kHelloSequence);
  wire::Hello hello;
  wire::Bytes var;
  build_hello(&hello, &var);
  frame.append(hello, var);
  if (!connection->send(frame.finish(), error)) {
    connection->close();
    return false;
  }
  return true;
}

bool Agent::start_session(bool open_now, std::string* error) {
  Connection connection;
  Flusher::StreamOpener open_later;
  if (open_now) {
    if (!open_stream(&connection, error)) return false;
    ++frames_sent_;
  } else {
    open_later = [this](Connection* c, std::string* e) { return open_stream(c, e); };
  }
  TickConverter clock;
  clock.reset(clock_kind_, first_tsc_anchor_);
  auto flusher = std::make_unique<Flusher>(pool_, &metadata_, std::move(connection), std::move(open_later),
                                           kHelloSequence + 1, clock, config_.flush_ms);
  if (!flusher->start(error)) return false;
  flusher_ = std::move(flusher);
  return true;
}

void Agent::install_process_hooks() {
  if (config_.install_signal_handlers) signals::install();
  if (process_hooks_installed_) return;
  process_hooks_installed_ = true;
  pthread_atfork(&Agent::before_fork, &Agent::after_fork_in_parent, &Agent::after_fork_in_child);
  std::atexit(&shutdown_at_exit);
}

void Agent::shutdown() {
  std::lock_guard lock(lifecycle_);
  if (!running_) return;
  g_hot.enabled.store(false, std::memory_order_release);
  flusher_->stop();
  frames_sent_ += flusher_->frames_sent();
  flusher_.reset();
  running_ = false;
}

void Agent::flush() {
  std::lock_guard lock(lifecycle_);
  if (!running_) return;
  // A stuck collector delays a flush by the send timeout at most; never wait much longer.
  flusher_->flush_and_wait(g_send_timeout_ms.load() + 1000);
}

void Agent::set_topology(const wire::Topology& topology, std::string model_name) {
  if (recording()) metadata_.set_topology(topology, std::move(model_name));
}

void Agent::set_placement(int32_t layer, std::span<const wire::PlacementSlot> slots) {
  if (recording()) metadata_.set_placement(layer, slots);
}

void Agent::get_stats(moeprof_stats* stats) {
  moeprof_stats s{};
  {
    std::lock_guard lock(lifecycle_);
    s.records_written = pool_ != nullptr ? pool_->records_written() - written_baseline_ : 0;
    s.records_dropped = g_drops.total() - dropped_baseline_;
    s.frames_sent = frames_sent_ + (flusher_ != nullptr ? flusher_->frames_sent() : 0);
  }
  // Never write more than the caller's (possibly older, shorter) struct has.
  const size_t size = std::min<size_t>(stats->struct_size, sizeof s);
  s.struct_size = static_cast<uint32_t>(size);
  std::memcpy(stats, &s, size);
}

// ---- fork ------------------------------------------------------------------------------
// Every lock the flusher or another thread could hold is taken before fork() and released
// on both sides after it, so the child never inherits one locked.

void Agent::before_fork() {
  Agent& a = instance();
  a.lifecycle_.lock();
  a.metadata_.mutex().lock();
  if (a.flusher_ != nullptr) a.flusher_->mutex().lock();
}

void Agent::after_fork_in_parent() {
  Agent& a = instance();
  if (a.flusher_ != nullptr) a.flusher_->mutex().unlock();
  a.metadata_.mutex().unlock();
  a.lifecycle_.unlock();
}

void Agent::after_fork_in_child() {
  Agent& a = instance();
  if (a.flusher_ != nullptr) a.flusher_->mutex().unlock();
  a.metadata_.mutex().unlock();
  // Only the forking thread exists here. The parent's flusher thread, its stream and
  // everything its threads buffered belong to the parent: forget them, so nothing the
  // parent recorded is sent twice.
  wake::renew_after_fork();
  if (a.flusher_ != nullptr) {
    a.flusher_->abandon_after_fork();
    a.flusher_.reset();
  }
  for (auto& pool : a.pools_) pool->reset_after_fork();
  forget_thread_ring_after_fork();
  g_drops.reset();
  a.written_baseline_ = a.dropped_baseline_ = a.frames_sent_ = 0;
  if (a.running_) {
    // The child gets a stream of its own: new Hello (its pid, the parent as ppid), the
    // metadata it inherited, then its own records. It is opened only once the child records
    // something, so launchers that fork and exec (mpirun, shells) add no empty processes.
    g_hot.enabled.store(false, std::memory_order_release);
    a.metadata_.mark_all_changed();
    std::string error;
    try {
      if (a.start_session(/*open_now=*/false, &error)) {
        g_hot.enabled.store(true, std::memory_order_release);
      } else {
        a.running_ = false;
        log_line("forked child not recording: %s", error.c_str());
      }
    } catch (...) {
      a.running_ = false;
    }
  }
  a.lifecycle_.unlock();
}

}  // namespace moeprof::agent

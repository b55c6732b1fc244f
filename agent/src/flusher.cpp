#include "flusher.h"

#include <poll.h>
#include <signal.h>

#include <chrono>

#include "hot_state.h"
#include "log.h"
#include "signals.h"
#include "wake.h"

namespace moeprof::agent {

Flusher::Flusher(RingPool* pool, Metadata* metadata, Connection connection, StreamOpener open_later,
                 uint64_t next_sequence, TickConverter clock, uint32_t flush_ms)
    : pool_(pool),
      metadata_(metadata),
      connection_(std::move(connection)),
      open_later_(std::move(open_later)),
      sequence_(next_sequence),
      clock_(clock),
      flush_ms_(flush_ms) {
  // Drops before this stream started were reported on an earlier one (or never will be).
  for (int s = 0; s < kSourceCount; ++s)
    for (int r = 0; r < kReasonCount; ++r) drops_sent_[s][r] = g_drops.get(s, r);
}

Flusher::~Flusher() { stop(); }

bool Flusher::start(std::string* error) {
  // The flusher must never run a signal handler: the handler waits for the flusher.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const int rc = pthread_create(&thread_, nullptr, &Flusher::thread_main, this);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (rc != 0) {
    *error = "cannot start the flusher thread (error " + std::to_string(rc) + ")";
    return false;
  }
  thread_started_ = true;
  return true;
}

void* Flusher::thread_main(void* self) {
  pthread_setname_np(pthread_self(), "moeprof-flush");
  static_cast<Flusher*>(self)->run();
  return nullptr;
}

void Flusher::flush_and_wait(int timeout_ms) {
  const uint64_t wanted = flush_requested_.fetch_add(1, std::memory_order_acq_rel) + 1;
  wake::signal();
  std::unique_lock lock(mutex_);
  completed_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                         [&] { return flush_completed_ >= wanted || finished_; });
}

void Flusher::stop() {
  if (!thread_started_) return;
  stop_requested_.store(true, std::memory_order_release);
  wake::signal();
  pthread_join(thread_, nullptr);
  thread_started_ = false;
}

void Flusher::abandon_after_fork() {
  thread_started_ = false;
  connection_.close();
}

void Flusher::run() {
  signals::Request request = signals::kNone;
  for (;;) {
    pollfd wake_fd{wake::fd(), POLLIN, 0};
    poll(&wake_fd, 1, static_cast<int>(flush_ms_));
    wake::drain();
    request = signals::take_request();
    if (stop_requested_.load(std::memory_order_acquire) || request == signals::kFinal) break;
    flush_once(false);
    if (request == signals::kFlush) signals::request_done();
  }
  // The default action of the signal ends the process right after this: record no more.
  if (request == signals::kFinal) g_hot.enabled.store(false, std::memory_order_release);
  flush_once(true);
  connection_.close();
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  completed_cv_.notify_all();
  if (request != signals::kNone) signals::request_done();
}

void Flusher::flush_once(bool goodbye) {
  const uint64_t covered = flush_requested_.load(std::memory_order_acquire);
  // What is published now, then the clock: every tick drained below is older than the anchor.
  const uint32_t ring_count = pool_->high_water();
  limits_.assign(ring_count, 0);
  retired_.assign(ring_count, 0);
  for (uint32_t i = 0; i < ring_count; ++i) {
    const RingPool::State state = pool_->state(i);
    if (state == RingPool::kFree) continue;
    retired_[i] = state == RingPool::kRetired;
    limits_[i] = pool_->ring(i).published();
  }
  if (clock_.kind() == ClockKind::kTsc) clock_.add(take_tsc_anchor());
  if (open_later_) open_when_needed(ring_count);

  frame_.begin(sequence_);
  recorded_appended_ = false;
  if (connection_.is_open()) metadata_->append_changes(frame_);
  for (uint32_t i = 0; i < ring_count; ++i) {
    if (limits_[i] == 0 && !retired_[i]) continue;
    pool_->ring(i).consume(limits_[i], [&](const RingRecordHeader& header, const uint8_t* body) {
      if (!connection_.is_open()) {
        g_drops.add(static_cast<wire::Source>(header.source), wire::DropReason::kSendFailed);
        return;
      }
      transcoder_.append(header, body, clock_, frame_);
      ++frame_records_by_source_[header.source];
      if (frame_.payload_size() >= kFrameTargetBytes) send_frame();
    });
    if (retired_[i]) pool_->release(i);
  }
  append_drops();
  if (goodbye) {
    append_recorded();  // before Goodbye, which ends the stream
    wire::Goodbye record{};
    record.tag = static_cast<uint8_t>(wire::RecordType::kGoodbye);
    record.ts_ns = clock_.to_ns(now_ticks());
    frame_.append(record);
  }
  if (frame_.record_count() > 0) send_frame();
  {
    std::lock_guard lock(mutex_);
    flush_completed_ = covered;
  }
  completed_cv_.notify_all();
}

void Flusher::open_when_needed(uint32_t ring_count) {
  bool needed = g_drops.total() != 0;
  for (uint32_t i = 0; i < ring_count && !needed; ++i) needed = limits_[i] != 0;
  if (!needed) return;
  std::string error;
  if (!open_later_(&connection_, &error)) log_line("forked child not recording: %s", error.c_str());
  open_later_ = nullptr;
}

void Flusher::append_drops() {
  for (int s = 0; s < kSourceCount; ++s) {
    for (int r = 0; r < kReasonCount; ++r) {
      const uint64_t now = g_drops.get(s, r);
      if (now == drops_sent_[s][r]) continue;
      wire::Drops record{};
      record.tag = static_cast<uint8_t>(wire::RecordType::kDrops);
      record.source = static_cast<uint8_t>(s);
      record.reason = static_cast<uint8_t>(r);
      record.count = now - drops_sent_[s][r];
      frame_.append(record);
      drops_sent_[s][r] = now;
    }
  }
}

// Each frame says how many of its records came from each source, so a frame that is lost
// takes its counts with it and the trace's recorded counts stay exact. Once per frame.
void Flusher::append_recorded() {
  if (recorded_appended_) return;
  recorded_appended_ = true;
  for (int s = 0; s < kSourceCount; ++s) {
    if (frame_records_by_source_[s] == 0) continue;
    wire::Recorded record{};
    record.tag = static_cast<uint8_t>(wire::RecordType::kRecorded);
    record.source = static_cast<uint8_t>(s);
    record.count = frame_records_by_source_[s];
    frame_.append(record);
  }
}

void Flusher::send_frame() {
  append_recorded();
  std::string error;
  if (connection_.is_open() && connection_.send(frame_.finish(), &error)) {
    frames_sent_.fetch_add(1, std::memory_order_relaxed);
    ++sequence_;
  } else {
    if (connection_.is_open()) {
      log_line("%s; dropping what is recorded from now on", error.c_str());
      connection_.close();
    }
    for (int s = 0; s < kSourceCount; ++s)
      if (frame_records_by_source_[s] != 0)
        g_drops.add(static_cast<wire::Source>(s), wire::DropReason::kSendFailed, frame_records_by_source_[s]);
  }
  for (auto& n : frame_records_by_source_) n = 0;
  recorded_appended_ = false;
  frame_.begin(sequence_);
}

}  // namespace moeprof::agent

// The one flusher thread of a process: every flush interval, or when woken (moeprof_flush, a
// ring past half full, a signal, shutdown), it drains every ring, transcodes the records into
// frames and sends them. When the collector is gone it keeps draining, so the hot path never
// sees full rings because of it, and counts the records as send failures.
#pragma once

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "clock.h"
#include "connection.h"
#include "drop_counters.h"
#include "metadata.h"
#include "moeprof/wire/codec.h"
#include "ring_pool.h"
#include "transcoder.h"

namespace moeprof::agent {

class Flusher {
 public:
  // Opens the stream: connects and sends the Hello frame (sequence 0).
  using StreamOpener = std::function<bool(Connection*, std::string*)>;

  // Frames continue at `next_sequence` on `connection`, which has sent Hello, or — when
  // `open_later` is set — on the stream it opens the first time there is anything to send,
  // so that a forked child which only exec()s never shows up as a process of its own.
  Flusher(RingPool* pool, Metadata* metadata, Connection connection, StreamOpener open_later,
          uint64_t next_sequence, TickConverter clock, uint32_t flush_ms);
  ~Flusher();
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  bool start(std::string* error);
  // Returns once everything recorded before the call has been sent (or at most after
  // `timeout_ms`, or when the stream has ended).
  void flush_and_wait(int timeout_ms);
  // Final drain, Goodbye, close; joins the thread. Idempotent.
  void stop();
  // In a forked child: the thread and the stream are the parent's; forget both.
  void abandon_after_fork();

  uint64_t frames_sent() const { return frames_sent_.load(std::memory_order_relaxed); }
  // Held across fork() so the child never inherits it locked.
  std::mutex& mutex() { return mutex_; }

  // Frames are sent once their payload reaches this (one record may make them larger).
  static constexpr size_t kFrameTargetBytes = 1u << 20;

 private:
  static void* thread_main(void* self);
  void run();
  void flush_once(bool goodbye);
  // With open_later_: opens the stream once a ring holds records or something was dropped.
  void open_when_needed(uint32_t ring_count);
  void append_drops();
  void append_recorded();
  void send_frame();

  RingPool* const pool_;
  Metadata* const metadata_;
  Connection connection_;
  StreamOpener open_later_;
  uint64_t sequence_;
  TickConverter clock_;
  const uint32_t flush_ms_;

  pthread_t thread_{};
  bool thread_started_ = false;
  std::atomic<bool> stop_requested_{false};
  std::atomic<uint64_t> flush_requested_{0};
  std::atomic<uint64_t> frames_sent_{0};

  // Guards the completion state that flush_and_wait() waits on.
  std::mutex mutex_;
  std::condition_variable completed_cv_;
  uint64_t flush_completed_ = 0;
  bool finished_ = false;

  // Flusher thread only.
  wire::FrameWriter frame_;
  uint64_t frame_records_by_source_[kSourceCount] = {};
  bool recorded_appended_ = false;  // the frame being built holds its Recorded records
  Transcoder transcoder_;
  std::vector<uint64_t> limits_;
  std::vector<uint8_t> retired_;
  uint64_t drops_sent_[kSourceCount][kReasonCount] = {};
};

}  // namespace moeprof::agent

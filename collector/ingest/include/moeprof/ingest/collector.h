// The collector of `moeprof run`: a Unix socket server on its own thread that accepts agent
// connections (same uid only), decodes every stream and writes it into a trace.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "moeprof/ingest/stream_decoder.h"
#include "moeprof/store/writer.h"

namespace moeprof::ingest {

struct CollectorOptions {
  // Receives one line per event worth telling (refused peers, bad frames, write errors).
  // Empty: lines go to stderr prefixed with "moeprof: ".
  std::function<void(const std::string&)> log;
  // Open transactions are committed at least this often, so readers see a live trace.
  std::chrono::milliseconds commit_interval{500};
};

class Collector {
 public:
  // Creates the private socket and starts the collector thread. From now on only that thread
  // uses `writer`, until stop() returns. nullptr and a one-line `error` on failure.
  static std::unique_ptr<Collector> start(store::Writer& writer, CollectorOptions options, std::string* error);
  // Stops without a grace period if still running; removes the socket and its directory.
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Where agents connect (MOEPROF_SOCKET), and the 0700 directory that holds it.
  const std::string& socket_path() const;
  const std::string& directory() const;

  size_t open_connections() const;
  uint64_t accepted_connections() const;
  uint64_t refused_connections() const;  // peers of another uid

  // Stops accepting (connections already queued are still taken) and lets open streams
  // finish for up to `grace`; what is left then is read as far as it has arrived and closed.
  // May be called again to shorten the grace period. Does not wait.
  void request_stop(std::chrono::milliseconds grace);
  // Waits up to `timeout` for the collector thread to end; true when it has.
  bool wait_stopped(std::chrono::milliseconds timeout);
  // request_stop(grace), waits for the thread, commits. false and `error` when the trace
  // could not be written completely.
  bool stop(std::chrono::milliseconds grace, std::string* error = nullptr);

  // What the streams delivered; complete once stop() has returned.
  const IngestTotals& totals() const;

  struct Impl;

 private:
  explicit Collector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moeprof::ingest

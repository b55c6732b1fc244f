// The agent's end of the collector socket: a blocking Unix stream socket whose sends time
// out, so a collector that stops reading can delay the flusher but never hang it.
#pragma once

#include <string>

#include "moeprof/wire/codec.h"

namespace moeprof::agent {

class Connection {
 public:
  Connection() = default;
  ~Connection() { close(); }
  Connection(Connection&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool open(const std::string& path, int send_timeout_ms, std::string* error);
  // All of `data`, or false (the stream is then unusable: a frame may be half sent).
  bool send(wire::ByteSpan data, std::string* error);
  bool is_open() const { return fd_ >= 0; }
  // Only closes this process's descriptor (never shutdown()), so a forked child closing
  // the one it inherited leaves the parent's stream alone.
  void close();

 private:
  int fd_ = -1;
};

}  // namespace moeprof::agent

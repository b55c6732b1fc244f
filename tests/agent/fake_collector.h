// A collector stand-in for agent tests: listens on a Unix socket in a private temp dir,
// accepts any number of agent streams, and decodes every frame with the wire codec.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "moeprof/wire/codec.h"

namespace moeprof::agent::testing {

struct Record {
  wire::RecordType type;
  std::vector<uint8_t> fixed;
  std::vector<uint8_t> var;
  template <class R>
  R as() const {
    R r;
    std::memcpy(&r, fixed.data(), sizeof r);
    return r;
  }
};

struct Stream {
  std::vector<Record> records;
  uint64_t frames = 0;
  bool closed = false;    // the agent closed its end
  std::string error;      // bad frame, bad record or a sequence gap
  size_t count(wire::RecordType type) const;
  bool has_goodbye() const { return !records.empty() && records.back().type == wire::RecordType::kGoodbye; }
};

class FakeCollector {
 public:
  FakeCollector();
  ~FakeCollector();
  const std::string& socket_path() const { return socket_path_; }

  // A copy of every stream so far, in accept order.
  std::vector<Stream> streams();
  // Waits until `done(streams)` holds; false after `timeout_ms`.
  bool wait_for(const std::function<bool(const std::vector<Stream>&)>& done, int timeout_ms = 10000);
  // While paused, nothing is read: the agent's sends fill the socket buffer and then block.
  void pause_reading(bool paused);
  // The collector dies: every connection and the listening socket are closed.
  void kill();

 private:
  void serve();
  void on_readable(size_t index);

  std::string dir_;
  std::string socket_path_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Stream> streams_;
  bool paused_ = false;

  // Serving thread only.
  struct Client {
    int fd;
    size_t stream;
    wire::Bytes buffer;
    uint64_t next_sequence = 0;
  };
  std::vector<Client> clients_;
};

}  // namespace moeprof::agent::testing

#include "fake_collector.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace moeprof::agent::testing {

size_t Stream::count(wire::RecordType type) const {
  size_t n = 0;
  for (const Record& r : records) n += r.type == type;
  return n;
}

FakeCollector::FakeCollector() {
  char dir[] = "/tmp/moeprof-agent-test-XXXXXX";
  if (mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir;
  socket_path_ = dir_ + "/collector.sock";
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listen_fd_, 64) != 0 ||
      pipe2(stop_pipe_, O_CLOEXEC) != 0)
    throw std::runtime_error("cannot listen on " + socket_path_);
  thread_ = std::thread([this] { serve(); });
}

FakeCollector::~FakeCollector() {
  kill();
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
  unlink(socket_path_.c_str());
  rmdir(dir_.c_str());
}

std::vector<Stream> FakeCollector::streams() {
  std::lock_guard lock(mutex_);
  return streams_;
}

bool FakeCollector::wait_for(const std::function<bool(const std::vector<Stream>&)>& done, int timeout_ms) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done(streams_); });
}

void FakeCollector::pause_reading(bool paused) {
  {
    std::lock_guard lock(mutex_);
    paused_ = paused;
  }
  const char wake = 'w';
  [[maybe_unused]] ssize_t n = write(stop_pipe_[1], &wake, 1);
}

void FakeCollector::kill() {
  if (!thread_.joinable()) return;
  const char stop = 's';
  [[maybe_unused]] ssize_t n = write(stop_pipe_[1], &stop, 1);
  thread_.join();
  for (Client& c : clients_) close(c.fd);
  clients_.clear();
  close(listen_fd_);
  listen_fd_ = -1;
}

void FakeCollector::serve() {
  for (;;) {
    bool paused;
    {
      std::lock_guard lock(mutex_);
      paused = paused_;
    }
    std::vector<pollfd> fds{{stop_pipe_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (!paused)
      for (const Client& c : clients_) fds.push_back({c.fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents & POLLIN) {
      char command;
      if (read(stop_pipe_[0], &command, 1) == 1 && command == 's') return;
      continue;
    }
    if (fds[1].revents & POLLIN) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        std::lock_guard lock(mutex_);
        clients_.push_back({fd, streams_.size(), {}, 0});
        streams_.emplace_back();
      }
    }
    for (size_t i = 2; i < fds.size(); ++i)
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) on_readable(i - 2);
    // Closed clients leave only now, so the indices above stayed valid.
    std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
    changed_.notify_all();
  }
}

void FakeCollector::on_readable(size_t index) {
  Client& client = clients_[index];
  uint8_t chunk[65536];
  const ssize_t n = read(client.fd, chunk, sizeof chunk);
  std::lock_guard lock(mutex_);
  Stream& stream = streams_[client.stream];
  if (n <= 0) {
    stream.closed = true;
    if (!client.buffer.empty() && stream.error.empty()) stream.error = "stream ended inside a frame";
    close(client.fd);
    client.fd = -1;
    return;
  }
  client.buffer.insert(client.buffer.end(), chunk, chunk + n);
  size_t used = 0;
  for (;;) {
    wire::FrameHeader header;
    wire::ByteSpan payload;
    size_t frame_size = 0;
    std::string error;
    const wire::FrameStatus status =
        wire::parse_frame(wire::ByteSpan(client.buffer).subspan(used), &header, &payload, &frame_size, &error);
    if (status == wire::FrameStatus::kNeedMore) break;
    if (status == wire::FrameStatus::kError) {
      stream.error = error;
      used = client.buffer.size();
      break;
    }
    if (header.sequence != client.next_sequence && stream.error.empty())
      stream.error = "frame sequence " + std::to_string(header.sequence) + ", expected " +
                     std::to_string(client.next_sequence);
    client.next_sequence = header.sequence + 1;
    ++stream.frames;
    wire::RecordIterator records(payload);
    wire::RecordView view;
    uint32_t count = 0;
    while (records.next(&view)) {
      stream.records.push_back({view.type, {view.fixed.begin(), view.fixed.end()}, {view.var.begin(), view.var.end()}});
      ++count;
    }
    if (!records.error().empty() && stream.error.empty()) stream.error = records.error();
    if (count != header.record_count && stream.error.empty()) stream.error = "record count mismatch";
    used += frame_size;
  }
  client.buffer.erase(client.buffer.begin(), client.buffer.begin() + static_cast<long>(used));
}

}  // namespace moeprof::agent::testing

#include "moeprof/ingest/collector.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "private_socket.h"

namespace moeprof::ingest {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 256 * 1024;
// Reads per wake-up of one connection, so one busy agent cannot starve the others.
constexpr int kReadsPerTurn = 16;
// What is read from a stream still open when the grace period ends: what has arrived, but
// not forever from an agent that keeps sending.
constexpr int kReadsAfterGrace = 256;

void log_to_stderr(const std::string& line) {
  const std::string text = "moeprof: " + line + "\n";
  // One write, so lines of concurrent writers do not interleave.
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
}

struct Connection {
  Connection(int descriptor, IngestContext& context, const std::string& label)
      : fd(descriptor), decoder(context, label) {}
  int fd;
  StreamDecoder decoder;
};

}  // namespace

struct Collector::Impl {
  Impl(store::Writer& w, CollectorOptions o)
      : options(std::move(o)), context(w, options.log ? options.log : log_to_stderr) {}
  ~Impl() {
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  bool open(std::string* error);
  void run();
  void accept_pending();
  void stop_listening();
  void read_from(Connection& connection, int max_reads);
  void close_connection(int fd);
  void commit_if_due(bool force);
  std::chrono::milliseconds wait_budget();

  CollectorOptions options;
  IngestContext context;
  std::unique_ptr<PrivateSocket> socket;
  std::string socket_path, directory;
  uid_t owner = ::geteuid();
  int epoll_fd = -1;
  int wake_fd = -1;
  bool listening = false;
  bool listener_paused = false;  // out of descriptors: accepting resumes when one closes
  std::unordered_map<int, std::unique_ptr<Connection>> connections;
  std::vector<uint8_t> scratch = std::vector<uint8_t>(kReadChunk);
  uint64_t next_label = 1;
  bool uncommitted = false;  // rows written since the last commit
  Clock::time_point last_commit = Clock::now();
  bool write_error_logged = false;

  std::atomic<size_t> open_count{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};

  std::mutex mutex;  // guards the stop request and `done`
  std::condition_variable done_changed;
  bool stop_requested = false;
  Clock::time_point deadline;
  bool done = false;
  std::thread thread;
};

bool Collector::Impl::open(std::string* error) {
  socket = PrivateSocket::create(error);
  if (!socket) return false;
  socket_path = socket->path();
  directory = socket->directory();
  epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || wake_fd < 0) {
    *error = std::string("cannot set up the collector's event loop: ") + std::strerror(errno);
    return false;
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_fd;
  ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event);
  event.data.fd = socket->fd();
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, socket->fd(), &event) != 0) {
    *error = std::string("cannot watch the collector socket: ") + std::strerror(errno);
    return false;
  }
  listening = true;
  return true;
}

std::chrono::milliseconds Collector::Impl::wait_budget() {
  std::lock_guard lock(mutex);
  if (!stop_requested) return options.commit_interval;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(100));
}

void Collector::Impl::run() {
  // Signals belong to the threads of the program that embeds the collector.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);

  epoll_event events[64];
  for (;;) {
    const int timeout_ms = static_cast<int>(wait_budget().count());
    const int n = ::epoll_wait(epoll_fd, events, 64, timeout_ms);
    if (n < 0 && errno != EINTR) {
      context.log(std::string("collector: waiting for agents failed: ") + std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd) {
        uint64_t value;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd, &value, sizeof value);
      } else if (socket && fd == socket->fd()) {
        accept_pending();
      } else if (auto it = connections.find(fd); it != connections.end()) {
        read_from(*it->second, kReadsPerTurn);
      }
    }
    bool stopping, past_deadline;
    {
      std::lock_guard lock(mutex);
      stopping = stop_requested;
      past_deadline = Clock::now() >= deadline;
    }
    if (stopping && listening) stop_listening();
    commit_if_due(false);
    if (stopping && (connections.empty() || past_deadline)) break;
  }
  // Grace is over: take what has arrived from the streams still open, then close them.
  while (!connections.empty()) {
    const int fd = connections.begin()->first;
    read_from(*connections.begin()->second, kReadsAfterGrace);
    close_connection(fd);
  }
  if (listening) stop_listening();
  commit_if_due(true);
  std::lock_guard lock(mutex);
  done = true;
  done_changed.notify_all();
}

void Collector::Impl::accept_pending() {
  if (!socket) return;
  for (;;) {
    const int fd = ::accept4(socket->fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (!listener_paused) {
          context.log(std::string("collector: cannot accept more agents for now: ") + std::strerror(errno));
          ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, socket->fd(), nullptr);
          listener_paused = true;
        }
        return;
      }
      context.log(std::string("collector: accept failed: ") + std::strerror(errno));
      return;
    }
    PeerCredentials peer;
    if (!peer_credentials(fd, &peer) || peer.uid != owner) {
      context.log("collector: refused a connection from pid " + std::to_string(peer.pid) + " (uid " +
                  std::to_string(peer.uid) + "): only uid " + std::to_string(owner) + " may connect");
      ::close(fd);
      refused.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    auto connection = std::make_unique<Connection>(
        fd, context, "connection " + std::to_string(next_label++) + " from pid " + std::to_string(peer.pid));
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
      context.log(std::string("collector: cannot watch a new connection: ") + std::strerror(errno));
      ::close(fd);
      continue;
    }
    connections.emplace(fd, std::move(connection));
    open_count.fetch_add(1, std::memory_order_relaxed);
    accepted.fetch_add(1, std::memory_order_relaxed);
  }
}

void Collector::Impl::stop_listening() {
  // Connections that completed connect() sit in the backlog: they are agents that count on
  // being heard, so take them before closing.
  if (listener_paused) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = socket->fd();
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, socket->fd(), &event);
    listener_paused = false;
  }
  accept_pending();
  ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, socket->fd(), nullptr);
  socket->close();
  listening = false;
}

void Collector::Impl::read_from(Connection& connection, int max_reads) {
  for (int i = 0; i < max_reads; ++i) {
    const ssize_t n = ::recv(connection.fd, scratch.data(), scratch.size(), 0);
    if (n > 0) {
      uncommitted = true;
      if (!connection.decoder.feed(wire::ByteSpan(scratch.data(), static_cast<size_t>(n)))) {
        close_connection(connection.fd);
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno != ECONNRESET)
      context.log(std::string("collector: reading from an agent failed: ") + std::strerror(errno));
    close_connection(connection.fd);  // end of stream (or a reset): the agent is gone
    return;
  }
}

void Collector::Impl::close_connection(int fd) {
  auto it = connections.find(fd);
  if (it == connections.end()) return;
  it->second->decoder.finish();
  uncommitted = true;
  ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  connections.erase(it);
  open_count.fetch_sub(1, std::memory_order_relaxed);
  if (listener_paused && listening) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = socket->fd();
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, socket->fd(), &event) == 0) listener_paused = false;
  }
}

void Collector::Impl::commit_if_due(bool force) {
  const auto now = Clock::now();
  if (!force && (!uncommitted || now - last_commit < options.commit_interval)) return;
  std::string error;
  if (!context.writer.commit(&error) && !write_error_logged) {
    context.log("collector: cannot write the trace: " + error);
    write_error_logged = true;
  }
  uncommitted = false;
  last_commit = now;
}

Collector::Collector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<Collector> Collector::start(store::Writer& writer, CollectorOptions options, std::string* error) {
  auto impl = std::make_unique<Impl>(writer, std::move(options));
  if (!impl->open(error)) return nullptr;
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<Collector>(new Collector(std::move(impl)));
}

Collector::~Collector() {
  if (impl_->thread.joinable()) stop(std::chrono::milliseconds(0));
}

const std::string& Collector::socket_path() const { return impl_->socket_path; }
const std::string& Collector::directory() const { return impl_->directory; }
size_t Collector::open_connections() const { return impl_->open_count.load(std::memory_order_relaxed); }
uint64_t Collector::accepted_connections() const { return impl_->accepted.load(std::memory_order_relaxed); }
uint64_t Collector::refused_connections() const { return impl_->refused.load(std::memory_order_relaxed); }

void Collector::request_stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(impl_->mutex);
    const auto deadline = Clock::now() + grace;
    if (!impl_->stop_requested || deadline < impl_->deadline) impl_->deadline = deadline;
    impl_->stop_requested = true;
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(impl_->wake_fd, &one, sizeof one);
}

bool Collector::wait_stopped(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  return impl_->done_changed.wait_for(lock, timeout, [this] { return impl_->done; });
}

bool Collector::stop(std::chrono::milliseconds grace, std::string* error) {
  request_stop(grace);
  if (impl_->thread.joinable()) impl_->thread.join();
  const std::string& failure = impl_->context.writer.error();
  if (!failure.empty()) {
    if (error) *error = failure;
    return false;
  }
  return true;
}

const IngestTotals& Collector::totals() const { return impl_->context.totals; }

}  // namespace moeprof::ingest

#include "private_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace moeprof::ingest {
namespace {

constexpr const char* kSocketName = "collector.sock";

std::string errno_text() { return std::strerror(errno); }

// mkdtemp creates the directory with mode 0700.
bool make_private_directory(const std::string& base, std::string* directory, std::string* error) {
  std::string pattern = base + "/moeprof-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    *error = "cannot create a private directory in " + base + ": " + errno_text();
    return false;
  }
  *directory = buffer.data();
  return true;
}

}  // namespace

std::unique_ptr<PrivateSocket> PrivateSocket::create(std::string* error) {
  sockaddr_un address{};
  const size_t max_path = sizeof(address.sun_path) - 1;
  std::string base = "/tmp";
  if (const char* tmpdir = std::getenv("TMPDIR"); tmpdir != nullptr && *tmpdir != '\0') {
    const std::string candidate = tmpdir;
    // "/moeprof-XXXXXX/collector.sock" must still fit into sun_path.
    if (candidate.size() + 16 + std::strlen(kSocketName) <= max_path) base = candidate;
  }
  std::unique_ptr<PrivateSocket> socket(new PrivateSocket);
  if (!make_private_directory(base, &socket->directory_, error)) return nullptr;
  socket->path_ = socket->directory_ + "/" + kSocketName;

  socket->fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (socket->fd_ < 0) {
    *error = "cannot create the collector socket: " + errno_text();
    return nullptr;
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket->path_.c_str(), socket->path_.size() + 1);
  if (::bind(socket->fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    *error = "cannot bind the collector socket " + socket->path_ + ": " + errno_text();
    return nullptr;
  }
  if (::listen(socket->fd_, SOMAXCONN) != 0) {
    *error = "cannot listen on the collector socket " + socket->path_ + ": " + errno_text();
    return nullptr;
  }
  return socket;
}

PrivateSocket::~PrivateSocket() { close(); }

void PrivateSocket::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!path_.empty()) {
    ::unlink(path_.c_str());
    path_.clear();
  }
  if (!directory_.empty()) {
    ::rmdir(directory_.c_str());
    directory_.clear();
  }
}

bool peer_credentials(int fd, PeerCredentials* credentials) {
  ucred cred{};
  socklen_t size = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0 || size != sizeof cred) return false;
  credentials->pid = cred.pid;
  credentials->uid = cred.uid;
  return true;
}

}  // namespace moeprof::ingest

// The collector's rendezvous point: a fresh directory of mode 0700 holding the listening Unix
// stream socket, so only its owner can even reach the socket (peer credentials are checked
// on top of that, see peer_uid()).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace moeprof::ingest {

class PrivateSocket {
 public:
  // Creates the directory under $TMPDIR (or /tmp when unset or too long for a socket path)
  // and starts listening (non-blocking, close-on-exec). nullptr and a one-line error on failure.
  static std::unique_ptr<PrivateSocket> create(std::string* error);
  ~PrivateSocket();
  PrivateSocket(const PrivateSocket&) = delete;
  PrivateSocket& operator=(const PrivateSocket&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  const std::string& directory() const { return directory_; }
  // Stops listening and removes the socket and its directory. Idempotent.
  void close();

 private:
  PrivateSocket() = default;
  int fd_ = -1;
  std::string directory_;
  std::string path_;
};

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
};
// The credentials of the process at the other end of a connected Unix socket (SO_PEERCRED).
bool peer_credentials(int fd, PeerCredentials* credentials);

}  // namespace moeprof::ingest

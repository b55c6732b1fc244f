// The collector's stand-in for benchmarks: a Unix socket that accepts agent connections and
// throws their bytes away, so the agent runs for real at no collector cost.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace moeprof::bench {

class NullCollector {
 public:
  NullCollector() {
    char dir[] = "/tmp/moeprof-bench-XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    path_ = std::string(dir) + "/sink.sock";
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 16) != 0) std::abort();
    std::thread([fd] {
      for (;;) {
        const int client = accept(fd, nullptr, nullptr);
        if (client < 0) continue;
        std::thread([client] {
          std::vector<char> buffer(1 << 20);
          while (read(client, buffer.data(), buffer.size()) > 0) {
          }
          close(client);
        }).detach();
      }
    }).detach();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace moeprof::bench

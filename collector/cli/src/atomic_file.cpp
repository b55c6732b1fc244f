#include "moeprof/cli/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace moeprof::cli {

AtomicFile::AtomicFile(std::string path, std::string temporary)
    : path_(std::move(path)), temporary_(std::move(temporary)) {}

std::unique_ptr<AtomicFile> AtomicFile::create(const std::string& path, std::string* error) {
  std::string pattern = path + ".tmp-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    *error = "cannot create " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  // mkstemp makes the file 0600; the result should have the mode any new file would get.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  ::close(fd);
  std::unique_ptr<AtomicFile> file(new AtomicFile(path, name.data()));
  file->stream_.open(file->temporary_, std::ios::binary | std::ios::trunc);
  if (!file->stream_) {
    *error = "cannot write " + file->temporary_;
    return nullptr;  // the destructor removes it
  }
  return file;
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    stream_.close();
    ::unlink(temporary_.c_str());
  }
}

bool AtomicFile::commit(std::string* error) {
  stream_.flush();
  const bool written = static_cast<bool>(stream_);
  stream_.close();
  if (!written || stream_.fail()) {
    *error = "cannot write " + path_ + " (disk full?)";
    return false;
  }
  if (std::rename(temporary_.c_str(), path_.c_str()) != 0) {
    *error = "cannot create " + path_ + ": " + std::strerror(errno);
    return false;
  }
  committed_ = true;
  return true;
}

}  // namespace moeprof::cli

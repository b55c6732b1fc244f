// Writes a file through a temporary sibling that is renamed into place by commit(), so a
// failed or interrupted write never leaves a half-written file under the final name.
#pragma once

#include <fstream>
#include <memory>
#include <string>

namespace moeprof::cli {

class AtomicFile {
 public:
  // nullptr and a one-line `error` when the temporary file cannot be created.
  static std::unique_ptr<AtomicFile> create(const std::string& path, std::string* error);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return stream_; }
  // Flushes, closes and renames over `path`. false and `error` when any of it failed.
  bool commit(std::string* error);

 private:
  AtomicFile(std::string path, std::string temporary);
  std::string path_;
  std::string temporary_;
  std::ofstream stream_;
  bool committed_ = false;
};

}  // namespace moeprof::cli

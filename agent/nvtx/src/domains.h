// NVTX domains and registered strings. Their handles, which the program keeps and passes back
// on every event, are pointers to these objects: resolving one costs nothing. Creating them
// is rare and takes a lock; they live until the process ends (programs keep handles in
// statics, and nvtxDomainDestroy does not make a handle's later use an error).
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace moeprof::nvtx {

// Domains whose events mean more than a range.
enum class DomainRole { kPlain, kMoeprof, kNccl };

struct Domain {
  std::string name;  // "" for NVTX's default domain
  DomainRole role = DomainRole::kPlain;
};

struct RegisteredString {
  const Domain* domain = nullptr;
  std::string text;
};

class DomainTable {
 public:
  // The domain of that name (the same object for the same name).
  Domain* create(std::string_view name);
  // The handle of `text` in `domain` (the same object for the same text).
  RegisteredString* register_string(const Domain* domain, std::string_view text);

  // NVTX's default domain: the core calls without a domain handle.
  const Domain* default_domain() const { return &default_domain_; }

 private:
  std::mutex mutex_;
  Domain default_domain_;
  std::deque<Domain> domains_;
  std::deque<RegisteredString> strings_;
  std::map<std::string, Domain*, std::less<>> domain_by_name_;
  std::map<std::pair<const Domain*, std::string>, RegisteredString*> string_by_text_;
};

DomainRole role_of_domain(std::string_view name);

}  // namespace moeprof::nvtx

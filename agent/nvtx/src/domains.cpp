#include "domains.h"

namespace moeprof::nvtx {

DomainRole role_of_domain(std::string_view name) {
  if (name == "moeprof") return DomainRole::kMoeprof;
  if (name == "NCCL") return DomainRole::kNccl;
  return DomainRole::kPlain;
}

Domain* DomainTable::create(std::string_view name) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = domain_by_name_.find(name); it != domain_by_name_.end()) return it->second;
  Domain& d = domains_.emplace_back(Domain{std::string(name), role_of_domain(name)});
  domain_by_name_.emplace(d.name, &d);
  return &d;
}

RegisteredString* DomainTable::register_string(const Domain* domain, std::string_view text) {
  const std::lock_guard<std::mutex> lock(mutex_);
  auto key = std::make_pair(domain, std::string(text));
  if (auto it = string_by_text_.find(key); it != string_by_text_.end()) return it->second;
  RegisteredString& s = strings_.emplace_back(RegisteredString{domain, key.second});
  string_by_text_.emplace(std::move(key), &s);
  return &s;
}

}  // namespace moeprof::nvtx

// Kernel names as CUPTI hands them (mangled, one pointer per kernel for the whole process),
// demangled and classified once each: a fixed-capacity table keyed by CUPTI's pointer. The
// stored copy of the mangled text is compared on every hit, so a pointer reused for another
// name (a module unloaded and its memory reused) is never given the old name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "kernel_classifier.h"

namespace moeprof::cupti {

// The readable name of a C++ symbol (abi::__cxa_demangle); any other name as it is.
std::string demangle(const char* name);

struct KernelName {
  std::string name;  // demangled
  KernelKind kind;
};

class KernelNames {
 public:
  // `capacity` distinct names are kept (rounded up to a power of two); beyond that each
  // further name is demangled and classified on every lookup (slower, still right).
  KernelNames(const KernelClassifier& classifier, size_t capacity);
  ~KernelNames();

  // The name and kind of `mangled` (NULL: an empty name). The reference stays valid until
  // the next lookup.
  const KernelName& lookup(const char* mangled);

  size_t cached() const { return used_; }
  uint64_t uncached_lookups() const { return uncached_; }

 private:
  struct Slot;
  KernelName make(const char* mangled) const;

  const KernelClassifier& classifier_;
  std::unique_ptr<Slot[]> slots_;
  size_t mask_;
  size_t used_ = 0;
  uint64_t uncached_ = 0;
  KernelName overflow_;
};

}  // namespace moeprof::cupti

#include "kernel_names.h"

#include <cxxabi.h>

#include <bit>
#include <cstdlib>
#include <cstring>

namespace moeprof::cupti {

std::string demangle(const char* name) {
  if (name == nullptr) return {};
  // Only Itanium-ABI symbols: __cxa_demangle would also "demangle" plain words as types.
  if (std::strncmp(name, "_Z", 2) != 0) return name;
  int status = 0;
  char* readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && readable != nullptr ? std::string(readable) : std::string(name);
  std::free(readable);
  return out;
}

struct KernelNames::Slot {
  const char* key = nullptr;
  std::string mangled;
  KernelName value;
};

KernelNames::KernelNames(const KernelClassifier& classifier, size_t capacity)
    : classifier_(classifier),
      // Twice the names asked for, so probes stay short when it is full.
      slots_(new Slot[std::bit_ceil(std::max<size_t>(capacity, 8) * 2)]),
      mask_(std::bit_ceil(std::max<size_t>(capacity, 8) * 2) - 1) {}

KernelNames::~KernelNames() = default;

KernelName KernelNames::make(const char* mangled) const {
  KernelName out{demangle(mangled), kUnclassified};
  out.kind = classifier_.classify(out.name);
  return out;
}

const KernelName& KernelNames::lookup(const char* mangled) {
  if (mangled == nullptr) mangled = "";
  const uintptr_t key = reinterpret_cast<uintptr_t>(mangled);
  // Fibonacci hashing of the address (its low bits are alignment).
  size_t i = static_cast<size_t>((key >> 3) * 0x9E3779B97F4A7C15ull) & mask_;
  // At most half the slots are ever used, so every probe ends at an empty slot or the name.
  for (;; i = (i + 1) & mask_) {
    Slot& slot = slots_[i];
    if (slot.key == nullptr) {
      if (used_ * 2 >= mask_ + 1) break;  // full: this name is not kept
      slot.key = mangled;
      slot.mangled = mangled;
      slot.value = make(mangled);
      ++used_;
      return slot.value;
    }
    if (slot.key == mangled) {
      if (slot.mangled == mangled) return slot.value;
      // The same address now holds another name: this slot takes the new one.
      slot.mangled = mangled;
      slot.value = make(mangled);
      return slot.value;
    }
  }
  ++uncached_;
  overflow_ = make(mangled);
  return overflow_;
}

}  // namespace moeprof::cupti

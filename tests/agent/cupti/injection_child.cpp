// Loads libmoeprof_cupti.so the way the CUDA driver does (dlopen, dlsym InitializeInjection,
// call it) and calls the entry point twice; prints what it returned. Run by injection_test
// as a child process with the environment of each case.
// usage: moeprof_cupti_injection_child LIBMOEPROF_CUPTI
#include <dlfcn.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    std::printf("dlopen failed: %s\n", dlerror());
    return 3;
  }
  using Entry = int (*)();
  const auto initialize = reinterpret_cast<Entry>(dlsym(library, "InitializeInjection"));
  if (initialize == nullptr) {
    std::printf("no InitializeInjection\n");
    return 4;
  }
  const int first = initialize();
  const int second = initialize();
  std::printf("%d %d\n", first, second);
  return 0;
}

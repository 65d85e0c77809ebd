#include <string>

#include "eval/runner.h"
#include "kernels/kernels.h"

#if !defined(__wasi__)
#include <sys/resource.h>
#endif

namespace slm::eval {

uint64_t PeakMemoryBytes() {
#if defined(__wasi__)
  return static_cast<uint64_t>(__builtin_wasm_memory_size(0)) * 65536u;
#else
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
#if defined(__APPLE__)
  return static_cast<uint64_t>(ru.ru_maxrss);  // bytes on macOS
#else
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024u;  // KiB on Linux
#endif
#endif
}

Environment CurrentEnvironment() {
  Environment e;
  std::string os =
#if defined(__wasi__)
      "wasi";
#elif defined(__linux__)
      "linux";
#elif defined(__APPLE__)
      "macos";
#else
      "unknown-os";
#endif
  std::string arch =
#if defined(__x86_64__)
      "x86_64";
#elif defined(__aarch64__)
      "aarch64";
#elif defined(__wasm32__)
      "wasm32";
#else
      "unknown-arch";
#endif
  e.platform = os + "-" + arch;
  e.kernels = Kernels().name;
  e.kernel_contract = kKernelContract;
  e.build_id = std::string("slm ") + SLM_VERSION + "; " +
#if defined(__clang__)
               "clang "
#else
               "gcc "
#endif
               + __VERSION__ +
#if defined(NDEBUG)
               "; release";
#else
               "; debug";
#endif
  return e;
}

}  // namespace slm::eval

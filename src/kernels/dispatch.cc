// Chooses the kernel table once (DESIGN.md principle 5): natively by cpuid
// (AVX-512 F/BW/DQ/VL/VNNI -> avx512, AVX2 + FMA + F16C -> avx2, else scalar),
// in wasm builds the build target (simd128).
// SLM_KERNELS=scalar|avx2|avx512|simd128 forces a table; a name this build
// or CPU cannot run falls back to the default and KernelSelectionNote() says
// why. Also the format helpers of kernels.h.
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/kernels.h"

namespace slm {

#if defined(__x86_64__) && defined(SLM_HAVE_AVX2)
const KernelTable& Avx2Kernels();  // kernels/avx2/table.cc
#endif
#if defined(__x86_64__) && defined(SLM_HAVE_AVX512)
const KernelTable& Avx512Kernels();  // kernels/avx512/table.cc
#endif
#if defined(__wasm_simd128__) && defined(SLM_HAVE_SIMD128)
const KernelTable& Simd128Kernels();  // kernels/simd128/table.cc
#endif
#if defined(__wasm_relaxed_simd__) && defined(SLM_HAVE_SIMD128R)
const KernelTable& Simd128RelaxedKernels();  // kernels/simd128/table.cc (slm-relaxed.wasm)
#endif

namespace {

struct Choice {
  const KernelTable* table;
  std::string note;
};

[[maybe_unused]] bool CpuHasAvx2() {
#if defined(__x86_64__) && defined(SLM_HAVE_AVX2)
  // __builtin_cpu_supports also checks that the OS saves the YMM state.
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

[[maybe_unused]] bool CpuHasAvx512() {
#if defined(__x86_64__) && defined(SLM_HAVE_AVX512)
  // The avx512 table also runs AVX2 kernels. __builtin_cpu_supports checks
  // that the OS saves the ZMM state too.
  return CpuHasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

// The best table for this build and CPU.
const KernelTable* Best() {
#if defined(__wasm_relaxed_simd__) && defined(SLM_HAVE_SIMD128R)
  return &Simd128RelaxedKernels();
#elif defined(__wasm_simd128__) && defined(SLM_HAVE_SIMD128)
  return &Simd128Kernels();
#else
  if (const KernelTable* t = CpuHasAvx512() ? FindKernels("avx512") : nullptr) return t;
  if (const KernelTable* t = CpuHasAvx2() ? FindKernels("avx2") : nullptr) return t;
  return &ScalarKernels();
#endif
}

Choice Choose() {
  const KernelTable* best = Best();
  const char* env = std::getenv("SLM_KERNELS");
  if (env == nullptr || *env == '\0') return {best, std::string(best->name) + " (default)"};
  if (const KernelTable* named = FindKernels(env)) {
    return {named, std::string(named->name) + " (SLM_KERNELS=" + env + ")"};
  }
  std::string available;
  const KernelTable* tables[4];
  const int n = AvailableKernelTables(tables, 4);
  for (int i = 0; i < n; ++i) available += std::string(i ? ", " : "") + tables[i]->name;
  return {best, std::string(best->name) + " (error: SLM_KERNELS=" + env +
                    " is not a table this build and CPU can run; available: " + available + ")"};
}

const Choice& Chosen() {
  static const Choice kChoice = Choose();  // thread-safe one-time initialisation
  return kChoice;
}

}  // namespace

int AvailableKernelTables(const KernelTable** out, int max) {
  int n = 0;
  if (n < max) out[n++] = &ScalarKernels();
#if defined(__x86_64__) && defined(SLM_HAVE_AVX2)
  if (CpuHasAvx2() && n < max) out[n++] = &Avx2Kernels();
#endif
#if defined(__x86_64__) && defined(SLM_HAVE_AVX512)
  if (CpuHasAvx512() && n < max) out[n++] = &Avx512Kernels();
#endif
#if defined(__wasm_simd128__) && defined(SLM_HAVE_SIMD128)
  if (n < max) out[n++] = &Simd128Kernels();
#endif
#if defined(__wasm_relaxed_simd__) && defined(SLM_HAVE_SIMD128R)
  if (n < max) out[n++] = &Simd128RelaxedKernels();
#endif
  return n;
}

const KernelTable* FindKernels(const char* name) {
  const KernelTable* tables[4];
  const int n = AvailableKernelTables(tables, 4);
  for (int i = 0; i < n; ++i) {
    if (std::strcmp(tables[i]->name, name) == 0) return tables[i];
  }
  return nullptr;
}

const KernelTable& Kernels() { return *Chosen().table; }
const char* KernelSelectionNote() { return Chosen().note.c_str(); }

bool WeightFormatOf(DType t, WeightFormat* f) {
  switch (t) {
    case DType::kF32:
      *f = WeightFormat::kF32;
      return true;
    case DType::kF16:
      *f = WeightFormat::kF16;
      return true;
    case DType::kBF16:
      *f = WeightFormat::kBF16;
      return true;
    case DType::kQ8_0:
      *f = WeightFormat::kQ8_0;
      return true;
    case DType::kQ4_0:
      *f = WeightFormat::kQ4_0;
      return true;
    case DType::kQ4_K:
      *f = WeightFormat::kQ4_K;
      return true;
    case DType::kQ6_K:
      *f = WeightFormat::kQ6_K;
      return true;
  }
  return false;
}

ActFormat ActFormatOf(WeightFormat f) {
  switch (f) {
    case WeightFormat::kQ8_0:
    case WeightFormat::kQ4_0:
      return ActFormat::kQ8x32;
    case WeightFormat::kQ4_K:
    case WeightFormat::kQ6_K:
      return ActFormat::kQ8x256;
    default:
      return ActFormat::kF32;
  }
}

int64_t ActBytes(ActFormat a, int32_t n) {
  switch (a) {
    case ActFormat::kQ8x32:
      return int64_t{n} / 32 * int64_t{sizeof(ActQ8x32)};
    case ActFormat::kQ8x256:
      return int64_t{n} / 256 * int64_t{sizeof(ActQ8x256)};
    case ActFormat::kF32:
      break;
  }
  return int64_t{n} * 4;
}

}  // namespace slm

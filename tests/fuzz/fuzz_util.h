// Helpers shared by the fuzz targets (tests/fuzz/fuzz_*.cc). Each target
// defines LLVMFuzzerTestOneInput; built with -fsanitize=fuzzer it is a
// libFuzzer binary (scripts/fuzz.sh), otherwise replay_main.cc turns it into
// a program that runs every file of its corpus and regression folders (CTest).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slm::fuzz {

// A 64-byte aligned copy (packages expect in-place use of aligned bytes).
class AlignedBytes {
 public:
  AlignedBytes(const uint8_t* data, size_t size) : size_(size) {
    size_t cap = (size + 63) / 64 * 64;
    if (cap == 0) cap = 64;
    ptr_ = static_cast<uint8_t*>(std::aligned_alloc(64, cap));
    if (size) std::memcpy(ptr_, data, size);
  }
  ~AlignedBytes() { std::free(ptr_); }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;
  uint8_t* data() { return ptr_; }
  std::span<const uint8_t> span() const { return {ptr_, size_}; }

 private:
  uint8_t* ptr_ = nullptr;
  size_t size_ = 0;
};

// $SLM_MODELS_DIR, else the directory configured at build time.
inline std::string ModelsDir() {
  const char* env = std::getenv("SLM_MODELS_DIR");
#ifdef SLM_MODELS_DIR_DEFAULT
  return (env && *env) ? env : SLM_MODELS_DIR_DEFAULT;
#else
  return (env && *env) ? env : "../shared/models";
#endif
}

// A per-process scratch directory (in /dev/shm when present: file-path-based
// importers are fuzzed through real files).
inline const std::string& ScratchDir() {
  // Never destroyed, so the atexit handler can still read it.
  static const std::string* dir = [] {
    std::string base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    auto* d = new std::string(base + "/slm_fuzz_" + std::to_string(getpid()));
    mkdir(d->c_str(), 0700);
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(ScratchDir(), ec); });
    return d;
  }();
  return *dir;
}

inline bool WriteFile(const std::string& path, std::string_view bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

// Splits an input into up to `n` parts at the separator "\n%%slm%%\n" (lets
// one input describe several files).
inline std::vector<std::string_view> SplitParts(std::string_view in, size_t n) {
  static constexpr std::string_view kSep = "\n%%slm%%\n";
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < n) {
    size_t p = in.find(kSep);
    if (p == std::string_view::npos) break;
    parts.push_back(in.substr(0, p));
    in.remove_prefix(p + kSep.size());
  }
  parts.push_back(in);
  return parts;
}

// With SLM_FUZZ_VERBOSE set (replay runs), prints what became of an input:
// "ok" or the status. Used to check that seeds reach the deep code.
template <typename S>
inline void Note(const char* stage, const S& s) {
  static const bool verbose = std::getenv("SLM_FUZZ_VERBOSE") != nullptr;
  if (!verbose) return;
  std::fprintf(stderr, "  %s: %s\n", stage, s.ok() ? "ok" : s.status().ToString().c_str());
}

// Aborts with a message: a fuzz target's own invariant failed (a real bug).
[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
  std::abort();
}

}  // namespace slm::fuzz

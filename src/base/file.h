// Whole-file access. Natively a file is memory-mapped read-only, so package
// weights are used in place; on wasm32-wasi (no mmap) it is read into one
// 64-byte-aligned buffer. Either way callers see one immutable byte span.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"

namespace slm {

class MappedFile {
 public:
  static StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  // Wraps bytes already in memory (the browser's buffer); no copy, not owned.
  static std::unique_ptr<MappedFile> FromMemory(std::span<const uint8_t> bytes, std::string name);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  [[maybe_unused]] bool mapped_ = false;  // munmap on destruction (native only)
  void* owned_ = nullptr; // aligned heap buffer (wasm), freed on destruction
};

// Reads a whole (small) file into a string.
StatusOr<std::string> ReadFileToString(const std::string& path);
// Writes atomically: to path + ".tmp", then rename, so a failed write never
// leaves a half-written file under the final name.
Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes);
bool FileExists(const std::string& path);
bool IsDirectory(const std::string& path);

}  // namespace slm

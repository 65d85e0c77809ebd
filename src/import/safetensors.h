// Hugging Face safetensors reader (huggingface/safetensors README):
//   u64 N (little-endian) | N bytes of UTF-8 JSON header | data buffer
//   header: {"<name>": {"dtype": "F32"|"F16"|"BF16"|..., "shape": [...],
//            "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
//   offsets are relative to the data buffer, end is exclusive; tensors are
//   row-major, little-endian, and must not overlap.
// Checks: N <= 100 MB and inside the file; every offset range inside the
// data buffer and equal to dtype size x element count; no overlaps;
// duplicate names refused (by the JSON object walk). Dtypes F32, F16 and
// BF16 are accepted; others (I8, U8, F64, ...) are reported Unsupported
// with the tensor name. Tensors are views into the mapped file.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/status.h"
#include "model/tensor.h"

namespace slm {

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::kF32;      // F32, F16 or BF16
  std::vector<int64_t> shape;     // outermost first (PyTorch order)
  uint64_t offset = 0;            // absolute file offset
  std::span<const uint8_t> data;  // view into the mapped file
};

class SafetensorsFile {
 public:
  static constexpr uint64_t kMaxHeader = 100'000'000;
  static StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  static StatusOr<std::unique_ptr<SafetensorsFile>> Parse(std::unique_ptr<MappedFile> file);

  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }  // file order
  const SafetensorsTensor* Find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return file_->path(); }
  std::span<const uint8_t> bytes() const { return file_->bytes(); }
  std::unique_ptr<MappedFile> ReleaseFile() { return std::move(file_); }

 private:
  SafetensorsFile() = default;
  std::unique_ptr<MappedFile> file_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Serializes tensors (in the given order) as a safetensors file; used by the
// tests to build Hugging Face fixtures. Header padded with spaces to 8 bytes.
StatusOr<std::vector<uint8_t>> WriteSafetensors(const std::vector<SafetensorsTensor>& tensors);

}  // namespace slm

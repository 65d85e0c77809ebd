// GGUF v2/v3 reader (ggml docs/gguf.md). Layout, little-endian:
//   u32 magic "GGUF" | u32 version (2 or 3) | u64 tensor_count | u64 kv_count
//   kv_count x { string key | u32 type | value }
//     string = u64 length + bytes (no NUL); array = u32 elem_type, u64 n, elems
//     types: u8=0 i8=1 u16=2 i16=3 u32=4 i32=5 f32=6 bool=7 string=8 array=9
//            u64=10 i64=11 f64=12
//   tensor_count x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type
//                    | u64 offset (relative to the data section) }
//   padding to general.alignment (default 32), then the data section.
// Every count, length and offset is checked against the file size before use;
// the first problem is reported with its absolute offset. Values are decoded
// eagerly (vocab-sized arrays included) into GgufValue; tensor data stays in
// the mapped file.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/status.h"

namespace slm {

enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

struct GgufValue {
  GgufType type = GgufType::kU8;
  GgufType elem_type = GgufType::kU8;  // for arrays
  // Scalars: integers/bools in i (u64 values above INT64_MAX are refused),
  // floats in f, strings in s. Arrays: ints in ai, floats in af, strings in as.
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ai;
  std::vector<double> af;
  std::vector<std::string> as;
  bool is_array() const { return type == GgufType::kArray; }
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // innermost first, as in the file
  uint32_t ggml_type = 0;
  uint64_t offset = 0;      // relative to the data section
  uint64_t size = 0;        // bytes, from ne and the type's block size
  std::span<const uint8_t> data;  // view into the mapped file
};

class GgufFile {
 public:
  // Parses and bounds-checks the whole header and tensor table. The data
  // section is only range-checked (tensors lie inside the file, no overlap).
  static StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  static StatusOr<std::unique_ptr<GgufFile>> Parse(std::unique_ptr<MappedFile> file);

  uint32_t version() const { return version_; }
  const std::map<std::string, GgufValue>& kv() const { return kv_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const std::string& path() const { return file_->path(); }
  std::span<const uint8_t> bytes() const { return file_->bytes(); }
  // Transfers ownership of the mapping (for bundles that view tensor data).
  std::unique_ptr<MappedFile> ReleaseFile() { return std::move(file_); }

  const GgufValue* Find(const std::string& key) const;
  // Typed getters: NotFound if absent, FormatError naming key + actual type if wrong.
  StatusOr<std::string> GetString(const std::string& key) const;
  StatusOr<int64_t> GetInt(const std::string& key) const;      // any integer type or bool
  StatusOr<double> GetFloat(const std::string& key) const;     // f32/f64 (or integer)
  StatusOr<const std::vector<std::string>*> GetStringArray(const std::string& key) const;

 private:
  GgufFile() = default;
  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> kv_;
  std::vector<GgufTensorInfo> tensors_;
};

const char* GgufTypeName(GgufType t);

}  // namespace slm

#include "model/tensor.h"

#include <cctype>

#include "base/byte_reader.h"

namespace slm {
namespace {
struct Entry {
  DType type;
  DTypeInfo info;
};
constexpr Entry kTypes[] = {
    {DType::kF32, {"f32", 1, 4}},      {DType::kF16, {"f16", 1, 2}},
    {DType::kQ4_0, {"q4_0", 32, 18}},  {DType::kQ8_0, {"q8_0", 32, 34}},
    {DType::kQ4_K, {"q4_k", 256, 144}}, {DType::kQ6_K, {"q6_k", 256, 210}},
    {DType::kBF16, {"bf16", 1, 2}},
};
}  // namespace

bool GetDTypeInfo(uint32_t id, DTypeInfo* info) {
  for (const Entry& e : kTypes) {
    if (static_cast<uint32_t>(e.type) == id) {
      *info = e.info;
      return true;
    }
  }
  return false;
}

const char* DTypeName(DType t) {
  DTypeInfo info;
  return GetDTypeInfo(static_cast<uint32_t>(t), &info) ? info.name : "unknown";
}

bool ParseDType(const std::string& name, DType* out) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Entry& e : kTypes) {
    if (lower == e.info.name) {
      *out = e.type;
      return true;
    }
  }
  return false;
}

bool DTypeBytes(DType t, uint64_t n_elements, uint64_t* bytes) {
  DTypeInfo info;
  if (!GetDTypeInfo(static_cast<uint32_t>(t), &info)) return false;
  if (n_elements % info.block_size != 0) return false;
  return CheckedMul(n_elements / info.block_size, info.block_bytes, bytes);
}

bool ShapeElements(std::span<const int64_t> shape, uint64_t* n) {
  uint64_t p = 1;
  for (int64_t d : shape) {
    if (d < 0 || !CheckedMul(p, static_cast<uint64_t>(d), &p)) return false;
  }
  *n = p;
  return true;
}

std::string ShapeString(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace slm

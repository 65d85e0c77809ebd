// Tensor element types and the owning/non-owning tensor records shared by the
// importers, the package writer/reader and the runtime.
//
// Shapes are outermost-first (PyTorch order): a weight W used as y = W x with
// x of length `in` and y of length `out` has shape [out, in] and is stored
// row-major, one row of `in` elements per output. (GGUF lists ne[] innermost
// first; its importer reverses it.)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace slm {

// Numeric values equal ggml's type ids so GGUF tensors map one to one and the
// quantized block formats of later issues fit without a format change.
enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,   // 32 weights: f16 d; u8 qs[16]            (18 bytes)
  kQ8_0 = 8,   // 32 weights: f16 d; i8 qs[32]            (34 bytes)
  kQ4_K = 12,  // 256 weights, see ../shared/notes/anchors.md 4.1 (144 bytes)
  kQ6_K = 14,  // 256 weights (210 bytes)
  kBF16 = 30,
};

struct DTypeInfo {
  const char* name;     // "f32", "q8_0", ...
  uint32_t block_size;  // elements per block (1 for scalar types)
  uint32_t block_bytes; // bytes per block
};

// nullptr-free: returns false for an unknown id.
bool GetDTypeInfo(uint32_t id, DTypeInfo* info);
const char* DTypeName(DType t);
// Parses "f32", "q8_0", ... (case-insensitive).
bool ParseDType(const std::string& name, DType* out);

// Bytes for `n_elements` of `t`; false if n is not a multiple of the block
// size or the product overflows.
bool DTypeBytes(DType t, uint64_t n_elements, uint64_t* bytes);
// Product of dims; false on overflow or a negative dim.
bool ShapeElements(std::span<const int64_t> shape, uint64_t* n);
std::string ShapeString(std::span<const int64_t> shape);  // "[512, 64]"

// A tensor that may own its bytes (imported data) or view bytes owned by
// someone else (a mapped source file). bytes() is valid while the owner lives.
struct TensorData {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> owned;       // used when non-empty
  std::span<const uint8_t> view;    // used when `owned` is empty
  std::span<const uint8_t> bytes() const {
    return owned.empty() ? view : std::span<const uint8_t>(owned);
  }
};

}  // namespace slm

// The runtime hook through which adapters change what a session computes,
// without touching the base weights (the Model stays read-only and shared).
//
// A Session with deltas attached computes, for every weight matrix W of the
// forward pass, y = W x + Delta(x): the base product first (kernels, any
// format), then AddMatMul adds the delta in f32. Embedding rows get
// AddEmbedding after the base row is written. 1-D weights (norms, biases) are
// replaced wholesale by Vector(), which an implementation precomputes as
// base + delta once, when the adapters are assembled.
//
// Implementations (src/adapter) must be deterministic and independent of the
// session's thread count: AddMatMul runs on the calling thread.
#pragma once

#include <array>
#include <cstdint>

namespace slm {

// The matrices of the forward pass. kOutput is the LM head (token_embd when
// the model ties them; an adapter on token_embd then changes both uses).
enum class MatrixSlot : int32_t { kQ, kK, kV, kO, kGate, kUp, kDown, kOutput, kCount };
// The 1-D weights of the forward pass.
enum class VectorSlot : int32_t { kAttnNorm, kFfnNorm, kBq, kBk, kBv, kOutputNorm, kCount };

class WeightDeltas {
 public:
  virtual ~WeightDeltas() = default;
  // True if AddMatMul does anything for (layer, slot); layer is -1 for kOutput.
  virtual bool HasMatMul(int32_t layer, MatrixSlot slot) const = 0;
  // y[t * y_stride + r] += (Delta x_t)[r] for all rows r of the matrix and
  // t < n_tok, where x_t = x + t * in (f32, `in` = the matrix's columns).
  virtual void AddMatMul(int32_t layer, MatrixSlot slot, float* y, int64_t y_stride,
                         const float* x, int32_t n_tok) const = 0;
  // x[dim] += Delta row `id` of token_embd (nothing if token_embd has no delta).
  virtual void AddEmbedding(int32_t id, float* x) const = 0;
  // The f32 [n] vector to use instead of the base's, or nullptr for the base's
  // own. layer is -1 for kOutputNorm.
  virtual const float* Vector(int32_t layer, VectorSlot slot) const = 0;
  // The assembly checksum (SHA-256): base digest plus the ordered adapters and
  // their scales. KV pages computed under one checksum are never reused under
  // another.
  virtual const std::array<uint8_t, 32>& checksum() const = 0;
};

}  // namespace slm

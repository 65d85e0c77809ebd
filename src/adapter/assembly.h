// An assembly: one base package plus an ordered list of (adapter, scale),
// implementing the runtime hook runtime/deltas.h. Session::SetDeltas(&asm)
// makes the session compute W x + sum_i scale_i * Delta_i(x) without touching
// the base weights; rescaling or removing an adapter = building a new
// assembly (no base weight is copied, so this is instant).
//
// Per kind, for a target W [out, in] and effective scale s = adapter scale *
// the delta's own scale:
//   raw      y += s * (Delta x)        a second matvec over an f32 copy of
//                                       Delta (block formats decoded once here)
//   sparse   y[r] += s * sum_k v_k x[c_k]   a gather over the row's entries (CSR)
//   lowrank  y += s * (B (A x))        two thin products through a rank-sized
//                                       intermediate
// token_embd deltas are added to embedding rows (AddEmbedding) and, when the
// model ties its output to token_embd, to the LM head too. 1-D weights (norms,
// biases) are precomputed as base + s_1 Delta_1 + s_2 Delta_2 ... in f32.
// All sums run in a fixed order on the calling thread: results do not depend
// on the session's thread count or the platform.
//
// Assembly checksum: SHA-256 of "slm assembly checksum v1", the base package
// digest (32 bytes), u32 adapter count, then per adapter in order its content
// digest (32 bytes) and its scale as IEEE-754 binary32 bits (u32 LE). Adapters
// with scale 0 contribute nothing but still count in the checksum.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "adapter/adapter.h"
#include "base/sha256.h"
#include "package/package.h"
#include "runtime/deltas.h"

namespace slm {

struct AssemblyEntry {
  const Adapter* adapter = nullptr;  // read during Build only
  Digest digest{};                   // its content digest (AdapterFile::digest)
  float scale = 1.0f;
};

Digest AssemblyChecksum(const Digest& base_digest, std::span<const Digest> adapter_digests,
                        std::span<const float> scales);

// Maps a model tensor name to its place in the forward pass. Returns false for
// names the forward pass does not use. token_embd.weight: is_embedding.
struct TensorSlot {
  int32_t layer = -1;
  bool is_matrix = false, is_vector = false, is_embedding = false;
  MatrixSlot matrix = MatrixSlot::kQ;
  VectorSlot vector = VectorSlot::kAttnNorm;
};
bool SlotForTensor(const std::string& name, TensorSlot* slot);

// The unscaled delta of `d` as dense f32 row `r` (cols values) — used by the
// runtime for embedding rows and by merge, so both add the same numbers.
void DeltaRow(const TensorDelta& d, int64_t r, float* out);

class AdapterAssembly final : public WeightDeltas {
 public:
  // Validates every adapter against `base` (ValidateAdapter) before building
  // anything: on any failure nothing is returned, so a session keeps what it
  // had. Scales must be finite. `base` must outlive the assembly only for
  // name(); the assembly owns copies of everything it computes with.
  static StatusOr<std::unique_ptr<AdapterAssembly>> Build(const Package& base,
                                                          std::span<const AssemblyEntry> entries);

  ~AdapterAssembly() override;
  bool HasMatMul(int32_t layer, MatrixSlot slot) const override;
  void AddMatMul(int32_t layer, MatrixSlot slot, float* y, int64_t y_stride, const float* x,
                 int32_t n_tok) const override;
  void AddEmbedding(int32_t id, float* x) const override;
  const float* Vector(int32_t layer, VectorSlot slot) const override;
  const std::array<uint8_t, 32>& checksum() const override { return checksum_; }
  std::string checksum_hex() const { return DigestHex(checksum_); }

  const std::vector<Digest>& digests() const { return digests_; }
  const std::vector<float>& scales() const { return scales_; }

  struct Term;  // one adapter's delta on one tensor (assembly.cc)

 private:
  AdapterAssembly() = default;
  const std::vector<const Term*>* Terms(int32_t layer, MatrixSlot slot) const;

  int32_t n_layers_ = 0;
  bool tied_ = false;
  std::vector<std::unique_ptr<Term>> terms_;
  std::vector<std::vector<const Term*>> matrix_terms_;  // [(n_layers + 1) * kCount]
  std::vector<const Term*> embd_terms_;
  std::vector<std::vector<float>> vectors_;  // [(n_layers + 1) * kCount], empty = base
  std::vector<Digest> digests_;
  std::vector<float> scales_;
  Digest checksum_{};
};

}  // namespace slm

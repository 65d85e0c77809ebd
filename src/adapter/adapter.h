// Adapters: a child model as its base plus small, auditable deltas
// (docs/format.md "Adapter packages"). This header is the in-memory form that
// every producer (diff, PEFT / llama.cpp LoRA import) creates and every
// consumer (the package writer/reader, validation, runtime apply, merge,
// inspect) reads.
//
// Shapes follow model/tensor.h: a matrix target W has shape [out, in],
// row-major. Every delta targets one base tensor by its GGUF-style name.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/tensor.h"

namespace slm {

using Digest32 = std::array<uint8_t, 32>;

enum class DeltaKind : uint32_t {
  kRaw = 0,      // dense Delta W, same shape as the target
  kSparse = 1,   // selected entries of Delta W
  kLowRank = 2,  // Delta W = scale * B A
};
const char* DeltaKindName(DeltaKind k);  // "raw", "sparse", "lowrank"

struct TensorDelta {
  std::string target;          // base tensor name, e.g. "blk.0.attn_q.weight"
  DeltaKind kind = DeltaKind::kRaw;
  std::vector<int64_t> shape;  // the target's shape (checked against the base)

  // kRaw: the dense delta, same shape as the target; dtype f32, f16 or a
  // block format (name and shape fields of `raw` are ignored).
  TensorData raw;

  // kSparse: flat row-major element indices into the target (ascending,
  // unique) and their f32 values; index i is row i / in, column i % in.
  std::vector<uint64_t> indices;
  std::vector<float> values;

  // kLowRank: Delta W = scale * B A with A [rank, in] and B [out, rank], f32
  // row-major. Applied as y += scale * (B (A x)) (two thin products).
  int32_t rank = 0;
  std::vector<float> a;
  std::vector<float> b;
  float scale = 1.0f;  // e.g. lora_alpha / r (or / sqrt(r) for rsLoRA)
};

struct AdapterLineage {
  std::vector<std::string> parents;  // hex digests of parent packages/adapters
  std::string method;                // how it was made: "diff raw", "peft import", ...
  std::string notes;                 // free-form
};

struct Adapter {
  std::string name;        // human-readable
  Digest32 base_compat{};  // CompatibilityDigest of the base it was made for
  Digest32 base_tokenizer{};  // the base's tokenizer digest (named in errors)
  AdapterLineage lineage;
  std::vector<TensorDelta> deltas;  // at most one per target, sorted by target
};

}  // namespace slm

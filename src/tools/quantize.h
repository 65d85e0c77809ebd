// Re-quantizing a model: the per-tensor type policy and the bundle rewrite
// behind `slm quantize` (and the weight types of `slm synth`).
//
// Policy (ChooseTensorType), for a tensor of shape [out, in]:
//   - 1-D tensors (norms, biases) stay f32, under every scheme.
//   - Pure schemes q8_0 / q4_0 / q4_k / q6_k: every 2-D weight gets that type.
//   - mixed (like llama.cpp's Q4_K_M, llama_tensor_get_type):
//       output.weight, and token_embd.weight ........ q6_k
//         (llama.cpp gives token_embd Q6_K only when it doubles as the output,
//          i.e. tied; we always do: a row lookup costs nothing per token)
//       blk.N.attn_v.weight, blk.N.ffn_down.weight .... q6_k when
//         use_more_bits(N, n_layers), else q4_k, where
//         use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2
//       everything else ............................... q4_k
//   - Fallbacks when the row length `in` is not a multiple of the block size
//     (llama.cpp does the same, with its larger set of types):
//       q4_k -> q4_0 (same 4.5 bits/weight; llama.cpp takes Q5_0, which we do
//               not have), q6_k -> q8_0 (as llama.cpp);
//       and when `in` is not a multiple of 32 either: f32 (llama.cpp takes
//       f16; we keep the exact values).
//
// Quantizing a tensor that is already quantized decodes it to f32 first; a
// tensor already in its target type is copied unchanged (no second rounding).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "import/bundle.h"
#include "model/config.h"
#include "model/tensor.h"

namespace slm::tools {

enum class QuantScheme : int32_t { kF32, kQ8_0, kQ4_0, kQ4_K, kQ6_K, kMixed };

// "f32", "q8_0", "q4_0", "q4_k", "q6_k", "mixed" (case-insensitive).
bool ParseQuantScheme(const std::string& s, QuantScheme* out);
const char* QuantSchemeName(QuantScheme s);

// The type a tensor gets under `s`; *why (optional) explains a fallback or a
// mixed-policy choice ("row 64 is not a multiple of 256: q4_k -> q4_0").
DType ChooseTensorType(const ModelConfig& c, const std::string& name,
                       std::span<const int64_t> shape, QuantScheme s, std::string* why = nullptr);

// Encodes f32 values (a whole tensor, rows of shape.back()) as `t`.
StatusOr<std::vector<uint8_t>> EncodeTensor(DType t, std::span<const float> values,
                                            std::span<const int64_t> shape);
// Decodes any supported dtype to f32 (exactly the values the type represents).
StatusOr<std::vector<float>> DecodeTensor(const TensorData& t);

// Every tensor decoded to f32 (owned copies): what the f32 runtime executes to
// stand in for a quantized model.
StatusOr<std::vector<TensorData>> DequantizeTensors(const std::vector<TensorData>& in);

struct TensorPlan {
  std::string name;
  std::vector<int64_t> shape;
  DType from = DType::kF32;
  DType to = DType::kF32;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::string why;  // fallback / policy note, may be empty
};

// Quantizes every tensor of `in` per the policy, tensor by tensor (never
// more than one f32 copy of a tensor at a time). Changed tensors are owned by
// the result; unchanged ones view `in`'s bytes, so `in` must outlive it. Provenance: source_format "slm", source_sha256 = input_digest,
// notes "quantized from <input_digest> with --type <scheme>".
StatusOr<ModelBundle> QuantizeBundle(const ModelBundle& in, QuantScheme s,
                                     const std::string& input_digest, const std::string& input_name,
                                     std::vector<TensorPlan>* plan);

}  // namespace slm::tools

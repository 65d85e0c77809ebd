// GGUF -> ModelBundle for llama-family models (GGUF v2/v3, architectures
// "llama" and "qwen2").
//   hparams: <arch>.embedding_length, feed_forward_length, block_count,
//            attention.head_count, attention.head_count_kv, context_length,
//            attention.layer_norm_rms_epsilon, rope.freq_base,
//            rope.dimension_count (must equal head_dim), attention.key_length
//   vocab:   tokenizer.ggml.tokens count
//   rope:    llama -> interleaved (converters already permuted HF q/k);
//            qwen2 -> half-split (NEOX) and q/k/v biases
//   tied:    no output.weight -> tied_output
// Tensor shapes are GGUF ne[] reversed ([out, in]). f32 tensors are views
// into the mapped file (kept alive by the bundle); f16, bf16, q8_0, q4_0,
// q4_k and q6_k are dequantized to f32 until the quantized kernels land, and
// provenance.notes says so. Provenance carries the file's SHA-256.
#pragma once

#include <string>

#include "base/status.h"
#include "import/bundle.h"
#include "import/gguf.h"

namespace slm {

StatusOr<ModelBundle> ImportGguf(const std::string& path);
// For callers that already parsed the file; takes ownership of the mapping.
StatusOr<ModelBundle> ImportGgufFile(std::unique_ptr<GgufFile> g);

}  // namespace slm

// Importers for Andrej Karpathy's llama2.c checkpoints.
//
// (a) Legacy float32 .bin ("llama2c-f32", run.c): 7 x i32 header
//     {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len}
//     (vocab_size < 0 means the classifier is not shared with the embedding),
//     then f32 arrays: token_embedding [vocab, dim], rms_att [L, dim],
//     wq [L, dim, dim], wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, dim],
//     rms_ffn [L, dim], w1 [L, hidden, dim], w2 [L, dim, hidden],
//     w3 [L, hidden, dim], rms_final [dim], freq_cis_real and freq_cis_imag
//     [seq_len, head_dim / 2] each (skipped: we compute RoPE ourselves), then
//     wcls [vocab, dim] if unshared. Tensors view the mapped file (no copy).
// (b) int8 "version 2" export ("llama2c-int8", runq.c / export.py
//     version2_export): a 256-byte header {u32 magic 0x616b3432 "ak42",
//     i32 version 2, 7 x i32 config, u8 shared_classifier, i32 group_size,
//     zero padding}, f32 rms_att [L, dim], rms_ffn [L, dim], rms_final [dim],
//     then quantized tensors, each stored as i8 q[n] immediately followed by
//     f32 scale[n / group_size] (value = q * scale), in the order: token
//     embedding, wq x L, wk x L, wv x L, wo x L, w1 x L, w2 x L, w3 x L, wcls if
//     not shared. Dequantized to f32 on import (lossy source; noted in
//     provenance.notes).
// Both: every size is computed with overflow checks and compared with the file
// size before any tensor is touched; RoPE interleaved, theta 10000, eps 1e-5.
#pragma once

#include <memory>
#include <string>

#include "base/file.h"
#include "base/status.h"
#include "import/bundle.h"

namespace slm {

// Detects the variant by the "ak42" magic. tokenizer_path names the matching
// tokenizer file (llama2.c tokenizer.bin, or any format LoadTokenizerFile
// knows); an empty path leaves bundle.tokenizer empty (weights-only use).
StatusOr<ModelBundle> ImportLlama2c(const std::string& path, const std::string& tokenizer_path);
// The same on bytes already mapped or in memory (MappedFile::FromMemory; the
// bundle keeps `file`, and its f32 tensors view the bytes, which must then
// outlive the bundle); file->path() names it in errors and provenance.
StatusOr<ModelBundle> ImportLlama2cFile(std::unique_ptr<MappedFile> file,
                                        const std::string& tokenizer_path);

}  // namespace slm

// Shared by the package tests: a small synthetic model bundle.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "import/bundle.h"
#include "package/model_tensors.h"

namespace slm::test {

// dim 24, hidden 40, 2 layers, 4 heads, 2 kv heads (head_dim 6), vocab 32,
// 96-byte norms so the data section has alignment gaps; random f32
// weights from a fixed LCG (seed), a 32-piece SentencePiece tokenizer.
inline ModelBundle MakeSyntheticBundle(uint32_t seed = 1, bool tied = false, bool bias = false) {
  ModelBundle b;
  ModelConfig& c = b.config;
  c.arch = bias ? "qwen2" : "llama";
  c.dim = 24;
  c.hidden_dim = 40;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 6;
  c.vocab_size = 32;
  c.max_seq_len = 64;
  c.norm_eps = 1e-5f;
  c.rope_theta = 10000.0f;
  c.tied_output = tied;
  c.qkv_bias = bias;
  c.rope_style = bias ? RopeStyle::kHalfSplit : RopeStyle::kInterleaved;
  uint32_t state = seed;
  for (const ExpectedTensor& e : ExpectedModelTensors(c)) {
    TensorData t;
    t.name = e.name;
    t.dtype = DType::kF32;
    t.shape = e.shape;
    uint64_t n = 1;
    for (int64_t d : e.shape) n *= static_cast<uint64_t>(d);
    t.owned.resize(n * 4);
    for (uint64_t i = 0; i < n; ++i) {
      state = state * 1664525u + 1013904223u;
      float v = static_cast<float>(static_cast<int32_t>(state >> 8) - (1 << 23)) / (1 << 26);
      std::memcpy(&t.owned[i * 4], &v, 4);
    }
    b.tensors.push_back(std::move(t));
  }
  TokenizerData& tok = b.tokenizer;
  for (int i = 0; i < 32; ++i) {
    std::string piece = "p";
    piece += std::to_string(i);
    if (i == 0) piece = "<unk>";
    if (i == 1) piece = "<s>";
    if (i == 2) piece = "</s>";
    tok.pieces.push_back(piece);
    tok.scores.push_back(-static_cast<float>(i));
    tok.attrs.push_back(i < 3 ? 3 : 1);
  }
  tok.bos_id = 1;
  tok.eos_id = 2;
  tok.unk_id = 0;
  b.provenance.source_format = "synthetic";
  b.provenance.source_path = "synthetic";
  b.provenance.source_sha256 = std::string(64, 'a');
  b.metadata["general.name"] = "synthetic-test";
  return b;
}

}  // namespace slm::test

// The determinism cases shared by the native test (tests/unit/determinism_test.cc),
// the wasm32-wasi program run under node:wasi (tests/wasm/determinism_main.cc)
// and the kernel lab (bench/kernels): models quantized in memory to each
// weight format, and a logits run whose SHA-256 names the exact bits.
//
// Models: stories260K (dim 64, hidden 172) and a seeded random model "rand256"
// (dim 256, hidden 512, 2 layers, 4 heads / 2 KV heads, vocab 320) whose rows
// are multiples of 256, so q4_k / q6_k apply to every matrix. A matrix whose
// row length is not a whole number of the format's blocks stays f32, as
// llama.cpp falls back per tensor (stories260K's ffn_down rows are 172 long).
// Header-only so the wasm program needs nothing but the library.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/prng.h"
#include "base/sha256.h"
#include "model/config.h"
#include "model/tensor.h"
#include "quant/quant.h"
#include "runtime/model.h"
#include "runtime/session.h"

namespace slm::determinism {

inline const std::vector<DType>& Formats() {
  static const std::vector<DType> k = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0,
                                       DType::kQ4_0, DType::kQ4_K, DType::kQ6_K};
  return k;
}

// A llama config with tied output and RoPE theta 10000.
inline ModelConfig Config(int32_t dim, int32_t hidden, int32_t layers, int32_t heads,
                          int32_t kv_heads, int32_t vocab, int32_t seq) {
  ModelConfig c;
  c.dim = dim;
  c.hidden_dim = hidden;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.head_dim = dim / heads;
  c.vocab_size = vocab;
  c.max_seq_len = seq;
  c.tied_output = true;
  return c;
}

inline TensorData F32Tensor(const std::string& name, std::vector<int64_t> shape, Prng& p,
                            float scale, float offset = 0.0f) {
  TensorData t;
  t.name = name;
  t.dtype = DType::kF32;
  t.shape = std::move(shape);
  uint64_t n = 1;
  for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
  t.owned.resize(n * 4);
  for (uint64_t i = 0; i < n; ++i) {
    const float v = offset + (p.NextFloat() * 2.0f - 1.0f) * scale;
    std::memcpy(t.owned.data() + 4 * i, &v, 4);
  }
  return t;
}

// Seeded uniform weights (std `scale`-ish); norms near 1.
inline std::vector<TensorData> RandomTensors(const ModelConfig& c, uint64_t seed, float scale) {
  Prng p(seed);
  std::vector<TensorData> ts;
  const int64_t dim = c.dim, hidden = c.hidden_dim, q = c.q_dim(), kv = c.kv_dim();
  ts.push_back(F32Tensor("token_embd.weight", {c.vocab_size, dim}, p, scale * 20.0f));
  ts.push_back(F32Tensor("output_norm.weight", {dim}, p, 0.1f, 1.0f));
  for (int32_t l = 0; l < c.n_layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    ts.push_back(F32Tensor(b + "attn_norm.weight", {dim}, p, 0.1f, 1.0f));
    ts.push_back(F32Tensor(b + "attn_q.weight", {q, dim}, p, scale));
    ts.push_back(F32Tensor(b + "attn_k.weight", {kv, dim}, p, scale));
    ts.push_back(F32Tensor(b + "attn_v.weight", {kv, dim}, p, scale));
    ts.push_back(F32Tensor(b + "attn_output.weight", {dim, q}, p, scale));
    ts.push_back(F32Tensor(b + "ffn_norm.weight", {dim}, p, 0.1f, 1.0f));
    ts.push_back(F32Tensor(b + "ffn_gate.weight", {hidden, dim}, p, scale));
    ts.push_back(F32Tensor(b + "ffn_up.weight", {hidden, dim}, p, scale));
    ts.push_back(F32Tensor(b + "ffn_down.weight", {dim, hidden}, p, scale));
  }
  return ts;
}

inline ModelConfig Rand256Config() { return Config(256, 512, 2, 4, 2, 320, 64); }

// Every 2-D f32 tensor whose rows are whole blocks of `t` becomes `t`
// (quant::QuantizeRow, the ggml reference quantizers); others are copied.
inline std::vector<TensorData> Quantize(const std::vector<TensorData>& in, DType t) {
  std::vector<TensorData> out;
  for (const TensorData& src : in) {
    TensorData d;
    d.name = src.name;
    d.shape = src.shape;
    d.dtype = src.dtype;
    uint64_t row_bytes = 0;
    const bool convert = t != DType::kF32 && src.dtype == DType::kF32 && src.shape.size() == 2 &&
                         DTypeBytes(t, static_cast<uint64_t>(src.shape[1]), &row_bytes);
    auto bytes = src.bytes();
    if (!convert) {
      d.owned.assign(bytes.begin(), bytes.end());
      out.push_back(std::move(d));
      continue;
    }
    d.dtype = t;
    const size_t rows = static_cast<size_t>(src.shape[0]), cols = static_cast<size_t>(src.shape[1]);
    d.owned.resize(rows * static_cast<size_t>(row_bytes));
    std::vector<float> row(cols);
    for (size_t r = 0; r < rows; ++r) {
      std::memcpy(row.data(), bytes.data() + r * cols * 4, cols * 4);
      quant::QuantizeRow(t, row, {d.owned.data() + r * row_bytes, static_cast<size_t>(row_bytes)});
    }
    out.push_back(std::move(d));
  }
  return out;
}

// The prompt (ids below every vocab used here).
inline const std::vector<int32_t>& Prompt() {
  static const std::vector<int32_t> k = {1, 203, 107, 261, 78, 309, 217, 45, 12, 99, 250};
  return k;
}

// Logits after prefilling Prompt() in one call (or token by token when
// `stepwise`), then after each of n_greedy greedy decode steps, concatenated.
// Empty on any error.
inline std::vector<float> RunLogits(const Model& m, SessionOptions o, bool stepwise,
                                    int32_t n_greedy) {
  auto s = Session::Create(m, o);
  if (!s.ok()) return {};
  Session& session = **s;
  std::vector<float> all;
  const auto& prompt = Prompt();
  if (stepwise) {
    for (int32_t id : prompt) {
      if (!session.Decode(id).ok()) return {};
    }
  } else if (!session.Prefill(prompt).ok()) {
    return {};
  }
  for (int32_t step = 0;; ++step) {
    auto lg = session.logits();
    all.insert(all.end(), lg.begin(), lg.end());
    if (step == n_greedy) break;
    int32_t best = 0;  // ties: lowest id
    for (int32_t i = 1; i < static_cast<int32_t>(lg.size()); ++i) {
      if (lg[i] > lg[best]) best = i;
    }
    if (!session.Decode(best).ok()) return {};
  }
  return all;
}

inline std::string BitsDigest(const std::vector<float>& v) {
  return DigestHex(Sha256Of(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()),
                                                     v.size() * sizeof(float))));
}

}  // namespace slm::determinism

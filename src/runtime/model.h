// A validated, read-only view of a llama-family model's weights. Model does
// not own the bytes: the TensorData vector (or the mapped file it views) must
// outlive it. Shapes are [out, in] row-major (model/tensor.h); names follow
// GGUF (token_embd.weight, blk.N.attn_q.weight, ...).
//
// Matrices may be f32, f16, bf16, q8_0, q4_0, q4_k or q6_k (each a
// WeightView the kernels multiply in place, no copy); norms and biases are f32.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "kernels/kernels.h"
#include "model/config.h"
#include "model/tensor.h"

namespace slm {

// A [rows, cols] weight matrix in one of the kernel formats.
struct WeightView {
  DType dtype = DType::kF32;
  WeightFormat format = WeightFormat::kF32;
  const uint8_t* data = nullptr;  // row r at data + r * row_bytes
  int32_t rows = 0;
  int32_t cols = 0;
  int64_t row_bytes = 0;
};

struct LayerWeights {
  const float* attn_norm;     // [dim]
  WeightView wq;              // [q_dim, dim]
  WeightView wk;              // [kv_dim, dim]
  WeightView wv;              // [kv_dim, dim]
  const float* bq = nullptr;  // [q_dim]   (qkv_bias only)
  const float* bk = nullptr;  // [kv_dim]
  const float* bv = nullptr;  // [kv_dim]
  WeightView wo;              // [dim, q_dim]
  const float* ffn_norm;      // [dim]
  WeightView w_gate;          // [hidden, dim]  (llama2.c w1)
  WeightView w_up;            // [hidden, dim]  (w3)
  WeightView w_down;          // [dim, hidden]  (w2)
};

class Model {
 public:
  // Validates the config, then every tensor the forward pass needs: present,
  // exact shape, a supported dtype (f32 for 1-D tensors), byte size matching
  // shape and dtype, f32/f16/bf16 data aligned to its element size. Extra
  // tensors are ignored.
  static StatusOr<std::unique_ptr<Model>> Create(const ModelConfig& c,
                                                 const std::vector<TensorData>& tensors);
  const ModelConfig& config() const { return config_; }
  // Writes row `id` of token_embd as f32 (dequantized; exact for f32/f16/bf16).
  void Embed(int32_t id, float* out) const;
  const WeightView& token_embd() const { return token_embd_; }  // [vocab, dim]
  const float* output_norm() const { return output_norm_; }     // [dim]
  const WeightView& output() const { return output_; }  // [vocab, dim] (token_embd when tied)
  const LayerWeights& layer(int32_t i) const { return layers_[static_cast<size_t>(i)]; }

 private:
  Model() = default;
  ModelConfig config_;
  WeightView token_embd_;
  const float* output_norm_ = nullptr;
  WeightView output_;
  std::vector<LayerWeights> layers_;
};

}  // namespace slm

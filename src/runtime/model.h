// A validated, read-only view of a llama-family model's f32 weights. Model does
// not own the bytes: the TensorData vector (or the mapped file it views) must
// outlive it. Shapes are [out, in] row-major (model/tensor.h); names follow
// GGUF (token_embd.weight, blk.N.attn_q.weight, ...).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "model/config.h"
#include "model/tensor.h"

namespace slm {

struct LayerWeights {
  const float* attn_norm;    // [dim]
  const float* wq;           // [q_dim, dim]
  const float* wk;           // [kv_dim, dim]
  const float* wv;           // [kv_dim, dim]
  const float* bq = nullptr; // [q_dim]   (qkv_bias only)
  const float* bk = nullptr; // [kv_dim]
  const float* bv = nullptr; // [kv_dim]
  const float* wo;           // [dim, q_dim]
  const float* ffn_norm;     // [dim]
  const float* w_gate;       // [hidden, dim]  (llama2.c w1)
  const float* w_up;         // [hidden, dim]  (w3)
  const float* w_down;       // [dim, hidden]  (w2)
};

class Model {
 public:
  // Validates the config, then every tensor the forward pass needs: present,
  // exact shape, f32, 4-byte aligned. Extra tensors are ignored.
  static StatusOr<std::unique_ptr<Model>> Create(const ModelConfig& c,
                                                 const std::vector<TensorData>& tensors);
  const ModelConfig& config() const { return config_; }
  const float* token_embd() const { return token_embd_; }  // [vocab, dim]
  const float* output_norm() const { return output_norm_; }  // [dim]
  const float* output() const { return output_; }  // [vocab, dim] (token_embd when tied)
  const LayerWeights& layer(int32_t i) const { return layers_[static_cast<size_t>(i)]; }

 private:
  Model() = default;
  ModelConfig config_;
  const float* token_embd_ = nullptr;
  const float* output_norm_ = nullptr;
  const float* output_ = nullptr;
  std::vector<LayerWeights> layers_;
};

}  // namespace slm

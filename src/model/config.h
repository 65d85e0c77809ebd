// The one struct that describes a llama-family model. Importers fill it, the
// package stores it, the runtime trusts it after Validate() (nothing
// downstream re-checks it).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace slm {

// How RoPE pairs up the dimensions of a head (head_dim = D).
enum class RopeStyle : int32_t {
  // Pairs (0,1), (2,3), ...: llama2.c, Meta's Llama and GGUF "llama" (ggml
  // ROPE_TYPE_NORM; HF q/k weights are permuted into this form by converters).
  kInterleaved = 0,
  // Pairs (i, i + D/2): Hugging Face rotate_half, GGUF qwen2 (ggml NEOX).
  kHalfSplit = 1,
};

struct ModelConfig {
  std::string arch = "llama";  // "llama" or "qwen2" (llama + q/k/v biases)
  int32_t dim = 0;             // embedding width
  int32_t hidden_dim = 0;      // SwiGLU inner width
  int32_t n_layers = 0;
  int32_t n_heads = 0;         // query heads
  int32_t n_kv_heads = 0;      // key/value heads (grouped-query attention)
  int32_t head_dim = 0;        // usually dim / n_heads
  int32_t vocab_size = 0;
  int32_t max_seq_len = 0;     // context length in tokens
  float norm_eps = 1e-5f;      // RMSNorm epsilon
  float rope_theta = 10000.0f;
  RopeStyle rope_style = RopeStyle::kInterleaved;
  bool tied_output = false;    // output projection shares token_embd
  bool qkv_bias = false;       // attn_q/k/v have biases (Qwen2)

  // Checks ranges and divisibility; names the first bad field.
  Status Validate() const;
  int32_t kv_dim() const { return n_kv_heads * head_dim; }
  int32_t q_dim() const { return n_heads * head_dim; }
};

}  // namespace slm

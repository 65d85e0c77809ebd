// One decoding stream over a Model: the KV cache, the RoPE tables and all
// scratch, allocated once at Create (DESIGN.md principle 7: no allocation per
// token). A Session is not thread-safe; several sessions may share a Model,
// which (with the tensors it views) must outlive them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "kernels/kernels.h"
#include "runtime/model.h"

namespace slm {

struct SessionOptions {
  int32_t n_ctx = 0;  // context length in tokens; 0 = config.max_seq_len
};

class Session {
 public:
  // Fails (InvalidArgument) if n_ctx is negative or above config.max_seq_len,
  // (ResourceExhausted) if the cache would not fit this address space.
  static StatusOr<std::unique_ptr<Session>> Create(const Model& m, SessionOptions o = {});

  // Runs the tokens at positions position() .. position() + n - 1; logits()
  // then holds the last one's. Bit-identical to n calls of Decode. Errors
  // (empty prompt, id outside the vocab, context overflow) leave the session
  // unchanged.
  Status Prefill(std::span<const int32_t> ids);
  Status Decode(int32_t id);  // one token
  // [vocab] logits of the last position run; empty before the first token.
  std::span<const float> logits() const;
  int32_t position() const { return position_; }
  int32_t n_ctx() const { return n_ctx_; }
  void Reset();  // back to position 0 (cache contents are simply overwritten later)
  const Model& model() const { return model_; }

 private:
  Session(const Model& m, int32_t n_ctx);
  Status CheckIds(std::span<const int32_t> ids) const;
  // The transformer for one token at position_ (writes its K/V); fills
  // logits_ when want_logits.
  void Forward(int32_t id, bool want_logits);

  const Model& model_;
  const KernelTable& k_;
  int32_t n_ctx_;
  int32_t position_ = 0;
  bool has_logits_ = false;
  std::vector<float> key_cache_;    // [n_layers][n_ctx][kv_dim]
  std::vector<float> value_cache_;  // [n_layers][n_ctx][kv_dim]
  std::vector<float> rope_cos_;     // [n_ctx][head_dim / 2]
  std::vector<float> rope_sin_;     // [n_ctx][head_dim / 2]
  std::vector<float> x_;            // [dim] residual stream
  std::vector<float> xb_;           // [dim] normed input / projection output
  std::vector<float> q_;            // [q_dim]
  std::vector<float> att_;          // [q_dim] attention output
  std::vector<float> hb_;           // [hidden] gate, then SwiGLU
  std::vector<float> hb2_;          // [hidden] up
  std::vector<float> scores_;       // [n_ctx]
  std::vector<float> logits_;       // [vocab]
};

}  // namespace slm

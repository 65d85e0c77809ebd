// One decoding stream over a Model: the KV cache, the RoPE tables, a thread
// pool and all scratch, allocated once at Create (DESIGN.md principle 7: no
// allocation per token). A Session is not thread-safe; several sessions may
// share a Model, which (with the tensors it views) must outlive them.
//
// Prompts run as batches of up to kMaxBatch tokens (matrix-matrix products,
// each weight row read once per batch); every output is computed exactly as
// a single decode step computes it, so Prefill(ids) gives the same bits as
// ids.size() Decode calls, at any thread count (work is split by output rows
// or by token, never inside one dot product).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "kernels/kernels.h"
#include "runtime/deltas.h"
#include "runtime/model.h"
#include "runtime/thread_pool.h"

namespace slm {

struct SessionOptions {
  int32_t n_ctx = 0;  // context length in tokens; 0 = config.max_seq_len
  // Threads for the forward pass, 0 = default: the hardware concurrency capped
  // at 4 (decode is memory-bound; more threads than memory channels only add
  // synchronisation). Always 1 in wasm builds. Results do not depend on it.
  int32_t n_threads = 0;
  // Kernel table; nullptr = Kernels() (chosen once per process).
  const KernelTable* kernels = nullptr;
};

class Session {
 public:
  static constexpr int32_t kMaxBatch = 32;  // tokens per prefill chunk

  // Fails (InvalidArgument) if n_ctx is negative or above config.max_seq_len
  // or n_threads is negative, (ResourceExhausted) if the cache would not fit
  // this address space.
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
  int32_t n_threads() const { return pool_.size(); }
  const KernelTable& kernels() const { return k_; }
  void Reset();  // back to position 0 (cache contents are simply overwritten later)
  const Model& model() const { return model_; }
  // Attaches runtime weight deltas (adapters; runtime/deltas.h), or detaches
  // them with nullptr. `d` must outlive the session or the next SetDeltas.
  // Takes effect from the next token run: K/V already cached were computed
  // under the previous deltas, so callers normally Reset() too.
  void SetDeltas(const WeightDeltas* d) { deltas_ = d; }
  const WeightDeltas* deltas() const { return deltas_; }

 private:
  // One Y = W X product over a batch (see MatMuls).
  struct MatMulJob {
    const WeightView* w;
    float* y;
    int64_t y_stride;  // floats between tokens' outputs
    const float* x;    // f32 activations [n_tok][w->cols]
    int32_t layer;     // for the deltas: -1 for the output head
    MatrixSlot slot;
  };

  Session(const Model& m, int32_t n_ctx, int32_t n_threads, const KernelTable& k);
  Status CheckIds(std::span<const int32_t> ids) const;
  // The transformer for n <= kMaxBatch tokens at positions position_ ..
  // position_ + n - 1 (writes their K/V); fills logits_ for the last token
  // when want_logits.
  void Forward(const int32_t* ids, int32_t n, bool want_logits);
  // Runs up to 3 products on the same input batch in one pool dispatch; each
  // thread takes a contiguous share of every job's rows. Quantizes the input
  // once per activation format needed.
  void MatMuls(std::initializer_list<MatMulJob> jobs, int32_t n_tok);
  // Attention of tokens 0..n-1 of the batch (positions pos0 + t), split by token.
  void AttentionBatch(int32_t layer, int32_t pos0, int32_t n);

  const Model& model_;
  const KernelTable& k_;
  const WeightDeltas* deltas_ = nullptr;
  ThreadPool pool_;
  int32_t n_ctx_;
  int32_t position_ = 0;
  bool has_logits_ = false;
  std::vector<float> key_cache_;    // [n_layers][n_ctx][kv_dim]
  std::vector<float> value_cache_;  // [n_layers][n_ctx][kv_dim]
  std::vector<float> rope_cos_;     // [n_ctx][head_dim / 2]
  std::vector<float> rope_sin_;     // [n_ctx][head_dim / 2]
  std::vector<float> x_;            // [kMaxBatch][dim] residual stream
  std::vector<float> xb_;           // [kMaxBatch][dim] normed input / projection output
  std::vector<float> q_;            // [kMaxBatch][q_dim]
  std::vector<float> att_;          // [kMaxBatch][q_dim] attention output
  std::vector<float> hb_;           // [kMaxBatch][hidden] gate, then SwiGLU
  std::vector<float> hb2_;          // [kMaxBatch][hidden] up
  std::vector<float> scores_;       // [n_threads][n_ctx]
  std::vector<uint8_t> act32_;      // [kMaxBatch] ActQ8x32 rows of the widest input
  std::vector<uint8_t> act256_;     // [kMaxBatch] ActQ8x256 rows of the widest input
  std::vector<float> logits_;       // [vocab]
};

}  // namespace slm

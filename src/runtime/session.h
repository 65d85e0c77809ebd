// Decoding streams over a Model: a paged KV cache shared by several
// sequences (runtime/kv_cache.h, docs/kv-cache.md), the RoPE tables, a thread
// pool and all scratch, allocated once at Create (DESIGN.md principle 7: no
// allocation per token). A Session is not thread-safe; several sessions may
// share a Model, which (with the tensors it views) must outlive them.
//
// Sequences: sequence 0 always exists and is what the single-stream calls
// (Prefill, Decode, logits, position, Reset) use; NewSequence adds more. A
// prompt that starts with pages another sequence (live or finished) computed
// under the same assembly checksum reuses them without computing them
// (prefix reuse; same bits either way).
//
// Prompts run as batches of up to kMaxBatch tokens (matrix-matrix products,
// each weight row read once per batch); every output is computed exactly as
// a single decode step computes it, so Prefill(ids) gives the same bits as
// ids.size() Decode calls, at any thread count (work is split by output rows
// or by token, never inside one dot product). DecodeBatch advances several
// sequences one token each through the same batched products, again with the
// same bits as decoding each alone.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "kernels/kernels.h"
#include "runtime/deltas.h"
#include "runtime/kv_cache.h"
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
  // KV cache arena in MiB (pages of KvCache::kPageTokens positions, K and V of
  // every layer); 0 = enough pages for n_ctx positions of one sequence.
  int32_t kv_budget_mib = 0;
  // Reuse cached pages for prompts that start with a cached prefix. Off only
  // to measure what it saves; results are the same bits either way.
  bool prefix_reuse = true;
};

using SeqId = int32_t;

class Session {
 public:
  static constexpr int32_t kMaxBatch = 32;  // tokens per prefill chunk
  // A single token's attention with at least this many query-key products
  // (positions x q_dim) is split across the pool by kv heads (AttentionBatch).
  static constexpr int64_t kSplitAttentionMin = 32768;

  // Fails (InvalidArgument) if n_ctx is negative or above config.max_seq_len,
  // n_threads or kv_budget_mib is negative or the budget holds no page,
  // (ResourceExhausted) if the cache would not fit this address space.
  static StatusOr<std::unique_ptr<Session>> Create(const Model& m, SessionOptions o = {});

  // Runs the tokens at positions position() .. position() + n - 1 of sequence
  // 0; logits() then holds the last one's. Bit-identical to n calls of
  // Decode. Errors (empty prompt, id outside the vocab, context overflow:
  // OutOfRange, KV budget exhausted: ResourceExhausted) leave the session
  // unchanged.
  Status Prefill(std::span<const int32_t> ids) { return Prefill(0, ids); }
  Status Decode(int32_t id) { return Decode(0, id); }
  // [vocab] logits of the last position run; empty before the first token.
  std::span<const float> logits() const { return logits(0); }
  int32_t position() const { return position(0); }
  void Reset() { (void)ResetSequence(0); }  // sequence 0 back to position 0 (pages released)

  // Several sequences. NewSequence fails (ResourceExhausted) above
  // kMaxSequences live sequences; FreeSequence releases the pages (published
  // full pages stay cached for later prompts until evicted). Sequence 0
  // cannot be freed, only reset.
  static constexpr int32_t kMaxSequences = 256;
  StatusOr<SeqId> NewSequence();
  Status FreeSequence(SeqId s);
  Status ResetSequence(SeqId s);
  // As Prefill/Decode above, for sequence s (InvalidArgument if not live).
  // Decode is a one-token Prefill that does not count as prompt (KvStats).
  Status Prefill(SeqId s, std::span<const int32_t> ids) { return Run(s, ids, true); }
  Status Decode(SeqId s, int32_t id) { return Run(s, std::span<const int32_t>(&id, 1), false); }
  // Sequences seqs[i] advance by ids[i] in one forward step (batched
  // products); each gets its logits. Bit-identical to Decode(seqs[i], ids[i])
  // one after the other. Up to kMaxBatch distinct live sequences; on any error
  // (bad id, a full context, KV budget exhausted) no sequence moves.
  Status DecodeBatch(std::span<const SeqId> seqs, std::span<const int32_t> ids);
  std::span<const float> logits(SeqId s) const;  // empty if none or s not live
  int32_t position(SeqId s) const;               // -1 if s is not live
  // The token ids at positions 0..position(s)-1.
  Status Tokens(SeqId s, std::vector<int32_t>* out) const;
  KvStats kv_stats() const;

  // Session files (docs/kv-cache.md, runtime/session_file.h): sequence s's
  // tokens, K/V rows, position and last logits plus an opaque caller blob
  // (the sampler state), tied to this model and the assembly checksum.
  Status SaveSequence(SeqId s, const std::string& path,
                      std::span<const uint8_t> sampler_state) const;
  std::vector<uint8_t> SerializeSequence(SeqId s, std::span<const uint8_t> sampler_state) const;
  // Replaces sequence s with the file's content and returns the blob in
  // *sampler_state. A file for another model or checksum, truncated or
  // corrupted is refused (FormatError / IntegrityError / InvalidArgument)
  // before s is touched; if the pages do not fit (ResourceExhausted) s is left
  // empty at position 0.
  Status RestoreSequence(SeqId s, const std::string& path, std::vector<uint8_t>* sampler_state);
  Status RestoreSequenceFrom(SeqId s, std::span<const uint8_t> bytes, const std::string& source,
                             std::vector<uint8_t>* sampler_state);
  // SHA-256 over the config and the first bytes of the embedding and output
  // norm: what a session file names as its model.
  const std::array<uint8_t, 32>& model_fingerprint() const { return fingerprint_; }

  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_threads() const { return pool_.size(); }
  const KernelTable& kernels() const { return k_; }
  const Model& model() const { return model_; }
  // Attaches runtime weight deltas (adapters; runtime/deltas.h), or detaches
  // them with nullptr. `d` must outlive the session or the next SetDeltas.
  // Takes effect from the next token run: K/V already cached were computed
  // under the previous deltas, so callers normally Reset() too. Cached pages
  // are keyed by the checksum, so they are only reused under the same deltas.
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

  struct Seq {
    bool live = false;
    int32_t position = 0;
    bool has_logits = false;
    // Prefix chain: key of the last full page (0 before the first), the
    // checksum the sequence started under, and whether every token so far
    // ran under it (otherwise its pages are never shared).
    KvCache::Key chain = 0;
    KvCache::Checksum checksum{};
    bool shareable = true;
    std::vector<int32_t> pages;  // page table, capacity max_pages_
    std::vector<float> logits;   // [vocab]
    // >= 0: the current logits are row batch_row of logits_batch_ (the last
    // DecodeBatch's output, not copied out: a copy per sequence and step was
    // ~10% of a batched stories15M step); `logits` is stale until
    // MaterializeLogits copies the row, which happens before logits_batch_
    // is overwritten while this sequence still needs them.
    int32_t batch_row = -1;
  };
  // The current logits of q ([vocab]; valid when q.has_logits).
  const float* LogitsData(const Seq& q) const;
  void MaterializeLogits(Seq& q);

  Session(const Model& m, int32_t n_ctx, int32_t n_threads, const KernelTable& k, int32_t n_pages,
          bool prefix_reuse);
  const KvCache::Checksum& Checksum() const;
  Status CheckSeq(SeqId s) const;
  // Prefill / Decode; `prompt` says whether the tokens count in KvStats.
  Status Run(SeqId s, std::span<const int32_t> ids, bool prompt);
  Status CheckIds(std::span<const int32_t> ids, int32_t position) const;
  Status NoPages(int32_t needed) const;
  void ReleasePages(Seq& q);
  // Records token `id` at position `pos` of sequence s in its page (after
  // its K/V rows are written); completes and publishes full pages.
  void NoteToken(SeqId s, int32_t pos, int32_t id);
  // The transformer for n <= kMaxBatch tokens; token t is ids[t] at position
  // tok_pos_[t] of sequence tok_seq_[t] (pages already allocated). Writes
  // their K/V; fills the logits of the last token (want_logits == 1) or of
  // every token (2).
  void Forward(const int32_t* ids, int32_t n, int32_t want_logits);
  // Runs up to 3 products on the same input batch in one pool dispatch, as
  // guided chunks of whole rows that the threads claim (see session.cc).
  // Quantizes the input once per activation format needed.
  void MatMuls(std::initializer_list<MatMulJob> jobs, int32_t n_tok);
  // Attention of tokens 0..n-1 of the batch, split by token.
  void AttentionBatch(int32_t layer, int32_t n);
  // fn(t) for t = 0..n-1: the per-token elementwise steps of a batch, split
  // into contiguous token ranges across the pool (a prefill spent ~5% of its
  // time in them on the calling thread alone); one token runs inline. Each
  // token's result is computed whole by one thread, so bits never depend on
  // the split.
  template <typename Fn>
  void ForTokens(int32_t n, const Fn& fn) {
    if (n == 1 || pool_.size() == 1) {
      for (int32_t t = 0; t < n; ++t) fn(t);
      return;
    }
    struct Ctx {
      const Fn* fn;
      int32_t n;
    } ctx{&fn, n};
    pool_.Run(
        [](void* v, int32_t i, int32_t parts) {
          const Ctx& c = *static_cast<const Ctx*>(v);
          for (int32_t t = c.n * i / parts; t < c.n * (i + 1) / parts; ++t) (*c.fn)(t);
        },
        &ctx);
  }

  const Model& model_;
  const KernelTable& k_;
  const WeightDeltas* deltas_ = nullptr;
  ThreadPool pool_;
  int32_t n_ctx_;
  int32_t max_pages_;  // pages of one full context
  bool prefix_reuse_;
  KvCache kv_;
  std::array<uint8_t, 32> fingerprint_{};
  std::vector<Seq> seqs_;                // [kMaxSequences] slots; 0 always live
  std::vector<int32_t> reuse_;           // [max_pages] pages a prompt reuses
  int32_t tok_seq_[kMaxBatch] = {};      // batch token -> sequence
  int32_t tok_pos_[kMaxBatch] = {};      // batch token -> position
  std::vector<float> rope_cos_;          // [n_ctx][head_dim / 2]
  std::vector<float> rope_sin_;          // [n_ctx][head_dim / 2]
  std::vector<float> x_;                 // [kMaxBatch][dim] residual stream
  std::vector<float> xb_;                // [kMaxBatch][dim] normed input / projection output
  std::vector<float> q_;                 // [kMaxBatch][q_dim]
  std::vector<float> kb_;                // [kMaxBatch][kv_dim] new K rows (copied into pages)
  std::vector<float> vb_;                // [kMaxBatch][kv_dim] new V rows
  std::vector<float> att_;               // [kMaxBatch][q_dim] attention output
  std::vector<float> hb_;                // [kMaxBatch][hidden] gate, then SwiGLU
  std::vector<float> hb2_;               // [kMaxBatch][hidden] up
  std::vector<float> scores_;            // [n_threads][n_ctx]
  std::vector<const float*> page_ptrs_;  // [n_threads][2][max_pages] K, V page rows
  std::vector<uint8_t> act32_;           // [kMaxBatch] ActQ8x32 rows of the widest input
  std::vector<uint8_t> act256_;          // [kMaxBatch] ActQ8x256 rows of the widest input
  std::vector<float> logits_batch_;      // [kMaxBatch][vocab] (DecodeBatch)
};

}  // namespace slm

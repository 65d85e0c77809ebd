#include "runtime/session.h"

#include <algorithm>
#include <cstring>
#include <string>
#if !defined(__wasi__)
#include <thread>
#endif

#include "base/byte_reader.h"
#include "base/math.h"
#include "runtime/session_file.h"

namespace slm {

StatusOr<std::unique_ptr<Session>> Session::Create(const Model& m, SessionOptions o) {
  const ModelConfig& c = m.config();
  if (o.n_ctx < 0 || o.n_ctx > c.max_seq_len) {
    return InvalidArgument("session n_ctx = " + std::to_string(o.n_ctx) + ", expected 0..." +
                           std::to_string(c.max_seq_len) + " (the model's context length)");
  }
  if (o.n_threads < 0) {
    return InvalidArgument("session n_threads = " + std::to_string(o.n_threads) +
                           ", expected 0 (default) or a positive count");
  }
  const int32_t n_ctx = o.n_ctx == 0 ? c.max_seq_len : o.n_ctx;
  int32_t n_threads = o.n_threads;
#if defined(__wasi__)
  n_threads = 1;  // no threads in wasm32-wasi builds
#else
  if (n_threads == 0) {
    const unsigned hw = std::thread::hardware_concurrency();
    n_threads = hw == 0 ? 1 : hw > 4 ? 4 : static_cast<int32_t>(hw);
  }
#endif
  if (o.kv_budget_mib < 0) {
    return InvalidArgument("session kv_budget_mib = " + std::to_string(o.kv_budget_mib) +
                           ", expected 0 (one context) or a positive size in MiB");
  }
  // The arena: n_pages pages of KvCache::PageFloats floats; it must fit this
  // address space (and the page ids an int32).
  const uint64_t page_bytes =
      static_cast<uint64_t>(KvCache::PageFloats(c.n_layers, c.kv_dim())) * sizeof(float);
  const uint64_t ctx_pages =
      (static_cast<uint64_t>(n_ctx) + KvCache::kPageTokens - 1) / KvCache::kPageTokens;
  const uint64_t n_pages = o.kv_budget_mib == 0
                               ? ctx_pages
                               : (static_cast<uint64_t>(o.kv_budget_mib) << 20) / page_bytes;
  if (n_pages == 0) {
    return InvalidArgument("KV budget of " + std::to_string(o.kv_budget_mib) +
                           " MiB holds no page; one page (" + std::to_string(KvCache::kPageTokens) +
                           " positions) is " + std::to_string(page_bytes) + " bytes");
  }
  const uint64_t limit = sizeof(size_t) == 4 ? (uint64_t{1} << 30) : (uint64_t{1} << 40);
  uint64_t cache_bytes = 0;
  if (!CheckedMul(n_pages, page_bytes, &cache_bytes) || cache_bytes > limit ||
      n_pages > (uint64_t{1} << 24)) {
    return ResourceExhausted("KV cache of " + std::to_string(n_pages) + " pages needs " +
                             std::to_string(cache_bytes) + " bytes, above the limit of " +
                             std::to_string(limit) + "; pass a smaller n_ctx or KV budget");
  }
  std::unique_ptr<Session> s(new Session(m, n_ctx, n_threads,
                                         o.kernels != nullptr ? *o.kernels : Kernels(),
                                         static_cast<int32_t>(n_pages), o.prefix_reuse));
  return s;
}

Session::Session(const Model& m, int32_t n_ctx, int32_t n_threads, const KernelTable& k,
                 int32_t n_pages, bool prefix_reuse)
    : model_(m),
      k_(k),
      pool_(n_threads),
      n_ctx_(n_ctx),
      max_pages_((n_ctx + KvCache::kPageTokens - 1) / KvCache::kPageTokens),
      prefix_reuse_(prefix_reuse),
      kv_(m.config().n_layers, m.config().kv_dim(), n_pages) {
  const ModelConfig& c = m.config();
  fingerprint_ = ModelFingerprint(m);
  seqs_.resize(kMaxSequences);
  seqs_[0].live = true;
  seqs_[0].pages.reserve(static_cast<size_t>(max_pages_));
  seqs_[0].logits.resize(static_cast<size_t>(c.vocab_size));
  reuse_.reserve(static_cast<size_t>(max_pages_));
  // RoPE: angle(pos, j) = pos * theta^(-2j / head_dim), computed in double with
  // our own math (bit-identical everywhere), rounded once to float.
  const int32_t half = c.head_dim / 2;
  rope_cos_.resize(static_cast<size_t>(n_ctx) * half);
  rope_sin_.resize(static_cast<size_t>(n_ctx) * half);
  std::vector<double> freq(static_cast<size_t>(half));
  for (int32_t j = 0; j < half; ++j) {
    freq[j] = PowD(static_cast<double>(c.rope_theta),
                   -2.0 * static_cast<double>(j) / static_cast<double>(c.head_dim));
  }
  for (int32_t pos = 0; pos < n_ctx; ++pos) {
    for (int32_t j = 0; j < half; ++j) {
      const double angle = static_cast<double>(pos) * freq[j];
      rope_cos_[static_cast<size_t>(pos) * half + j] = static_cast<float>(CosD(angle));
      rope_sin_[static_cast<size_t>(pos) * half + j] = static_cast<float>(SinD(angle));
    }
  }
  const size_t batch = kMaxBatch;
  x_.resize(batch * c.dim);
  xb_.resize(batch * c.dim);
  q_.resize(batch * c.q_dim());
  kb_.resize(batch * c.kv_dim());
  vb_.resize(batch * c.kv_dim());
  att_.resize(batch * c.q_dim());
  hb_.resize(batch * c.hidden_dim);
  hb2_.resize(batch * c.hidden_dim);
  scores_.resize(static_cast<size_t>(pool_.size()) * n_ctx);
  page_ptrs_.resize(static_cast<size_t>(pool_.size()) * 2 * static_cast<size_t>(max_pages_));
  // The widest matmul input, rounded up to whole 256-value blocks.
  int32_t max_in = c.dim > c.hidden_dim ? c.dim : c.hidden_dim;
  max_in = max_in > c.q_dim() ? max_in : c.q_dim();
  max_in = (max_in + 255) / 256 * 256;
  act32_.resize(batch * ActBytes(ActFormat::kQ8x32, max_in));
  act256_.resize(batch * ActBytes(ActFormat::kQ8x256, max_in));
  logits_batch_.resize(batch * static_cast<size_t>(c.vocab_size));
}

namespace {
constexpr int32_t kPage = KvCache::kPageTokens;
const KvCache::Checksum kNoChecksum{};
}  // namespace

const KvCache::Checksum& Session::Checksum() const {
  return deltas_ != nullptr ? deltas_->checksum() : kNoChecksum;
}

Status Session::CheckSeq(SeqId s) const {
  if (s < 0 || s >= kMaxSequences || !seqs_[s].live) {
    return InvalidArgument("sequence " + std::to_string(s) + " is not a live sequence");
  }
  return Status::Ok();
}

Status Session::CheckIds(std::span<const int32_t> ids, int32_t position) const {
  if (ids.empty()) return InvalidArgument("prompt is empty; expected at least one token id");
  const int32_t vocab = model_.config().vocab_size;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      return InvalidArgument("token id " + std::to_string(ids[i]) + " at prompt index " +
                             std::to_string(i) + " is outside the vocabulary of " +
                             std::to_string(vocab) + " tokens");
    }
  }
  if (ids.size() > static_cast<size_t>(n_ctx_ - position)) {
    return OutOfRange("prompt of " + std::to_string(ids.size()) + " tokens at position " +
                      std::to_string(position) + " exceeds the context of " +
                      std::to_string(n_ctx_) + " tokens");
  }
  return Status::Ok();
}

Status Session::NoPages(int32_t needed) const {
  const KvStats st = kv_.Stats();
  return ResourceExhausted(
      "KV cache budget exhausted: " + std::to_string(needed) + " pages needed, " +
      std::to_string(kv_.Available()) + " free or evictable, of " + std::to_string(st.pages_total) +
      " pages (" + std::to_string(st.arena_bytes) + " bytes, " + std::to_string(kPage) +
      " positions per page) all held by live sequences; free a sequence or raise the KV budget");
}

void Session::ReleasePages(Seq& q) {
  // Last page first: the LRU then evicts a prefix's tails before its root,
  // which every later prompt with that prefix needs.
  for (size_t i = q.pages.size(); i > 0; --i) kv_.Unref(q.pages[i - 1]);
  q.pages.clear();
  q.position = 0;
  q.has_logits = false;
  q.batch_row = -1;
  q.chain = 0;
  q.shareable = true;
}

StatusOr<SeqId> Session::NewSequence() {
  for (SeqId s = 1; s < kMaxSequences; ++s) {
    Seq& q = seqs_[s];
    if (q.live) continue;
    q.live = true;
    q.pages.reserve(static_cast<size_t>(max_pages_));
    q.logits.resize(static_cast<size_t>(model_.config().vocab_size));
    ReleasePages(q);
    return s;
  }
  return ResourceExhausted("all " + std::to_string(kMaxSequences) +
                           " sequences of the session are live; free one first");
}

Status Session::FreeSequence(SeqId s) {
  if (s == 0) return InvalidArgument("sequence 0 cannot be freed; reset it instead");
  SLM_RETURN_IF_ERROR(CheckSeq(s));
  ReleasePages(seqs_[s]);
  seqs_[s].live = false;
  return Status::Ok();
}

Status Session::ResetSequence(SeqId s) {
  SLM_RETURN_IF_ERROR(CheckSeq(s));
  ReleasePages(seqs_[s]);
  return Status::Ok();
}

std::span<const float> Session::logits(SeqId s) const {
  if (s < 0 || s >= kMaxSequences || !seqs_[s].live || !seqs_[s].has_logits) return {};
  return {LogitsData(seqs_[s]), seqs_[s].logits.size()};
}

const float* Session::LogitsData(const Seq& q) const {
  if (q.batch_row < 0) return q.logits.data();
  return logits_batch_.data() + static_cast<size_t>(q.batch_row) * q.logits.size();
}

void Session::MaterializeLogits(Seq& q) {
  if (q.batch_row < 0) return;
  std::memcpy(q.logits.data(), LogitsData(q), q.logits.size() * sizeof(float));
  q.batch_row = -1;
}

int32_t Session::position(SeqId s) const {
  if (s < 0 || s >= kMaxSequences || !seqs_[s].live) return -1;
  return seqs_[s].position;
}

Status Session::Tokens(SeqId s, std::vector<int32_t>* out) const {
  SLM_RETURN_IF_ERROR(CheckSeq(s));
  const Seq& q = seqs_[s];
  out->resize(static_cast<size_t>(q.position));
  for (int32_t pos = 0; pos < q.position; ++pos) {
    (*out)[pos] = kv_.tokens(q.pages[pos / kPage])[pos % kPage];
  }
  return Status::Ok();
}

KvStats Session::kv_stats() const {
  KvStats st = kv_.Stats();
  for (const Seq& q : seqs_) {
    if (q.live) st.tokens_in_cache += q.position;
  }
  return st;
}

void Session::NoteToken(SeqId s, int32_t pos, int32_t id) {
  Seq& q = seqs_[s];
  const KvCache::Checksum& cs = Checksum();
  if (cs != q.checksum) q.shareable = false;  // deltas changed mid-sequence
  const int32_t page = q.pages[pos / kPage];
  const int32_t row = pos % kPage;
  kv_.NoteToken(page, row, id, q.chain, cs, q.shareable);
  if (row == kPage - 1) {
    const KvCache::Key key = KvCache::ChainKey(q.chain, kv_.tokens(page), cs);
    if (q.shareable) kv_.Publish(page, key);
    q.chain = key;
  }
  q.position = pos + 1;
}

// Prefix reuse (docs/kv-cache.md): when the sequence sits at a page boundary
// of an unmixed chain, whole cached pages that match the prompt are taken by
// reference (leaving at least one token to compute, for the logits), then the
// longest partial match of the next page is copied (copy-on-write: the source
// page is never written). All pages are reserved before anything is computed,
// so an exhausted budget changes nothing.
Status Session::Run(SeqId s, std::span<const int32_t> ids, bool prompt) {
  SLM_RETURN_IF_ERROR(CheckSeq(s));
  Seq& q = seqs_[s];
  SLM_RETURN_IF_ERROR(CheckIds(ids, q.position));
  const KvCache::Checksum& cs = Checksum();
  const int32_t n = static_cast<int32_t>(ids.size());
  const bool fresh = q.position == 0;
  int32_t reused = 0, cow_src = -1, cow_n = 0;
  reuse_.clear();
  if (prefix_reuse_ && q.position % kPage == 0 && (fresh || (q.shareable && q.checksum == cs))) {
    KvCache::Key key = fresh ? 0 : q.chain;
    while (n - reused > kPage) {
      const int32_t p = kv_.Find(key, ids.data() + reused, cs);
      if (p < 0) break;
      reuse_.push_back(p);
      key = kv_.key(p);
      reused += kPage;
    }
    const int32_t lim = n - reused - 1 < kPage ? n - reused - 1 : kPage;
    if (lim > 0) cow_src = kv_.FindPartial(key, ids.data() + reused, lim, cs, &cow_n);
  }
  // Pin what we reuse (a cached page must not be evicted by our own
  // allocations), then check the budget.
  for (int32_t p : reuse_) kv_.Ref(p);
  if (cow_src >= 0) kv_.Ref(cow_src);
  const int32_t total = (q.position + n + kPage - 1) / kPage;
  const int32_t need =
      total - static_cast<int32_t>(q.pages.size()) - static_cast<int32_t>(reuse_.size());
  if (need > kv_.Available()) {
    Status err = NoPages(need);
    for (int32_t p : reuse_) kv_.Unref(p);
    if (cow_src >= 0) kv_.Unref(cow_src);
    return err;
  }
  if (fresh) {
    q.checksum = cs;
    q.shareable = true;
    q.chain = 0;
  }
  for (int32_t p : reuse_) {
    q.pages.push_back(p);
    q.chain = kv_.key(p);
  }
  q.position += reused;
  for (int32_t i = 0; i < need; ++i) q.pages.push_back(kv_.Allocate());
  if (cow_src >= 0) {
    const int32_t dst = q.pages[q.position / kPage];
    kv_.CopyRows(dst, cow_src, cow_n);
    for (int32_t r = 0; r < cow_n; ++r) NoteToken(s, q.position, ids[reused + r]);
    kv_.Unref(cow_src);
    reused += cow_n;
  }
  if (prompt) kv_.CountPrompt(n, reused);
  for (int32_t i = reused; i < n; i += kMaxBatch) {
    const int32_t m = n - i < kMaxBatch ? n - i : kMaxBatch;
    for (int32_t t = 0; t < m; ++t) {
      tok_seq_[t] = s;
      tok_pos_[t] = q.position + t;
    }
    Forward(ids.data() + i, m, i + m == n ? 1 : 0);
  }
  return Status::Ok();
}

Status Session::DecodeBatch(std::span<const SeqId> seqs, std::span<const int32_t> ids) {
  if (seqs.size() != ids.size() || seqs.empty() || seqs.size() > kMaxBatch) {
    return InvalidArgument("DecodeBatch of " + std::to_string(seqs.size()) + " sequences and " +
                           std::to_string(ids.size()) + " ids; expected 1.." +
                           std::to_string(kMaxBatch) + " of each, as many ids as sequences");
  }
  const int32_t n = static_cast<int32_t>(seqs.size());
  int32_t need = 0;
  for (int32_t i = 0; i < n; ++i) {
    SLM_RETURN_IF_ERROR(CheckSeq(seqs[i]));
    for (int32_t j = 0; j < i; ++j) {
      if (seqs[j] == seqs[i]) {
        return InvalidArgument("sequence " + std::to_string(seqs[i]) +
                               " appears twice in one DecodeBatch");
      }
    }
    const Seq& q = seqs_[seqs[i]];
    SLM_RETURN_IF_ERROR(CheckIds(ids.subspan(static_cast<size_t>(i), 1), q.position)
                            .WithContext("sequence " + std::to_string(seqs[i]) + ": "));
    if (q.position == static_cast<int32_t>(q.pages.size()) * kPage) ++need;
  }
  if (need > kv_.Available()) return NoPages(need);
  const KvCache::Checksum& cs = Checksum();
  for (int32_t i = 0; i < n; ++i) {
    Seq& q = seqs_[seqs[i]];
    if (q.position == 0) {
      q.checksum = cs;
      q.shareable = true;
      q.chain = 0;
    }
    if (q.position == static_cast<int32_t>(q.pages.size()) * kPage) {
      q.pages.push_back(kv_.Allocate());
    }
    tok_seq_[i] = seqs[i];
    tok_pos_[i] = q.position;
  }
  Forward(ids.data(), n, 2);
  return Status::Ok();
}

void Session::MatMuls(std::initializer_list<MatMulJob> jobs, int32_t n_tok) {
  struct Prepared {
    MatMulFn fn;
    const WeightView* w;
    float* y;
    int64_t y_stride;
    const uint8_t* x;
    int64_t x_stride;
  };
  // A chunk is rows [r0, r1) of job `job`; see the schedule below.
  struct Chunk {
    int32_t job, r0, r1;
  };
  static constexpr int32_t kMaxCallChunks = 512;
  struct Ctx {
    Prepared p[3];
    int32_t n_jobs;
    int32_t n_tok;
    int32_t n_chunks;
    Chunk chunks[kMaxCallChunks];  // the first n_chunks are set
  } ctx;
  ctx.n_jobs = ctx.n_chunks = 0;
  const float* quantized[3] = {nullptr, nullptr, nullptr};  // source of act32_ / act256_
  for (const MatMulJob& j : jobs) {
    const int32_t in = j.w->cols;
    const ActFormat a = ActFormatOf(j.w->format);
    const int64_t stride = ActBytes(a, in);
    const uint8_t* x = reinterpret_cast<const uint8_t*>(j.x);
    if (a != ActFormat::kF32) {
      const bool is32 = a == ActFormat::kQ8x32;
      uint8_t* buf = is32 ? act32_.data() : act256_.data();
      if (quantized[static_cast<int>(a)] != j.x) {
        const QuantizeActFn q = is32 ? k_.quantize_q8x32 : k_.quantize_q8x256;
        ForTokens(n_tok,
                  [&](int32_t t) { q(j.x + static_cast<int64_t>(t) * in, buf + t * stride, in); });
        quantized[static_cast<int>(a)] = j.x;
      }
      x = buf;
    }
    ctx.p[ctx.n_jobs++] = {
        k_.matmul[static_cast<int>(j.w->format)], j.w, j.y, j.y_stride, x, stride};
  }
  ctx.n_tok = n_tok;
  // Chunks of whole rows, handed out dynamically (ThreadPool::RunChunks) in
  // guided sizes: each takes 1 / (2 * threads) of the work still unassigned
  // (rows x cols over all jobs), rounded up to 64 rows for one token (whole
  // groups of the page-strided decode tiles: 32 rows for q4_k / q8_0 at
  // in = 2048, 64 for q4_0) and to 16 for a batch (compute-bound: finer tails
  // balance the threads better). Big chunks first keep each thread on one
  // long stream (a chunk's first rows start cold: with ~16 fixed chunks per
  // job, TinyLlama decoded ~3% slower), small ones last let the threads finish
  // together, and a preempted worker holds up one chunk, not half the rows.
  // Each output row is computed whole by one kernel call, so the result does
  // not depend on which thread took which chunk.
  {
    int64_t left = 0;
    for (int32_t j = 0; j < ctx.n_jobs; ++j) left += int64_t{ctx.p[j].w->rows} * ctx.p[j].w->cols;
    const int64_t parts = 2 * int64_t{pool_.size()};
    const int64_t align = n_tok == 1 ? 64 : 16;
    for (int32_t j = 0; j < ctx.n_jobs; ++j) {
      const int32_t rows = ctx.p[j].w->rows, cols = ctx.p[j].w->cols;
      for (int32_t r = 0; r < rows;) {
        int64_t cr = std::max((left / parts / cols + align - 1) / align * align, align);
        // Keep room for one chunk per job still to come.
        if (ctx.n_chunks + ctx.n_jobs - j >= kMaxCallChunks) cr = rows;
        cr = std::min<int64_t>(cr, rows - r);
        ctx.chunks[ctx.n_chunks++] = {j, r, r + static_cast<int32_t>(cr)};
        left -= cr * cols;
        r += static_cast<int32_t>(cr);
      }
    }
  }
  auto task = [](void* v, int32_t chunk) {
    const Ctx& c = *static_cast<const Ctx*>(v);
    const Chunk& k = c.chunks[chunk];
    const Prepared& p = c.p[k.job];
    p.fn(p.y, p.y_stride, p.w->data, p.x, p.x_stride, p.w->cols, k.r0, k.r1, c.n_tok);
  };
  // Small products (tiny models, 1-D jobs) run on the calling thread: waking
  // a worker costs more than the work, and far more when the other core is
  // busy. Rows are independent, so the result is the same either way.
  constexpr int64_t kMinParallelMacs = int64_t{1} << 17;
  int64_t macs = 0;
  for (int32_t j = 0; j < ctx.n_jobs; ++j) {
    macs += static_cast<int64_t>(ctx.p[j].w->rows) * ctx.p[j].w->cols * n_tok;
  }
  if (macs < kMinParallelMacs || pool_.size() == 1) {
    for (int32_t j = 0; j < ctx.n_jobs; ++j) {
      const Prepared& p = ctx.p[j];
      p.fn(p.y, p.y_stride, p.w->data, p.x, p.x_stride, p.w->cols, 0, p.w->rows, n_tok);
    }
  } else {
    pool_.RunChunks(task, &ctx, ctx.n_chunks);
  }
  if (deltas_ == nullptr) return;
  for (const MatMulJob& j : jobs) {
    if (deltas_->HasMatMul(j.layer, j.slot))
      deltas_->AddMatMul(j.layer, j.slot, j.y, j.y_stride, j.x, n_tok);
  }
}

// Work items are (token, part of its kv heads): with at least as many tokens
// as threads one part per token; with fewer (decode) each token's kv heads are
// split in up to n_threads parts, since a single token's attention over a long
// context is otherwise a serial stretch of the step (stories110M at 2 threads
// and 64 positions: ~14% of the step's wall time on one thread). Heads are
// independent (kernels.h), so the split never changes a bit.
void Session::AttentionBatch(int32_t layer, int32_t n) {
  const ModelConfig& cfg = model_.config();
  const int32_t n_threads = pool_.size();
  struct Ctx {
    Session* s;
    int32_t layer, n, parts;
  } ctx{this, layer, n, 1};
  if (n < n_threads) ctx.parts = std::min(n_threads, cfg.n_kv_heads);
  auto task = [](void* v, int32_t i, int32_t n_threads) {
    const Ctx& c = *static_cast<const Ctx*>(v);
    Session& s = *c.s;
    const ModelConfig& cfg = s.model_.config();
    const int32_t group = cfg.n_heads / cfg.n_kv_heads, kv_dim = cfg.kv_dim();
    // This thread's page pointer rows: K pages, then V pages.
    const float** kp = s.page_ptrs_.data() + static_cast<size_t>(i) * 2 * s.max_pages_;
    const float** vp = kp + s.max_pages_;
    for (int32_t item = i; item < c.n * c.parts; item += n_threads) {
      const int32_t t = item / c.parts, part = item % c.parts;
      const int32_t g0 = cfg.n_kv_heads * part / c.parts;
      const int32_t g1 = cfg.n_kv_heads * (part + 1) / c.parts;
      const Seq& q = s.seqs_[s.tok_seq_[t]];
      const int32_t n_pos = s.tok_pos_[t] + 1;
      const int32_t n_pages = (n_pos + kPage - 1) / kPage;
      const int64_t kv_off = static_cast<int64_t>(g0) * cfg.head_dim;
      for (int32_t p = 0; p < n_pages; ++p) {
        kp[p] = s.kv_.K(q.pages[p], c.layer) + kv_off;
        vp[p] = s.kv_.V(q.pages[p], c.layer) + kv_off;
      }
      const int64_t off = static_cast<int64_t>(t) * cfg.q_dim() + kv_off * group;
      s.k_.attention(s.att_.data() + off, s.q_.data() + off, kp, vp, kPage,
                     s.scores_.data() + static_cast<size_t>(i) * s.n_ctx_, n_pos, (g1 - g0) * group,
                     g1 - g0, cfg.head_dim, kv_dim);
    }
  };
  // A shorter decode attention costs less than waking the pool.
  const int64_t work = static_cast<int64_t>(tok_pos_[0] + 1) * cfg.q_dim();
  if (n == 1 && (ctx.parts == 1 || work < kSplitAttentionMin)) {
    ctx.parts = 1;
    task(&ctx, 0, 1);
  } else {
    pool_.Run(task, &ctx);
  }
}

// The llama forward pass for a batch of n tokens, as in the paper (each line
// runs for every token t of the batch, position tok_pos_[t] of sequence
// tok_seq_[t]):
//   x = embed(id)
//   per layer: h = RMSNorm(x); q, k, v = Wq h (+bq), Wk h (+bk), Wv h (+bv);
//              RoPE(q, k); cache k, v; x += Wo Attention(q, K, V)
//              h = RMSNorm(x); x += Wdown (SiLU(Wgate h) * Wup h)
//   logits = Wout RMSNorm(x)        (last token, or every token)
void Session::Forward(const int32_t* ids, int32_t n, int32_t want_logits) {
  const ModelConfig& c = model_.config();
  const int32_t dim = c.dim, hidden = c.hidden_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim();
  const int32_t half = c.head_dim / 2;
  float* x = x_.data();
  float* xb = xb_.data();
  float* q = q_.data();
  float* k = kb_.data();
  float* v = vb_.data();
  float* hb = hb_.data();
  float* hb2 = hb2_.data();
  float* att = att_.data();
  const size_t row_bytes = static_cast<size_t>(kv_dim) * sizeof(float);

  const WeightDeltas* d = deltas_;
  // A 1-D weight: the deltas' replacement if any, else the base's.
  auto vec = [d](const float* base, int32_t layer, VectorSlot slot) {
    const float* r = d != nullptr ? d->Vector(layer, slot) : nullptr;
    return r != nullptr ? r : base;
  };
  for (int32_t t = 0; t < n; ++t) {
    model_.Embed(ids[t], x + t * dim);
    if (d != nullptr) d->AddEmbedding(ids[t], x + t * dim);
  }

  for (int32_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& w = model_.layer(l);

    // Attention block.
    ForTokens(n, [&](int32_t t) {
      k_.rmsnorm(xb + t * dim, x + t * dim, vec(w.attn_norm, l, VectorSlot::kAttnNorm), dim,
                 c.norm_eps);
    });
    MatMuls({{&w.wq, q, q_dim, xb, l, MatrixSlot::kQ},
             {&w.wk, k, kv_dim, xb, l, MatrixSlot::kK},
             {&w.wv, v, kv_dim, xb, l, MatrixSlot::kV}},
            n);
    ForTokens(n, [&](int32_t t) {
      float* qt = q + t * q_dim;
      float* kt = k + t * kv_dim;
      float* vt = v + t * kv_dim;
      if (c.qkv_bias) {
        k_.add(qt, vec(w.bq, l, VectorSlot::kBq), q_dim);
        k_.add(kt, vec(w.bk, l, VectorSlot::kBk), kv_dim);
        k_.add(vt, vec(w.bv, l, VectorSlot::kBv), kv_dim);
      }
      const int32_t pos = tok_pos_[t];
      const float* cos_t = rope_cos_.data() + static_cast<size_t>(pos) * half;
      const float* sin_t = rope_sin_.data() + static_cast<size_t>(pos) * half;
      k_.rope(qt, c.n_heads, c.head_dim, cos_t, sin_t, c.rope_style);
      k_.rope(kt, c.n_kv_heads, c.head_dim, cos_t, sin_t, c.rope_style);
      // Into the sequence's page (row pos % kPage); every batch row is
      // written before any token of the batch attends.
      const int32_t page = seqs_[tok_seq_[t]].pages[pos / kPage];
      const int64_t row = static_cast<int64_t>(pos % kPage) * kv_dim;
      std::memcpy(kv_.K(page, l) + row, kt, row_bytes);
      std::memcpy(kv_.V(page, l) + row, vt, row_bytes);
    });
    AttentionBatch(l, n);
    MatMuls({{&w.wo, xb, dim, att, l, MatrixSlot::kO}}, n);
    // The residual, then the feed-forward block's (SwiGLU) norm.
    ForTokens(n, [&](int32_t t) {
      k_.add(x + t * dim, xb + t * dim, dim);
      k_.rmsnorm(xb + t * dim, x + t * dim, vec(w.ffn_norm, l, VectorSlot::kFfnNorm), dim,
                 c.norm_eps);
    });
    MatMuls({{&w.w_gate, hb, hidden, xb, l, MatrixSlot::kGate},
             {&w.w_up, hb2, hidden, xb, l, MatrixSlot::kUp}},
            n);
    ForTokens(n, [&](int32_t t) { k_.swiglu(hb + t * hidden, hb2 + t * hidden, hidden); });
    MatMuls({{&w.w_down, xb, dim, hb, l, MatrixSlot::kDown}}, n);
    ForTokens(n, [&](int32_t t) { k_.add(x + t * dim, xb + t * dim, dim); });
  }

  for (int32_t t = 0; t < n; ++t) NoteToken(tok_seq_[t], tok_pos_[t], ids[t]);
  if (want_logits == 0) return;
  const float* norm = vec(model_.output_norm(), -1, VectorSlot::kOutputNorm);
  if (want_logits == 1) {
    Seq& s = seqs_[tok_seq_[n - 1]];
    float* last = x + (n - 1) * dim;
    k_.rmsnorm(last, last, norm, dim, c.norm_eps);
    MatMuls({{&model_.output(), s.logits.data(), c.vocab_size, last, -1, MatrixSlot::kOutput}}, 1);
    s.has_logits = true;
    s.batch_row = -1;
    return;
  }
  // logits_batch_ is about to be overwritten: a sequence whose logits are a
  // row of it and that does not advance in this batch keeps them (copied).
  for (Seq& q : seqs_) {
    if (q.batch_row < 0) continue;
    bool advances = false;
    for (int32_t t = 0; t < n; ++t) advances = advances || &seqs_[tok_seq_[t]] == &q;
    if (!advances) MaterializeLogits(q);
  }
  for (int32_t t = 0; t < n; ++t) k_.rmsnorm(x + t * dim, x + t * dim, norm, dim, c.norm_eps);
  float* lb = logits_batch_.data();
  MatMuls({{&model_.output(), lb, c.vocab_size, x, -1, MatrixSlot::kOutput}}, n);
  for (int32_t t = 0; t < n; ++t) {
    Seq& s = seqs_[tok_seq_[t]];
    s.batch_row = t;
    s.has_logits = true;
  }
}

}  // namespace slm

#include "runtime/session.h"

#include <string>
#if !defined(__wasi__)
#include <thread>
#endif

#include "base/byte_reader.h"
#include "base/math.h"

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
  // Two caches of n_layers * n_ctx * kv_dim floats must fit this address space.
  uint64_t cache_floats = 0, cache_bytes = 0;
  const uint64_t limit = sizeof(size_t) == 4 ? (uint64_t{1} << 30) : (uint64_t{1} << 40);
  if (!CheckedMul(static_cast<uint64_t>(c.n_layers) * static_cast<uint64_t>(n_ctx),
                  static_cast<uint64_t>(c.kv_dim()), &cache_floats) ||
      !CheckedMul(cache_floats, 8, &cache_bytes) || cache_bytes > limit) {
    return ResourceExhausted("KV cache for n_ctx " + std::to_string(n_ctx) + " needs " +
                             std::to_string(cache_bytes) + " bytes, above the limit of " +
                             std::to_string(limit) + "; pass a smaller n_ctx");
  }
  std::unique_ptr<Session> s(
      new Session(m, n_ctx, n_threads, o.kernels != nullptr ? *o.kernels : Kernels()));
  return s;
}

Session::Session(const Model& m, int32_t n_ctx, int32_t n_threads, const KernelTable& k)
    : model_(m), k_(k), pool_(n_threads), n_ctx_(n_ctx) {
  const ModelConfig& c = m.config();
  const size_t cache = static_cast<size_t>(c.n_layers) * static_cast<size_t>(n_ctx) *
                       static_cast<size_t>(c.kv_dim());
  key_cache_.assign(cache, 0.0f);
  value_cache_.assign(cache, 0.0f);
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
  att_.resize(batch * c.q_dim());
  hb_.resize(batch * c.hidden_dim);
  hb2_.resize(batch * c.hidden_dim);
  scores_.resize(static_cast<size_t>(pool_.size()) * n_ctx);
  // The widest matmul input, rounded up to whole 256-value blocks.
  int32_t max_in = c.dim > c.hidden_dim ? c.dim : c.hidden_dim;
  max_in = max_in > c.q_dim() ? max_in : c.q_dim();
  max_in = (max_in + 255) / 256 * 256;
  act32_.resize(batch * ActBytes(ActFormat::kQ8x32, max_in));
  act256_.resize(batch * ActBytes(ActFormat::kQ8x256, max_in));
  logits_.resize(c.vocab_size);
}

Status Session::CheckIds(std::span<const int32_t> ids) const {
  if (ids.empty()) return InvalidArgument("prompt is empty; expected at least one token id");
  const int32_t vocab = model_.config().vocab_size;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      return InvalidArgument("token id " + std::to_string(ids[i]) + " at prompt index " +
                             std::to_string(i) + " is outside the vocabulary of " +
                             std::to_string(vocab) + " tokens");
    }
  }
  if (ids.size() > static_cast<size_t>(n_ctx_ - position_)) {
    return OutOfRange("prompt of " + std::to_string(ids.size()) + " tokens at position " +
                      std::to_string(position_) + " exceeds the context of " +
                      std::to_string(n_ctx_) + " tokens");
  }
  return Status::Ok();
}

Status Session::Prefill(std::span<const int32_t> ids) {
  SLM_RETURN_IF_ERROR(CheckIds(ids));
  for (size_t i = 0; i < ids.size(); i += kMaxBatch) {
    const size_t n = ids.size() - i < kMaxBatch ? ids.size() - i : kMaxBatch;
    Forward(ids.data() + i, static_cast<int32_t>(n), i + n == ids.size());
  }
  return Status::Ok();
}

Status Session::Decode(int32_t id) { return Prefill(std::span<const int32_t>(&id, 1)); }

std::span<const float> Session::logits() const {
  if (!has_logits_) return {};
  return logits_;
}

void Session::Reset() {
  position_ = 0;
  has_logits_ = false;
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
  struct Ctx {
    Prepared p[3];
    int32_t n_jobs;
    int32_t n_tok;
  } ctx{};
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
        for (int32_t t = 0; t < n_tok; ++t)
          q(j.x + static_cast<int64_t>(t) * in, buf + t * stride, in);
        quantized[static_cast<int>(a)] = j.x;
      }
      x = buf;
    }
    ctx.p[ctx.n_jobs++] = {
        k_.matmul[static_cast<int>(j.w->format)], j.w, j.y, j.y_stride, x, stride};
  }
  ctx.n_tok = n_tok;
  auto task = [](void* v, int32_t i, int32_t n) {
    const Ctx& c = *static_cast<const Ctx*>(v);
    for (int32_t j = 0; j < c.n_jobs; ++j) {
      const Prepared& p = c.p[j];
      int32_t r0, r1;
      ThreadPool::Split(p.w->rows, i, n, 16, &r0, &r1);
      if (r0 < r1) p.fn(p.y, p.y_stride, p.w->data, p.x, p.x_stride, p.w->cols, r0, r1, c.n_tok);
    }
  };
  // Small products (tiny models, 1-D jobs) run on the calling thread: waking
  // a worker costs more than the work, and far more when the other core is
  // busy. Rows are independent, so the result is the same either way.
  constexpr int64_t kMinParallelMacs = int64_t{1} << 17;
  int64_t macs = 0;
  for (int32_t j = 0; j < ctx.n_jobs; ++j) {
    macs += static_cast<int64_t>(ctx.p[j].w->rows) * ctx.p[j].w->cols * n_tok;
  }
  if (macs < kMinParallelMacs) {
    task(&ctx, 0, 1);
  } else {
    pool_.Run(task, &ctx);
  }
  if (deltas_ == nullptr) return;
  for (const MatMulJob& j : jobs) {
    if (deltas_->HasMatMul(j.layer, j.slot))
      deltas_->AddMatMul(j.layer, j.slot, j.y, j.y_stride, j.x, n_tok);
  }
}

void Session::AttentionBatch(int32_t layer, int32_t pos0, int32_t n) {
  struct Ctx {
    Session* s;
    int32_t layer, pos0, n;
  } ctx{this, layer, pos0, n};
  auto task = [](void* v, int32_t i, int32_t n_threads) {
    const Ctx& c = *static_cast<const Ctx*>(v);
    Session& s = *c.s;
    const ModelConfig& cfg = s.model_.config();
    const size_t layer_off = static_cast<size_t>(c.layer) * s.n_ctx_ * cfg.kv_dim();
    for (int32_t t = i; t < c.n; t += n_threads) {
      const int64_t off = static_cast<int64_t>(t) * cfg.q_dim();
      s.k_.attention(s.att_.data() + off, s.q_.data() + off, s.key_cache_.data() + layer_off,
                     s.value_cache_.data() + layer_off, s.scores_.data() + i * s.n_ctx_,
                     c.pos0 + t + 1, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim);
    }
  };
  if (n == 1) {
    task(&ctx, 0, 1);  // decode: not worth a dispatch
  } else {
    pool_.Run(task, &ctx);
  }
}

// The llama forward pass for a batch of n tokens, as in the paper (each line
// runs for every token t of the batch, position pos0 + t):
//   x = embed(id)
//   per layer: h = RMSNorm(x); q, k, v = Wq h (+bq), Wk h (+bk), Wv h (+bv);
//              RoPE(q, k); cache k, v; x += Wo Attention(q, K, V)
//              h = RMSNorm(x); x += Wdown (SiLU(Wgate h) * Wup h)
//   logits = Wout RMSNorm(x)        (last token only)
void Session::Forward(const int32_t* ids, int32_t n, bool want_logits) {
  const ModelConfig& c = model_.config();
  const int32_t dim = c.dim, hidden = c.hidden_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim();
  const int32_t pos0 = position_;
  const int32_t half = c.head_dim / 2;
  float* x = x_.data();
  float* xb = xb_.data();
  float* q = q_.data();
  float* hb = hb_.data();
  float* hb2 = hb2_.data();
  float* att = att_.data();

  const WeightDeltas* d = deltas_;
  // A 1-D weight: the deltas' replacement if any, else the base's.
  auto vec = [d](const float* base, int32_t layer, VectorSlot slot) {
    const float* v = d != nullptr ? d->Vector(layer, slot) : nullptr;
    return v != nullptr ? v : base;
  };
  for (int32_t t = 0; t < n; ++t) {
    model_.Embed(ids[t], x + t * dim);
    if (d != nullptr) d->AddEmbedding(ids[t], x + t * dim);
  }

  for (int32_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& w = model_.layer(l);
    const size_t layer_off = static_cast<size_t>(l) * n_ctx_ * kv_dim;
    // This batch's rows of the layer's cache: [n][kv_dim] at position pos0.
    float* k = key_cache_.data() + layer_off + static_cast<size_t>(pos0) * kv_dim;
    float* v = value_cache_.data() + layer_off + static_cast<size_t>(pos0) * kv_dim;

    // Attention block.
    for (int32_t t = 0; t < n; ++t)
      k_.rmsnorm(xb + t * dim, x + t * dim, vec(w.attn_norm, l, VectorSlot::kAttnNorm), dim,
                 c.norm_eps);
    MatMuls({{&w.wq, q, q_dim, xb, l, MatrixSlot::kQ},
             {&w.wk, k, kv_dim, xb, l, MatrixSlot::kK},
             {&w.wv, v, kv_dim, xb, l, MatrixSlot::kV}},
            n);
    for (int32_t t = 0; t < n; ++t) {
      float* qt = q + t * q_dim;
      float* kt = k + t * kv_dim;
      if (c.qkv_bias) {
        k_.add(qt, vec(w.bq, l, VectorSlot::kBq), q_dim);
        k_.add(kt, vec(w.bk, l, VectorSlot::kBk), kv_dim);
        k_.add(v + t * kv_dim, vec(w.bv, l, VectorSlot::kBv), kv_dim);
      }
      const float* cos_t = rope_cos_.data() + static_cast<size_t>(pos0 + t) * half;
      const float* sin_t = rope_sin_.data() + static_cast<size_t>(pos0 + t) * half;
      k_.rope(qt, c.n_heads, c.head_dim, cos_t, sin_t, c.rope_style);
      k_.rope(kt, c.n_kv_heads, c.head_dim, cos_t, sin_t, c.rope_style);
    }
    AttentionBatch(l, pos0, n);
    MatMuls({{&w.wo, xb, dim, att, l, MatrixSlot::kO}}, n);
    for (int32_t t = 0; t < n; ++t) k_.add(x + t * dim, xb + t * dim, dim);

    // Feed-forward block (SwiGLU).
    for (int32_t t = 0; t < n; ++t)
      k_.rmsnorm(xb + t * dim, x + t * dim, vec(w.ffn_norm, l, VectorSlot::kFfnNorm), dim,
                 c.norm_eps);
    MatMuls({{&w.w_gate, hb, hidden, xb, l, MatrixSlot::kGate},
             {&w.w_up, hb2, hidden, xb, l, MatrixSlot::kUp}},
            n);
    for (int32_t t = 0; t < n; ++t) k_.swiglu(hb + t * hidden, hb2 + t * hidden, hidden);
    MatMuls({{&w.w_down, xb, dim, hb, l, MatrixSlot::kDown}}, n);
    for (int32_t t = 0; t < n; ++t) k_.add(x + t * dim, xb + t * dim, dim);
  }

  position_ = pos0 + n;
  if (want_logits) {
    float* last = x + (n - 1) * dim;
    k_.rmsnorm(last, last, vec(model_.output_norm(), -1, VectorSlot::kOutputNorm), dim,
               c.norm_eps);
    MatMuls({{&model_.output(), logits_.data(), c.vocab_size, last, -1, MatrixSlot::kOutput}}, 1);
    has_logits_ = true;
  }
}

}  // namespace slm

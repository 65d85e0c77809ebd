#include "runtime/session.h"

#include <string>

#include "base/byte_reader.h"
#include "base/math.h"

namespace slm {

StatusOr<std::unique_ptr<Session>> Session::Create(const Model& m, SessionOptions o) {
  const ModelConfig& c = m.config();
  if (o.n_ctx < 0 || o.n_ctx > c.max_seq_len) {
    return InvalidArgument("session n_ctx = " + std::to_string(o.n_ctx) + ", expected 0..." +
                           std::to_string(c.max_seq_len) + " (the model's context length)");
  }
  const int32_t n_ctx = o.n_ctx == 0 ? c.max_seq_len : o.n_ctx;
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
  std::unique_ptr<Session> s(new Session(m, n_ctx));
  return s;
}

Session::Session(const Model& m, int32_t n_ctx) : model_(m), k_(Kernels()), n_ctx_(n_ctx) {
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
  x_.resize(c.dim);
  xb_.resize(c.dim);
  q_.resize(c.q_dim());
  att_.resize(c.q_dim());
  hb_.resize(c.hidden_dim);
  hb2_.resize(c.hidden_dim);
  scores_.resize(n_ctx);
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
  for (size_t i = 0; i < ids.size(); ++i) Forward(ids[i], i + 1 == ids.size());
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

// The llama forward pass for one token, as in the paper:
//   x = embed(id)
//   per layer: h = RMSNorm(x); q, k, v = Wq h (+bq), Wk h (+bk), Wv h (+bv);
//              RoPE(q, k); cache k, v; x += Wo Attention(q, K, V)
//              h = RMSNorm(x); x += Wdown (SiLU(Wgate h) * Wup h)
//   logits = Wout RMSNorm(x)
void Session::Forward(int32_t id, bool want_logits) {
  const ModelConfig& c = model_.config();
  const int32_t dim = c.dim, hidden = c.hidden_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim();
  const int32_t pos = position_;
  const int32_t half = c.head_dim / 2;
  const float* cos_t = rope_cos_.data() + static_cast<size_t>(pos) * half;
  const float* sin_t = rope_sin_.data() + static_cast<size_t>(pos) * half;
  float* x = x_.data();
  float* xb = xb_.data();
  float* q = q_.data();

  const float* emb = model_.token_embd() + static_cast<size_t>(id) * dim;
  for (int32_t i = 0; i < dim; ++i) x[i] = emb[i];

  for (int32_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& w = model_.layer(l);
    const size_t layer_off = static_cast<size_t>(l) * n_ctx_ * kv_dim;
    float* k_layer = key_cache_.data() + layer_off;    // [n_ctx][kv_dim]
    float* v_layer = value_cache_.data() + layer_off;  // [n_ctx][kv_dim]
    float* k = k_layer + static_cast<size_t>(pos) * kv_dim;  // this position's row
    float* v = v_layer + static_cast<size_t>(pos) * kv_dim;

    // Attention block.
    k_.rmsnorm(xb, x, w.attn_norm, dim, c.norm_eps);
    k_.matvec(q, w.wq, xb, q_dim, dim);
    k_.matvec(k, w.wk, xb, kv_dim, dim);
    k_.matvec(v, w.wv, xb, kv_dim, dim);
    if (c.qkv_bias) {
      k_.add(q, w.bq, q_dim);
      k_.add(k, w.bk, kv_dim);
      k_.add(v, w.bv, kv_dim);
    }
    k_.rope(q, c.n_heads, c.head_dim, cos_t, sin_t, c.rope_style);
    k_.rope(k, c.n_kv_heads, c.head_dim, cos_t, sin_t, c.rope_style);
    k_.attention(att_.data(), q, k_layer, v_layer, scores_.data(), pos + 1, c.n_heads,
                 c.n_kv_heads, c.head_dim);
    k_.matvec(xb, w.wo, att_.data(), dim, q_dim);
    k_.add(x, xb, dim);

    // Feed-forward block (SwiGLU).
    k_.rmsnorm(xb, x, w.ffn_norm, dim, c.norm_eps);
    k_.matvec(hb_.data(), w.w_gate, xb, hidden, dim);
    k_.matvec(hb2_.data(), w.w_up, xb, hidden, dim);
    k_.swiglu(hb_.data(), hb2_.data(), hidden);
    k_.matvec(xb, w.w_down, hb_.data(), dim, hidden);
    k_.add(x, xb, dim);
  }

  position_ = pos + 1;
  if (want_logits) {
    k_.rmsnorm(x, x, model_.output_norm(), dim, c.norm_eps);
    k_.matvec(logits_.data(), model_.output(), x, c.vocab_size, dim);
    has_logits_ = true;
  }
}

}  // namespace slm

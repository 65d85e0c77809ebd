// The scalar elementwise kernels and the f32 dot: the specification every
// ISA reproduces bit for bit (reduction orders and formulas are documented in
// kernels/kernels.h). Data: contiguous f32 vectors; the KV cache is
// paged: [page_tokens][kv_dim] rows per page and layer, one pointer per page.
#include "base/math.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels::scalar {
namespace {

// 8-lane-order sum of x[n] (Dot with b = 1 would be the same bits; this skips the multiply).
float Sum(const float* x, int32_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int32_t j = 0; j < 8; ++j) acc[j] = acc[j] + x[i + j];
  }
  for (int32_t j = 0; i + j < n; ++j) acc[j] = acc[j] + x[i + j];
  return Reduce8(acc);
}

}  // namespace

float Dot(const float* a, const float* b, int32_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int32_t j = 0; j < 8; ++j) acc[j] = acc[j] + a[i + j] * b[i + j];
  }
  for (int32_t j = 0; i + j < n; ++j) acc[j] = acc[j] + a[i + j] * b[i + j];
  return Reduce8(acc);
}

void Matvec(float* y, const float* w, const float* x, int32_t out, int32_t in) {
  for (int32_t r = 0; r < out; ++r) y[r] = Dot(w + static_cast<int64_t>(r) * in, x, in);
}

void RmsNorm(float* out, const float* x, const float* w, int32_t n, float eps) {
  float ss = Dot(x, x, n);
  float inv = 1.0f / Sqrt(ss / static_cast<float>(n) + eps);
  for (int32_t i = 0; i < n; ++i) out[i] = w[i] * (x[i] * inv);
}

void Rope(float* v, int32_t n_heads, int32_t head_dim, const float* cos_t, const float* sin_t,
          RopeStyle style) {
  const int32_t half = head_dim / 2;
  for (int32_t h = 0; h < n_heads; ++h) {
    float* hv = v + static_cast<int64_t>(h) * head_dim;
    for (int32_t j = 0; j < half; ++j) {
      const int32_t i0 = style == RopeStyle::kInterleaved ? 2 * j : j;
      const int32_t i1 = style == RopeStyle::kInterleaved ? 2 * j + 1 : j + half;
      const float a = hv[i0], b = hv[i1], c = cos_t[j], s = sin_t[j];
      hv[i0] = a * c - b * s;
      hv[i1] = a * s + b * c;
    }
  }
}

void Softmax(float* x, int32_t n) {
  float m = x[0];
  for (int32_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  for (int32_t i = 0; i < n; ++i) x[i] = Exp(x[i] - m);
  const float s = Sum(x, n);
  for (int32_t i = 0; i < n; ++i) x[i] = x[i] / s;
}

void SwiGlu(float* gate, const float* up, int32_t n) {
  for (int32_t i = 0; i < n; ++i) gate[i] = Silu(gate[i]) * up[i];
}

void Add(float* y, const float* x, int32_t n) {
  for (int32_t i = 0; i < n; ++i) y[i] = y[i] + x[i];
}

void Attention(float* out, const float* q, const float* const* k_pages, const float* const* v_pages,
               int32_t page_tokens, float* scores, int32_t n_pos, int32_t n_heads,
               int32_t n_kv_heads, int32_t head_dim, int32_t kv_stride) {
  const int32_t group = n_heads / n_kv_heads;
  const int64_t kv_dim = kv_stride;  // floats from one position's row to the next
  const float scale = Sqrt(static_cast<float>(head_dim));
  for (int32_t h = 0; h < n_heads; ++h) {
    const float* qh = q + static_cast<int64_t>(h) * head_dim;
    const int64_t kv_off = static_cast<int64_t>(h / group) * head_dim;
    for (int32_t t = 0; t < n_pos; ++t) {
      const float* kt = k_pages[t / page_tokens] + (t % page_tokens) * kv_dim + kv_off;
      scores[t] = Dot(qh, kt, head_dim) / scale;
    }
    Softmax(scores, n_pos);
    float* oh = out + static_cast<int64_t>(h) * head_dim;
    for (int32_t i = 0; i < head_dim; ++i) oh[i] = 0.0f;
    for (int32_t t = 0; t < n_pos; ++t) {
      const float* vt = v_pages[t / page_tokens] + (t % page_tokens) * kv_dim + kv_off;
      const float a = scores[t];
      for (int32_t i = 0; i < head_dim; ++i) oh[i] = oh[i] + a * vt[i];
    }
  }
}

}  // namespace slm::kernels::scalar

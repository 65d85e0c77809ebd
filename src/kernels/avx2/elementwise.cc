// AVX2 f32 dot, matvec, rmsnorm and attention. Data: contiguous f32 vectors,
// any alignment (unaligned loads); KV cache paged ([page_tokens][kv_dim] rows
// per page and layer, one pointer per page).
// Accumulation order: the 8-lane order of kernels.h, one __m256 accumulator
// lane per lane j; the n % 8 tail is added lane by lane in scalar code on the
// stored accumulator, then Reduce8 (hi + lo half, movehl, last pair). The
// attention's weighted sum of V is elementwise (one running sum per i), which
// vectorizes without changing any rounding (WeightedSum: up to 64 running
// sums in registers across positions); its scores are computed 8
// positions at a time (Dot8) and its softmax is avx2::Softmax (swiglu.cc).
#include <immintrin.h>

#include "base/math.h"
#include "kernels/avx2/avx2.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels::avx2 {

float Dot(const float* a, const float* b, int32_t n) {
  __m256 acc = _mm256_setzero_ps();
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, acc);
  for (int32_t j = 0; i + j < n; ++j) lanes[j] = lanes[j] + a[i + j] * b[i + j];
  return scalar::Reduce8(lanes);
}

void Matvec(float* y, const float* w, const float* x, int32_t out, int32_t in) {
  MatMulF32(y, 0, reinterpret_cast<const uint8_t*>(w), reinterpret_cast<const uint8_t*>(x), 0, in,
            0, out, 1);
}

void RmsNorm(float* out, const float* x, const float* w, int32_t n, float eps) {
  const float inv = 1.0f / Sqrt(Dot(x, x, n) / static_cast<float>(n) + eps);
  const __m256 vinv = _mm256_set1_ps(inv);
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v =
        _mm256_mul_ps(_mm256_loadu_ps(w + i), _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv));
    _mm256_storeu_ps(out + i, v);
  }
  for (; i < n; ++i) out[i] = w[i] * (x[i] * inv);
}

namespace {

// Dot(q, k[r], n) / scale for 8 rows at once (n % 8 == 0): one 8-lane
// accumulator per row as in Dot, then the 8 Reduce8 trees side by side
// (hi + lo half, then lanes (0+2, 1+3), then the last pair), so each score is
// bit-identical to Dot's.
inline void Dot8(const float* q, const float* const* k, int32_t n, float scale, float* out) {
  __m256 acc[8];
  for (int r = 0; r < 8; ++r) acc[r] = _mm256_setzero_ps();
  for (int32_t i = 0; i < n; i += 8) {
    const __m256 qv = _mm256_loadu_ps(q + i);
    for (int r = 0; r < 8; ++r) {
      acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(qv, _mm256_loadu_ps(k[r] + i)));
    }
  }
  __m256 s[4], t[2];
  for (int m = 0; m < 4; ++m) {  // [row 2m: a[j] + a[j+4] | row 2m+1: same]
    s[m] = _mm256_add_ps(_mm256_permute2f128_ps(acc[2 * m], acc[2 * m + 1], 0x20),
                         _mm256_permute2f128_ps(acc[2 * m], acc[2 * m + 1], 0x31));
  }
  for (int m = 0; m < 2; ++m) {  // per row: e0 + e2, e1 + e3
    t[m] = _mm256_add_ps(_mm256_shuffle_ps(s[2 * m], s[2 * m + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm256_shuffle_ps(s[2 * m], s[2 * m + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // Rows [0, 2, 4, 6 | 1, 3, 5, 7], then back in order.
  const __m256 r = _mm256_add_ps(_mm256_shuffle_ps(t[0], t[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm256_shuffle_ps(t[0], t[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m256 v = _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_ps(out, _mm256_div_ps(v, _mm256_set1_ps(scale)));
}

// out[0..8N) = sum over t ascending of scores[t] * v_t[0..8N) from +0 (the
// contract's running sum per element), v_t = the row of position t at offset
// kv_off. N accumulators stay in registers across positions: the previous
// load-add-store of `out` per position made every step wait on store
// forwarding.
template <int N>
inline void WeightedSum(float* out, const float* scores, const float* const* v_pages,
                        int32_t page_tokens, int64_t kv_dim, int64_t kv_off, int32_t n_pos) {
  __m256 acc[N];
  for (int k = 0; k < N; ++k) acc[k] = _mm256_setzero_ps();
  for (int32_t t = 0; t < n_pos; ++t) {
    const float* vt = v_pages[t / page_tokens] + (t % page_tokens) * kv_dim + kv_off;
    const __m256 a = _mm256_set1_ps(scores[t]);
    for (int k = 0; k < N; ++k) {
      acc[k] = _mm256_add_ps(acc[k], _mm256_mul_ps(a, _mm256_loadu_ps(vt + 8 * k)));
    }
  }
  for (int k = 0; k < N; ++k) _mm256_storeu_ps(out + 8 * k, acc[k]);
}

}  // namespace

void Attention(float* out, const float* q, const float* const* k_pages, const float* const* v_pages,
               int32_t page_tokens, float* scores, int32_t n_pos, int32_t n_heads,
               int32_t n_kv_heads, int32_t head_dim, int32_t kv_stride) {
  const int32_t group = n_heads / n_kv_heads;
  const int64_t kv_dim = kv_stride;  // floats from one position's row to the next
  const float scale = Sqrt(static_cast<float>(head_dim));
  for (int32_t h = 0; h < n_heads; ++h) {
    const float* qh = q + static_cast<int64_t>(h) * head_dim;
    const int64_t kv_off = static_cast<int64_t>(h / group) * head_dim;
    int32_t t = 0;
    if (head_dim % 8 == 0) {
      for (; t + 8 <= n_pos; t += 8) {
        const float* kt[8];
        for (int r = 0; r < 8; ++r) {
          kt[r] = k_pages[(t + r) / page_tokens] + ((t + r) % page_tokens) * kv_dim + kv_off;
        }
        Dot8(qh, kt, head_dim, scale, scores + t);
      }
    }
    for (; t < n_pos; ++t) {
      const float* kt = k_pages[t / page_tokens] + (t % page_tokens) * kv_dim + kv_off;
      scores[t] = Dot(qh, kt, head_dim) / scale;
    }
    Softmax(scores, n_pos);
    float* oh = out + static_cast<int64_t>(h) * head_dim;
    int32_t i = 0;
    for (; i + 8 <= head_dim;) {
      const int32_t n8 = (head_dim - i) / 8 < 8 ? (head_dim - i) / 8 : 8;
      switch (n8) {
#define SLM_CASE(N)                                                                  \
  case N:                                                                            \
    WeightedSum<N>(oh + i, scores, v_pages, page_tokens, kv_dim, kv_off + i, n_pos); \
    break;
        SLM_CASE(1)
        SLM_CASE(2)
        SLM_CASE(3)
        SLM_CASE(4)
        SLM_CASE(5)
        SLM_CASE(6)
        SLM_CASE(7)
        SLM_CASE(8)
#undef SLM_CASE
      }
      i += 8 * n8;
    }
    for (; i < head_dim; ++i) {  // head_dim % 8 tail, same order
      float o = 0.0f;
      for (int32_t t = 0; t < n_pos; ++t) {
        o = o + scores[t] * v_pages[t / page_tokens][(t % page_tokens) * kv_dim + kv_off + i];
      }
      oh[i] = o;
    }
  }
}

}  // namespace slm::kernels::avx2

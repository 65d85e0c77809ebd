// AVX2 SwiGLU: gate[i] = (gate[i] / (1 + Exp(-gate[i]))) * up[i] (kernels.h),
// 8 lanes at a time with a vector twin of slm::Exp (base/math.cc) that does
// the same IEEE operations in the same order: n = trunc(x * log2e +- 0.5),
// r = (x - n * ln2hi) - n * ln2lo, the degree-7 Horner polynomial (mul then
// add, no FMA), the two-step subnormal scaling and the same special cases.
// So every lane is bit-identical to the scalar kernel. Softmax (the
// attention's, kernels.h) uses the same Exp8: the max stays the scalar loop
// (its NaN / signed-zero rules are order-dependent, and it is cheap), the
// sum is the 8-lane order with one __m256 accumulator, the division is per
// lane.
#include <immintrin.h>

#include "base/math.h"
#include "kernels/avx2/avx2.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels::avx2 {
namespace {

__m256 Exp8(__m256 x) {
  const __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f));
  const __m256 half = _mm256_blendv_ps(_mm256_set1_ps(-0.5f), _mm256_set1_ps(0.5f),
                                       _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_GE_OQ));
  __m256i n = _mm256_cvttps_epi32(_mm256_add_ps(t, half));
  const __m256 nf = _mm256_cvtepi32_ps(n);
  const __m256 r =
      _mm256_sub_ps(_mm256_sub_ps(x, _mm256_mul_ps(nf, _mm256_set1_ps(0.693145751953125f))),
                    _mm256_mul_ps(nf, _mm256_set1_ps(1.42860682030941723212e-6f)));
  __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0.5f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
  // n < -126: p * 2^-100, n + 100.
  const __m256i sub = _mm256_cmpgt_epi32(_mm256_set1_epi32(-126), n);
  p = _mm256_blendv_ps(p, _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_set1_epi32(27 << 23))),
                       _mm256_castsi256_ps(sub));
  n = _mm256_add_epi32(n, _mm256_and_si256(sub, _mm256_set1_epi32(100)));
  __m256 e = _mm256_mul_ps(
      p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23)));
  // Special cases, in the scalar order: NaN, > 88.72... -> +inf, < -104 -> 0.
  e = _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-104.0f), _CMP_LT_OQ), e);
  e = _mm256_blendv_ps(e, _mm256_castsi256_ps(_mm256_set1_epi32(0x7f800000)),
                       _mm256_cmp_ps(x, _mm256_set1_ps(88.72283935546875f), _CMP_GT_OQ));
  return _mm256_blendv_ps(e, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

}  // namespace

void Softmax(float* x, int32_t n) {
  float m = x[0];
  for (int32_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  const __m256 vm = _mm256_set1_ps(m);
  __m256 acc = _mm256_setzero_ps();
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, acc);
  for (int32_t j = 0; i + j < n; ++j) {
    x[i + j] = Exp(x[i + j] - m);
    lanes[j] = lanes[j] + x[i + j];
  }
  const float s = scalar::Reduce8(lanes);
  const __m256 vs = _mm256_set1_ps(s);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_div_ps(_mm256_loadu_ps(x + i), vs));
  for (; i < n; ++i) x[i] = x[i] / s;
}

void SwiGlu(float* gate, const float* up, int32_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, Exp8(_mm256_xor_ps(g, sign))));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) gate[i] = Silu(gate[i]) * up[i];
}

}  // namespace slm::kernels::avx2

// AVX2 matmuls for every weight format (the scalar twin is scalar/matmul.cc;
// the formulas are in kernels.h).
//
// Data layout: W row-major in ggml blocks (quant/blocks.h), unaligned loads;
// activations f32 or ActQ8x32 / ActQ8x256 blocks, one vector per token.
// Accumulation order: f32 / f16 / bf16 and q4_k / q6_k, one __m256
// accumulator per (row, token), lane l of a 32-value chunk's integer product
// is maddubs + madd of values 4l..4l+3 (exactly the scalar p[l]), the float
// step is acc = acc + set1(scale) * cvt(p), mul then add (no FMA), then
// Reduce8. q8_0 / q4_0 (contract 2): the 8 integer lanes are summed to one
// block dot per (row, token) and the float step runs on 4 outputs at once.
// Tiling: R rows x T tokens per micro-kernel (decode 4 x 1 for independent
// add chains, prefill 2 x 4 so each weight vector is loaded once for 4
// tokens); tiling never changes a result, only which results run together.
#include <immintrin.h>

#include <cstring>

#include "kernels/avx2/avx2.h"
#include "kernels/page_step.h"
#include "kernels/scalar/scalar.h"
#include "quant/blocks.h"

namespace slm::kernels::avx2 {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;

inline float Reduce8(__m256 acc) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

inline float F16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Sum of w[i] * a[i] over 4-value groups: int32 lane l = values 4l..4l+3.
// |a| <= 127 (our activations), so sign(a, w) never negates -128.
inline __m256i LaneSums(__m256i w, __m256i a) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// ---- f32 / f16 / bf16 rows --------------------------------------------------

struct WidenF32 {
  static constexpr int kBytes = 4;
  static __m256 Load8(const uint8_t* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
  static float One(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
};
struct WidenF16 {
  static constexpr int kBytes = 2;
  static __m256 Load8(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float One(const uint8_t* p) { return F16(p); }
};
struct WidenBF16 {
  static constexpr int kBytes = 2;
  static __m256 Load8(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
  static float One(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t b = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
};

template <typename Widen, int R, int T>
void TileFloat(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
               int64_t x_stride, int32_t in, int32_t r, int32_t t, int32_t step = 1,
               int64_t next = 0) {
  if (next == 0) next = 8 * row_bytes;  // tile row i is row r + i * step
  __m256 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  const uint8_t* rows[R];
  for (int i = 0; i < R; ++i) rows[i] = w + (r + int64_t{i} * step) * row_bytes;
  const float* xs[T];
  for (int j = 0; j < T; ++j) xs[j] = reinterpret_cast<const float*>(x + (t + j) * x_stride);
  int32_t k = 0;
  for (; k + 8 <= in; k += 8) {
    __m256 wv[R];
    for (int i = 0; i < R; ++i) {
      if (T == 1 && k % 16 == 0) {  // one prefetch per 64-byte line of f32 (two of f16)
        _mm_prefetch(reinterpret_cast<const char*>(rows[i] + k * Widen::kBytes + next),
                     _MM_HINT_T0);
      }
      wv[i] = Widen::Load8(rows[i] + k * Widen::kBytes);
    }
    for (int j = 0; j < T; ++j) {
      const __m256 xv = _mm256_loadu_ps(xs[j] + k);
      for (int i = 0; i < R; ++i) acc[i][j] = _mm256_add_ps(acc[i][j], _mm256_mul_ps(wv[i], xv));
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) {
      float lanes[8];
      _mm256_storeu_ps(lanes, acc[i][j]);
      for (int32_t l = 0; k + l < in; ++l) {
        lanes[l] = lanes[l] + Widen::One(rows[i] + (k + l) * Widen::kBytes) * xs[j][k + l];
      }
      y[(t + j) * y_stride + r + i * step] = scalar::Reduce8(lanes);
    }
  }
}

// ---- q8_0 / q4_0 rows x ActQ8x32 --------------------------------------------

// The 32 signed codes of block b of a row, as bytes in value order.
struct UnpackQ8_0 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ8_0);
  static constexpr bool kUnsigned = false;  // signed codes: LaneSums (sign trick)
  static __m256i Codes(const uint8_t* blk) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
  }
};
// q4_0 returns the raw nibbles u (0..15, value u - 8). Decode: the lane sums
// are maddubs(u, a) + madd (no sign trick, no saturation: 2 * 15 * 127) minus
// 8 * (a[4l] + ... + a[4l+3]), formed once per block (exact int32); prefill
// subtracts 8 from the codes and uses LaneSums.
struct UnpackQ4_0 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ4_0);
  static constexpr bool kUnsigned = true;
  static __m256i Codes(const uint8_t* blk) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
    const __m128i m = _mm_set1_epi8(0x0F);
    const __m128i lo = _mm_and_si128(q, m);                     // values 0..15
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);  // values 16..31
    return _mm256_set_m128i(hi, lo);
  }
};

// [sum of a's 8 lanes, sum of b's, c's, d's] (exact int32: any order).
inline __m128i HSum4(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
  return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

inline __m128i Load128(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// q4_0 decode of rows r + i * step (i = 0..3), contract 2 as TileQ8: two rows
// per ymm, one per 128-bit lane, straight from memory (no per-row lane
// insert); low nibbles against values 0-15, high against 16-31, and the
// offset 8 * a taken off in 16 bits (|2 * 3810 + 2032| < 2^15). One 4-row
// reduction (two hadds) gives each row's exact int32; the float step is
// TileQ8's.
void TileQ4_0Decode(float* y, const uint8_t* w, int64_t row_bytes, const uint8_t* x, int32_t in,
                    int32_t r, int32_t step, int64_t next) {
  const int64_t rs = step * row_bytes;
  if (next == 0) next = 8 * row_bytes;
  const uint8_t* row0 = w + r * row_bytes;
  const __m256i m = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8);
  __m128 acc = _mm_setzero_ps();
  for (int32_t b = 0; b < in / 32; ++b) {
    const uint8_t* a = x + b * int64_t{sizeof(ActQ8x32)};
    float ad;
    std::memcpy(&ad, a, 4);
    const __m256i a_lo = _mm256_broadcastsi128_si256(Load128(a + 4));
    const __m256i a_hi = _mm256_broadcastsi128_si256(Load128(a + 20));
    const __m256i corr =
        _mm256_add_epi16(_mm256_maddubs_epi16(eight, a_lo), _mm256_maddubs_epi16(eight, a_hi));
    __m256i s[2];
    uint16_t wd[4];  // f16 scales, widened together below (a scalar store + vector load stalls)
    for (int h = 0; h < 2; ++h) {
      const uint8_t* b0 = row0 + 2 * h * rs + b * int64_t{sizeof(BlockQ4_0)};
      const uint8_t* b1 = b0 + rs;
      _mm_prefetch(reinterpret_cast<const char*>(b0 + next), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(b1 + next), _MM_HINT_T0);
      const __m256i q =
          _mm256_inserti128_si256(_mm256_castsi128_si256(Load128(b0 + 2)), Load128(b1 + 2), 1);
      const __m256i p16 = _mm256_sub_epi16(
          _mm256_add_epi16(
              _mm256_maddubs_epi16(_mm256_and_si256(q, m), a_lo),
              _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), m), a_hi)),
          corr);
      s[h] = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));  // [row 2h: 4 sums | row 2h + 1]
      std::memcpy(&wd[2 * h], b0, 2);
      std::memcpy(&wd[2 * h + 1], b1, 2);
    }
    // [r0 r0 r2 r2 | r1 r1 r3 r3] (pair sums), [r0 r2 r0 r2 | r1 r3 r1 r3], [r0 r1 r2 r3].
    const __m256i h1 = _mm256_hadd_epi32(s[0], s[1]);
    const __m256i h = _mm256_hadd_epi32(h1, h1);
    const __m128i p = _mm_unpacklo_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    const __m128 d = _mm_cvtph_ps(
        _mm_setr_epi16(static_cast<int16_t>(wd[0]), static_cast<int16_t>(wd[1]),
                       static_cast<int16_t>(wd[2]), static_cast<int16_t>(wd[3]), 0, 0, 0, 0));
    const __m128 sc = _mm_mul_ps(d, _mm_set1_ps(ad));  // s, one rounded product
    acc = _mm_add_ps(acc, _mm_mul_ps(sc, _mm_cvtepi32_ps(p)));
  }
  alignas(16) float out[4];
  _mm_store_ps(out, acc);
  for (int i = 0; i < 4; ++i) y[r + i * step] = out[i];
}

// Contract 2 (kernels.h): one int per (row, token, block), then the float
// step for 4 (row, token) slots at once in one __m128 (slot k = i * T + j).
template <typename Unpack, int R, int T>
void TileQ8(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
            int64_t x_stride, int32_t in, int32_t r, int32_t t, int32_t step = 1,
            int64_t next = 0) {
  if constexpr (Unpack::kUnsigned && R == 4 && T == 1) {
    TileQ4_0Decode(y, w, row_bytes, x, in, r, step, next);
    return;
  }
  const int64_t rs = step * row_bytes;  // tile row i is row r + i * step
  if (next == 0) next = 8 * row_bytes;
  // Decode (T == 1) subtracts the activation sums once per block for all R
  // rows; prefill is faster with the sign trick on codes - 8 (kernel lab).
  constexpr bool kCorr = Unpack::kUnsigned && T == 1;
  constexpr int kSlots = R * T, kGroups = (kSlots + 3) / 4;
  __m128 acc[kGroups];
  for (int g = 0; g < kGroups; ++g) acc[g] = _mm_setzero_ps();
  for (int32_t b = 0; b < in / 32; ++b) {
    __m256i wq[R];
    float wd[R];
    for (int i = 0; i < R; ++i) {
      const uint8_t* blk = w + r * row_bytes + i * rs + b * Unpack::kBlockBytes;
      // Decode streams W once from DRAM: fetch 8 rows ahead (2 tiles), or
      // `next` bytes on. The kernel lab measured 3x on q8_0 rows of 768 (6 ->
      // 19 GB/s); a prefetch past the matrix end is harmless (no fault, no
      // result change).
      if (T == 1) _mm_prefetch(reinterpret_cast<const char*>(blk + next), _MM_HINT_T0);
      wq[i] = Unpack::Codes(blk);
      // Prefill: signed codes once per row and block (reused by T tokens).
      if (Unpack::kUnsigned && !kCorr) wq[i] = _mm256_sub_epi8(wq[i], _mm256_set1_epi8(8));
      wd[i] = F16(blk);
    }
    __m256i sums[kGroups * 4];
    alignas(16) float sc[kGroups * 4];
    for (int k = kSlots; k < kGroups * 4; ++k) {
      sums[k] = _mm256_setzero_si256();
      sc[k] = 0.0f;
    }
    for (int j = 0; j < T; ++j) {
      const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x32)};
      float ad;
      std::memcpy(&ad, a, 4);
      const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 4));
      const __m256i ones = _mm256_set1_epi16(1);
      // kUnsigned: 8 * (sum of each 4 activation codes), subtracted per row.
      const __m256i corr =
          kCorr ? _mm256_slli_epi32(
                      _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), aq), ones), 3)
                : _mm256_setzero_si256();
      for (int i = 0; i < R; ++i) {
        sums[i * T + j] =
            kCorr ? _mm256_sub_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(wq[i], aq), ones), corr)
                  : LaneSums(wq[i], aq);
        sc[i * T + j] = wd[i] * ad;  // s, one rounded product
      }
    }
    for (int g = 0; g < kGroups; ++g) {
      const __m128 p =
          _mm_cvtepi32_ps(HSum4(sums[4 * g], sums[4 * g + 1], sums[4 * g + 2], sums[4 * g + 3]));
      acc[g] = _mm_add_ps(acc[g], _mm_mul_ps(_mm_load_ps(sc + 4 * g), p));
    }
  }
  alignas(16) float out[kGroups * 4];
  for (int g = 0; g < kGroups; ++g) _mm_store_ps(out + 4 * g, acc[g]);
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) y[(t + j) * y_stride + r + i * step] = out[i * T + j];
  }
}

// ---- q4_k / q6_k rows x ActQ8x256 -------------------------------------------

float DotQ4_K(const uint8_t* row, const uint8_t* act, int32_t in) {
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.0f;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int32_t b = 0; b < in / 256; ++b) {
    const uint8_t* blk = row + b * int64_t{sizeof(BlockQ4_K)};
    const uint8_t* a = act + b * int64_t{sizeof(ActQ8x256)};
    ActQ8x256 head;
    std::memcpy(&head, a, offsetof(ActQ8x256, qs));
    uint8_t sc[8], m[8];
    for (int c = 0; c < 8; ++c) quant::ScaleMinK4(c, blk + 4, &sc[c], &m[c]);
    __m256i lanes = _mm256_setzero_si256();
    int32_t msum = 0;
    for (int k = 0; k < 4; ++k) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * k));
      const __m256i lo = _mm256_and_si256(q, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
      const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 20 + 64 * k));
      const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 52 + 64 * k));
      const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a0),
                                           _mm256_set1_epi16(static_cast<int16_t>(sc[2 * k])));
      const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a1),
                                           _mm256_set1_epi16(static_cast<int16_t>(sc[2 * k + 1])));
      lanes = _mm256_add_epi32(lanes, _mm256_add_epi32(p0, p1));
    }
    for (int c = 0; c < 8; ++c) msum += int32_t{m[c]} * head.bsums[c];
    const float dd = F16(blk) * head.d;
    const float dm = F16(blk + 2) * head.d;
    acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(lanes)));
    mins = mins + dm * static_cast<float>(msum);
  }
  return Reduce8(acc) - mins;
}

// The 8 scales then the 8 mins of two Q4_K blocks as bytes (ggml's 12-byte
// unpack, the values of quant::ScaleMinK4), block q0 in the low 128-bit lane:
// avx512's ScalesMinsK4x4 on a ymm. Each lane holds the block's first 16
// bytes, dwords [d | dmin, u0, u1, u2], and computes [u0 & k1, (u2 & k2) |
// ((u0 >> 6) & k3) << 4, u1 & k1, ((u2 >> 4) & k2) | ((u1 >> 6) & k3) << 4]
// with k1 = 0x3f.., k2 = 0x0f.., k3 = 0x03.. (scalar per row, it cost ~10%
// of the tile from cache).
inline __m256i ScalesMinsK2(const uint8_t* q0, const uint8_t* q1) {
  const __m256i v = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q0))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(q1)), 1);
  const __m256i a = _mm256_shuffle_epi32(v, _MM_SHUFFLE(3, 2, 3, 1));  // [u0, u2, u1, u2]
  const __m256i b = _mm256_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 1, 1));  // [u0, u0, u1, u1]
  const __m256i k1 = _mm256_set1_epi32(0x3f3f3f3f), k2 = _mm256_set1_epi32(0x0f0f0f0f),
                k3 = _mm256_set1_epi32(0x03030303);
  const __m256i even = _mm256_and_si256(a, k1);
  const __m256i odd = _mm256_or_si256(
      _mm256_and_si256(_mm256_srlv_epi32(a, _mm256_setr_epi32(0, 0, 0, 4, 0, 0, 0, 4)), k2),
      _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(b, 6), k3), 4));
  return _mm256_blend_epi32(even, odd, 0xAA);
}

// R rows x T tokens of q4_k (the tiled form of DotQ4_K: same integer lanes,
// same float steps per super-block). Scales and mins are unpacked once per
// row and super-block (ggml's 12-byte trick, the values of ScaleMinK4) and
// reused for every token of the tile.
template <int R, int T>
void TileQ4K(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
             int64_t x_stride, int32_t in, int32_t r, int32_t t, int32_t step = 1,
             int64_t next = 0) {
  const int64_t rs = step * row_bytes;  // tile row i is row r + i * step
  if (next == 0) next = R * row_bytes;
  __m256 acc[R][T];
  float mins[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) {
      acc[i][j] = _mm256_setzero_ps();
      mins[i][j] = 0.0f;
    }
  }
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int32_t b = 0; b < in / 256; ++b) {
    const uint8_t* blk[R];
    alignas(32) int16_t sm[R][16];  // sc[0..7], m[0..7]
    float d[R], dmin[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      blk[i] = w + r * row_bytes + i * rs + b * int64_t{sizeof(BlockQ4_K)};
      if (T == 1) {
        for (int l = 0; l < 144; l += 64) {
          _mm_prefetch(reinterpret_cast<const char*>(blk[i] + next + l), _MM_HINT_T0);
        }
      }
      d[i] = F16(blk[i]);
      dmin[i] = F16(blk[i] + 2);
    }
    // Two rows per ScalesMinsK2 (an odd last row is unpacked twice).
    for (int i = 0; i < R; i += 2) {
      const __m256i u = ScalesMinsK2(blk[i], blk[i + 1 < R ? i + 1 : i]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(sm[i]),
                         _mm256_cvtepu8_epi16(_mm256_castsi256_si128(u)));
      if (i + 1 < R) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(sm[i + 1]),
                           _mm256_cvtepu8_epi16(_mm256_extracti128_si256(u, 1)));
      }
    }
    __m256i lanes[R][T];
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < T; ++j) lanes[i][j] = _mm256_setzero_si256();
    }
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      __m256i lo[R], hi[R], slo[R], shi[R];
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const __m256i q =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[i] + 16 + 32 * k));
        lo[i] = _mm256_and_si256(q, m4);
        hi[i] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        slo[i] = _mm256_set1_epi16(sm[i][2 * k]);
        shi[i] = _mm256_set1_epi16(sm[i][2 * k + 1]);
      }
#pragma GCC unroll 8
      for (int j = 0; j < T; ++j) {
        const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)};
        const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 20 + 64 * k));
        const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 52 + 64 * k));
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
          const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[i], a0), slo[i]);
          const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[i], a1), shi[i]);
          lanes[i][j] = _mm256_add_epi32(lanes[i][j], _mm256_add_epi32(p0, p1));
        }
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) {
      const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)};
      float ad;
      std::memcpy(&ad, a, 4);
      const __m128i bs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + 4));
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        acc[i][j] = _mm256_add_ps(
            acc[i][j], _mm256_mul_ps(_mm256_set1_ps(d[i] * ad), _mm256_cvtepi32_ps(lanes[i][j])));
        __m128i m = _mm_madd_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(sm[i] + 8)), bs);
        m = _mm_add_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
        m = _mm_add_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
        mins[i][j] = mins[i][j] + (dmin[i] * ad) * static_cast<float>(_mm_cvtsi128_si32(m));
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) {
      y[(t + j) * y_stride + r + i * step] = Reduce8(acc[i][j]) - mins[i][j];
    }
  }
}

float DotQ6_K(const uint8_t* row, const uint8_t* act, int32_t in) {
  __m256 acc = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  const __m256i k32 = _mm256_set1_epi8(32);
  for (int32_t b = 0; b < in / 256; ++b) {
    const uint8_t* blk = row + b * int64_t{sizeof(BlockQ6_K)};
    const uint8_t* a = act + b * int64_t{sizeof(ActQ8x256)};
    float ad;
    std::memcpy(&ad, a, 4);
    const int8_t* sc = reinterpret_cast<const int8_t*>(blk + offsetof(BlockQ6_K, scales));
    __m256i lanes = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = blk + 64 * h;
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i qh = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(blk + offsetof(BlockQ6_K, qh) + 32 * h));
      __m256i q[4];
      q[0] =
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
      for (int j = 0; j < 4; ++j) {
        const int c = 4 * h + j;  // 32-value chunk
        const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 20 + 32 * c));
        // (q - 32) * a = q * a - 32 * a, per pair of values (int16, no saturation).
        const __m256i p16 =
            _mm256_sub_epi16(_mm256_maddubs_epi16(q[j], av), _mm256_maddubs_epi16(k32, av));
        const __m256i s =
            _mm256_set_m128i(_mm_set1_epi16(sc[2 * c + 1]), _mm_set1_epi16(sc[2 * c]));
        lanes = _mm256_add_epi32(lanes, _mm256_madd_epi16(p16, s));
      }
    }
    const float dd = F16(blk + offsetof(BlockQ6_K, d)) * ad;
    acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(lanes)));
  }
  return Reduce8(acc);
}

// R rows x T tokens of q6_k (the tiled form of DotQ6_K). Per 32-value
// chunk c: 6-bit codes u, int16 pairs maddubs(u, a) - maddubs(32, a) (the
// second is activation-only: once per token and chunk), then madd by the
// int8 scale of each pair's 16-value sub-block into lanes (exact int32).
template <int R, int T>
void TileQ6K(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
             int64_t x_stride, int32_t in, int32_t r, int32_t t, int32_t step = 1,
             int64_t next = 0) {
  const int64_t rs = step * row_bytes;  // tile row i is row r + i * step
  if (next == 0) next = R * row_bytes;
  __m256 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  const __m256i k32 = _mm256_set1_epi8(32);
  for (int32_t b = 0; b < in / 256; ++b) {
    const uint8_t* blk[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      blk[i] = w + r * row_bytes + i * rs + b * int64_t{sizeof(BlockQ6_K)};
      if (T == 1) {
        for (int l = 0; l < 210; l += 64) {
          _mm_prefetch(reinterpret_cast<const char*>(blk[i] + next + l), _MM_HINT_T0);
        }
      }
    }
    __m256i lanes[R][T];
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < T; ++j) lanes[i][j] = _mm256_setzero_si256();
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
      const int h = c / 4, jc = c % 4;
      __m256i q[R], sv[R];
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const __m256i l = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(blk[i] + 64 * h + (jc % 2 == 1 ? 32 : 0)));
        const __m256i qh = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(blk[i] + offsetof(BlockQ6_K, qh) + 32 * h));
        const __m256i low =
            jc >= 2 ? _mm256_and_si256(_mm256_srli_epi16(l, 4), m4) : _mm256_and_si256(l, m4);
        q[i] = _mm256_or_si256(
            low, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * jc), m2), 4));
        const int8_t* sc = reinterpret_cast<const int8_t*>(blk[i] + offsetof(BlockQ6_K, scales));
        sv[i] = _mm256_set_m128i(_mm_set1_epi16(sc[2 * c + 1]), _mm_set1_epi16(sc[2 * c]));
      }
#pragma GCC unroll 8
      for (int j = 0; j < T; ++j) {
        const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)};
        const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 20 + 32 * c));
        const __m256i corr = _mm256_maddubs_epi16(k32, av);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
          const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q[i], av), corr);
          lanes[i][j] = _mm256_add_epi32(lanes[i][j], _mm256_madd_epi16(p16, sv[i]));
        }
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) {
      float ad;
      std::memcpy(&ad, x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)}, 4);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const float dd = F16(blk[i] + offsetof(BlockQ6_K, d)) * ad;
        acc[i][j] = _mm256_add_ps(
            acc[i][j], _mm256_mul_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(lanes[i][j])));
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) y[(t + j) * y_stride + r + i * step] = Reduce8(acc[i][j]);
  }
}

// ---- activation quantization (kernels.h, "Activation quantization") --------

// One block of n = 32 * k values: returns d, writes the codes. Same bits as
// the scalar QuantizeBlock: max is exact (and ignores NaN the same way:
// max_ps(a, m) keeps m when a is NaN, like `a > m ? a : m`), id and d are the
// same scalar divides, and RoundHalfEven is the same two rounded adds.
float QuantizeBlock(const float* x, int8_t* q, int32_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (int32_t i = 0; i < n; i += 8)
    m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
  const float amax = _mm_cvtss_f32(h);
  const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
  const __m256 idv = _mm256_set1_ps(id), magic = _mm256_set1_ps(12582912.0f);
  for (int32_t i = 0; i < n; i += 32) {
    __m256i v[4];
    for (int k = 0; k < 4; ++k) {
      const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), idv);
      v[k] = _mm256_cvtps_epi32(_mm256_sub_ps(_mm256_add_ps(p, magic), magic));
    }
    // packs interleave 128-bit lanes: [0lo 1lo 2lo 3lo | 0hi 1hi 2hi 3hi] in
    // 4-byte groups; the permute restores value order.
    const __m256i p16a = _mm256_packs_epi32(v[0], v[1]), p16b = _mm256_packs_epi32(v[2], v[3]);
    const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    const __m256i ordered =
        _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), ordered);
  }
  return amax / 127.0f;
}

}  // namespace

void QuantizeQ8x32(const float* x, uint8_t* xq, int32_t n) {
  for (int32_t b = 0; b < n / 32; ++b) {
    ActQ8x32 blk;
    blk.d = QuantizeBlock(x + 32 * b, blk.qs, 32);
    std::memcpy(xq + b * sizeof blk, &blk, sizeof blk);
  }
}

void QuantizeQ8x256(const float* x, uint8_t* xq, int32_t n) {
  for (int32_t b = 0; b < n / 256; ++b) {
    ActQ8x256 blk;
    blk.d = QuantizeBlock(x + 256 * b, blk.qs, 256);
    for (int32_t c = 0; c < 8; ++c) {
      // Sum of 32 codes: maddubs with ones (pairs), madd (quads), then the 8 lanes.
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * c));
      const __m256i s4 =
          _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
      __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
      blk.bsums[c] = static_cast<int16_t>(_mm_cvtsi128_si32(s));
    }
    std::memcpy(xq + b * sizeof blk, &blk, sizeof blk);
  }
}

#define SLM_AVX2_TILED_MATMUL(Name, TileFn, Arg, row_bytes_expr, max_step)                        \
  void Name(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,     \
            int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {                                  \
    const int64_t row_bytes = (row_bytes_expr);                                                   \
    int32_t r = r0;                                                                               \
    if (n_tok == 1) {                                                                             \
      r = PageStridedDecode<4>(r, r1, row_bytes, max_step, [&](int32_t g, int32_t s, int64_t n) { \
        TileFn<Arg, 4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, g, 0, s, n);                \
      });                                                                                         \
      for (; r + 4 <= r1; r += 4)                                                                 \
        TileFn<Arg, 4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);                      \
      for (; r < r1; ++r) TileFn<Arg, 1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);    \
      return;                                                                                     \
    }                                                                                             \
    for (; r + 2 <= r1; r += 2) {                                                                 \
      int32_t t = 0;                                                                              \
      for (; t + 4 <= n_tok; t += 4)                                                              \
        TileFn<Arg, 2, 4>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);                      \
      for (; t < n_tok; ++t) TileFn<Arg, 2, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t); \
    }                                                                                             \
    for (; r < r1; ++r) {                                                                         \
      for (int32_t t = 0; t < n_tok; ++t)                                                         \
        TileFn<Arg, 1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);                      \
    }                                                                                             \
  }
SLM_AVX2_TILED_MATMUL(MatMulF32, TileFloat, WidenF32, int64_t{in} * 4, 1 << 20)
SLM_AVX2_TILED_MATMUL(MatMulF16, TileFloat, WidenF16, int64_t{in} * 2, 1 << 20)
SLM_AVX2_TILED_MATMUL(MatMulBF16, TileFloat, WidenBF16, int64_t{in} * 2, 1 << 20)
SLM_AVX2_TILED_MATMUL(MatMulQ8_0, TileQ8, UnpackQ8_0, int64_t{in} / 32 * int64_t{sizeof(BlockQ8_0)},
                      1 << 20)
// q4_0 strides rows of >= 1 KiB only: strided short rows (in 768) were no faster.
SLM_AVX2_TILED_MATMUL(MatMulQ4_0, TileQ8, UnpackQ4_0, int64_t{in} / 32 * int64_t{sizeof(BlockQ4_0)},
                      4)
#undef SLM_AVX2_TILED_MATMUL

void MatMulQ4_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  const int64_t row_bytes = int64_t{in} / 256 * int64_t{sizeof(BlockQ4_K)};
  int32_t r = r0;
  if (n_tok == 1) {
    r = PageStridedDecode<4>(r, r1, row_bytes, 1 << 20, [&](int32_t g, int32_t s, int64_t n) {
      TileQ4K<4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, g, 0, s, n);
    });
    for (; r + 4 <= r1; r += 4) TileQ4K<4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);
  } else {
    for (; r + 2 <= r1; r += 2) {
      int32_t t = 0;
      for (; t + 4 <= n_tok; t += 4)
        TileQ4K<2, 4>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
      for (; t < n_tok; ++t) TileQ4K<2, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
    }
  }
  for (; r < r1; ++r) {
    for (int32_t t = 0; t < n_tok; ++t)
      y[t * y_stride + r] = DotQ4_K(w + r * row_bytes, x + t * x_stride, in);
  }
}

void MatMulQ6_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  const int64_t row_bytes = int64_t{in} / 256 * int64_t{sizeof(BlockQ6_K)};
  int32_t r = r0;
  if (n_tok == 1) {
    r = PageStridedDecode<4>(r, r1, row_bytes, 1 << 20, [&](int32_t g, int32_t s, int64_t n) {
      TileQ6K<4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, g, 0, s, n);
    });
    for (; r + 4 <= r1; r += 4) TileQ6K<4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);
  } else {
    for (; r + 2 <= r1; r += 2) {
      int32_t t = 0;
      for (; t + 4 <= n_tok; t += 4)
        TileQ6K<2, 4>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
      for (; t < n_tok; ++t) TileQ6K<2, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
    }
  }
  for (; r < r1; ++r) {
    for (int32_t t = 0; t < n_tok; ++t)
      y[t * y_stride + r] = DotQ6_K(w + r * row_bytes, x + t * x_stride, in);
  }
}

}  // namespace slm::kernels::avx2

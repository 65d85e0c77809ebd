// AVX-512 VNNI matmuls for q4_k / q6_k (the scalar twin is scalar/matmul.cc;
// the formulas are in kernels.h; q8_0 / q4_0 are in matmul_q8.cc).
//
// Data layout: W row-major in ggml blocks (quant/blocks.h), unaligned loads;
// activations ActQ8x256 blocks, one vector per token.
// Register layout: one __m512 accumulator holds TWO rows for one token, lanes
// 0-7 = row i, lanes 8-15 = row i + 1 (each half is kernels.h's 8-lane
// accumulator), so every float step is one 16-lane mul + add.
// Integer part: q4_k uses maddubs + vpdpwssd with the sub-block scale (decode:
// two vpdpbusd packed into one vpdpwssd, LanesQ4KDecode); lane l holds
// kernels.h's L[l] exactly.
// Float step per super-block (kernels.h): acc = acc + (d_w * d_a) * float(L),
// two rounded muls and an add per 16 lanes (no FMA), then Reduce8 per half
// (Reduce8x16: the same tree for 16 outputs at once, lane-parallel).
// Tiling: P row pairs x T tokens per micro-kernel (decode: 4 pairs of
// page-strided rows, TileQ4KDecode / TileQ6K<4, 1>, each prefetching the next
// tile; prefill 2 x 8: bench/kernels/vnni_lab.cc measured q4_k 3.1x the AVX2
// kernels on 2048 x 768 x 32 tokens); an odd last row goes to the AVX2 kernel
// (same bits). Tiling never changes a result.
#include <cstring>

#include "kernels/avx2/avx2.h"
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/intrin.h"
#include "kernels/page_step.h"
#include "quant/blocks.h"

namespace slm::kernels::avx512 {
namespace {

// kernels.h's Reduce8 of one 8-lane half.
inline float Reduce8(__m256 acc) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

inline uint16_t Half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return h;
}

// [d0 x 8 | d1 x 8] as floats (exact f16 widening).
inline __m512 ScalePair(const uint8_t* b0, const uint8_t* b1) {
  const __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16(Half(b0))),
                                            _mm_set1_epi16(Half(b1)), 1);
  return _mm512_cvtph_ps(h);
}

// Reduce8 of 16 outputs (8 zmm, two 8-lane halves each) at once: lane 4i + m of the
// result is half (i % 2) of z[2m + i / 2]. Each output is ((a0+a4)+(a2+a6))+((a1+a5)+(a3+a7)).
inline __m512 Reduce8x16(const __m512* z) {
  __m512 s1[4], s2[2];
  for (int m = 0; m < 4; ++m) {  // [g0.lo, g1.lo, g0'.lo, g1'.lo] + [.hi ...]: a[j] + a[j+4]
    s1[m] = _mm512_add_ps(_mm512_shuffle_f32x4(z[2 * m], z[2 * m + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_f32x4(z[2 * m], z[2 * m + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  }
  for (int n = 0; n < 2; ++n) {  // e0 + e2, e1 + e3
    s2[n] = _mm512_add_ps(_mm512_shuffle_ps(s1[2 * n], s1[2 * n + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm512_shuffle_ps(s1[2 * n], s1[2 * n + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  return _mm512_add_ps(_mm512_shuffle_ps(s2[0], s2[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_ps(s2[0], s2[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// Writes the P x T two-row accumulators: acc[i][j] -> rows r + 2i, r + 2i + 1 of token t + j.
// With sub (q4_k's mins, [P * T][2]), output h of accumulator k is the reduction minus sub[2k + h].
// Groups of 8 accumulators go through Reduce8x16; a last group of 2-7 is padded with zeros
// (their lanes are not stored), a single one uses Reduce8 twice.
template <int P, int T>
inline void StoreTile(float* y, int64_t y_stride, int32_t r, int32_t t, const __m512* acc,
                      const float* sub = nullptr) {
  constexpr int kN = P * T;
  for (int k = 0; k + 1 < kN; k += 8) {
    const int n = kN - k < 8 ? kN - k : 8;
    __m512 z[8];
    for (int q = 0; q < 8; ++q) z[q] = q < n ? acc[k + q] : _mm512_setzero_ps();
    alignas(64) float out[16];
    _mm512_store_ps(out, Reduce8x16(z));
    for (int q = 0; q < n; ++q) {
      const int i = (k + q) / T, j = (k + q) % T;
      float* o = y + (t + j) * y_stride + r + 2 * i;
      const int m = q / 2, h = 2 * (q % 2);
      if (sub != nullptr) {
        o[0] = out[4 * h + m] - sub[2 * (k + q)];
        o[1] = out[4 * (h + 1) + m] - sub[2 * (k + q) + 1];
      } else {
        o[0] = out[4 * h + m];
        o[1] = out[4 * (h + 1) + m];
      }
    }
  }
  if constexpr (kN % 8 == 1) {
    constexpr int k = kN - 1;
    float* o = y + (t + k % T) * y_stride + r + 2 * (k / T);
    o[0] = Reduce8(_mm512_castps512_ps256(acc[k]));
    o[1] = Reduce8(_mm512_extractf32x8_ps(acc[k], 1));
    if (sub != nullptr) {
      o[0] = o[0] - sub[2 * k];
      o[1] = o[1] - sub[2 * k + 1];
    }
  }
}

// ---- q4_k rows x ActQ8x256 -------------------------------------------------

// The 8 scales then the 8 mins of four Q4_K blocks (ggml's 12-byte unpack; the
// same values as quant::ScaleMinK4) as bytes, block k in 128-bit lane k. v is
// Heads4 of the blocks: each lane's dwords are [d | dmin, u0, u1, u2]; it
// computes [u0 & k1, (u2 & k2) | ((u0 >> 6) & k3) << 4, u1 & k1,
// ((u2 >> 4) & k2) | ((u1 >> 6) & k3) << 4] with k1 = 0x3f.., k2 = 0x0f..,
// k3 = 0x03... (Done per row in scalar code, this was ~30% of the decode tile's
// instructions.)
inline __m512i ScalesMinsK4x4(__m512i v) {
  const __m512i a = _mm512_shuffle_epi32(v, _MM_PERM_DCDB);  // [u0, u2, u1, u2]
  const __m512i b = _mm512_shuffle_epi32(v, _MM_PERM_CCBB);  // [u0, u0, u1, u1]
  const __m512i k1 = _mm512_set1_epi32(0x3f3f3f3f), k2 = _mm512_set1_epi32(0x0f0f0f0f),
                k3 = _mm512_set1_epi32(0x03030303);
  const __m512i even = _mm512_and_si512(a, k1);
  const __m512i odd =
      _mm512_or_si512(_mm512_and_si512(_mm512_srlv_epi32(a, _mm512_set4_epi32(4, 0, 0, 0)), k2),
                      _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(b, 6), k3), 4));
  return _mm512_mask_blend_epi32(0xAAAA, even, odd);
}

// The first 16 bytes of four blocks, block q[k] in 128-bit lane k.
inline __m512i Heads4(const uint8_t* q0, const uint8_t* q1, const uint8_t* q2, const uint8_t* q3) {
  auto load = [](const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); };
  __m512i v = _mm512_castsi128_si512(load(q0));
  v = _mm512_inserti32x4(v, load(q1), 1);
  v = _mm512_inserti32x4(v, load(q2), 2);
  return _mm512_inserti32x4(v, load(q3), 3);
}

// Super-block b's integer lanes for P row pairs and T tokens: lanes[i][j] is
// kernels.h's L[l] of rows 2i (lanes 0-7) and 2i + 1 (lanes 8-15) for token
// t + j. b0[i] is row 2i's block b (row 2i + 1's is row_bytes on), sm[i] the
// pair's scale/min words, sel[c] picks sub-block c's scale from them.
template <int P, int T>
inline void LanesQ4K(__m512i (&lanes)[P][T], const uint8_t* const* b0, int64_t row_bytes,
                     const __m512i* sm, const __m512i* sel, const uint8_t* x, int64_t x_stride,
                     int32_t b, int32_t t) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int i = 0; i < P; ++i) {
    for (int j = 0; j < T; ++j) lanes[i][j] = _mm512_setzero_si512();
  }
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    __m512i lo[P], hi[P], slo[P], shi[P];
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) {
      const __m512i q = _mm512_inserti64x4(
          _mm512_castsi256_si512(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0[i] + 16 + 32 * k))),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0[i] + row_bytes + 16 + 32 * k)), 1);
      lo[i] = _mm512_and_si512(q, m4);
      hi[i] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
      slo[i] = _mm512_permutexvar_epi16(sel[2 * k], sm[i]);
      shi[i] = _mm512_permutexvar_epi16(sel[2 * k + 1], sm[i]);
    }
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) {
      const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)};
      const __m512i a0 = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 20 + 64 * k)));
      const __m512i a1 = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 52 + 64 * k)));
#pragma GCC unroll 8
      for (int i = 0; i < P; ++i) {
        lanes[i][j] = _mm512_dpwssd_epi32(lanes[i][j], _mm512_maddubs_epi16(lo[i], a0), slo[i]);
        lanes[i][j] = _mm512_dpwssd_epi32(lanes[i][j], _mm512_maddubs_epi16(hi[i], a1), shi[i]);
      }
    }
  }
}

// LanesQ4K<4, 1> with fewer ops (the decode tile is compute-bound from L2, and
// less arithmetic streams faster from DRAM): per 32 bytes of codes of a row
// pair, vpdpbusd of the low nibbles gives P_lo = p[2k][l] (|.| <= 4 * 15 * 127
// = 7620, an int16) and of the bytes & 0xF0 gives 16 * p[2k + 1][l]; one
// vpdpwssd of [P_lo's low word | p[2k + 1][l] << 16] by sm's dword k
// ([sc[2k] | sc[2k + 1]]) adds sc[2k] * p[2k][l] + sc[2k + 1] * p[2k + 1][l]:
// 9 ops instead of 11, 4 on port 0 instead of 5. The next tile's lines
// (`prefetch` bytes on) are fetched two per row pair and k, among the work.
inline void LanesQ4KDecode(__m512i (&lanes)[4], const uint8_t* const* b0, int64_t pair_bytes,
                           const __m512i* sm, const uint8_t* a, int64_t prefetch) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), m4hi = _mm512_set1_epi8(static_cast<char>(0xF0));
  const __m512i low_word = _mm512_set1_epi32(0xFFFF);
  for (auto& l : lanes) l = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    // Dword k of row 0's scale words, dword 8 + k of row 1's.
    const __m512i sel = _mm512_inserti64x4(_mm512_set1_epi32(k), _mm256_set1_epi32(8 + k), 1);
    const __m512i a0 = _mm512_broadcast_i64x4(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 20 + 64 * k)));
    const __m512i a1 = _mm512_broadcast_i64x4(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 52 + 64 * k)));
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      if (k < 3) {
        _mm_prefetch(reinterpret_cast<const char*>(b0[i] + prefetch + 64 * k), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b0[i] + pair_bytes + prefetch + 64 * k),
                     _MM_HINT_T0);
      }
      const __m512i q = _mm512_inserti64x4(
          _mm512_castsi256_si512(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0[i] + 16 + 32 * k))),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0[i] + pair_bytes + 16 + 32 * k)),
          1);
      const __m512i zero = _mm512_setzero_si512();
      const __m512i plo = _mm512_dpbusd_epi32(zero, _mm512_and_si512(q, m4), a0);
      const __m512i phi16 = _mm512_dpbusd_epi32(zero, _mm512_and_si512(q, m4hi), a1);
      // low_word ? plo : phi16 << 12, bit by bit.
      const __m512i packed =
          _mm512_ternarylogic_epi32(low_word, plo, _mm512_slli_epi32(phi16, 12), 0xCA);
      lanes[i] = _mm512_dpwssd_epi32(lanes[i], packed, _mm512_permutexvar_epi32(sel, sm[i]));
    }
  }
}

// Rows r .. r + 2P - 1, tokens t .. t + T - 1. Integer lanes per super-block:
// maddubs (4-bit code x activation, int16 pairs, no saturation: 2 * 15 * 127)
// then vpdpwssd with the sub-block scale (int16) adds pairs of pairs times
// sc[c] into int32 lane l: L[l] of kernels.h. Mins: lanes 0 and 4 of a
// __m256 per (pair, token) hold the two rows' running `mins`.
// With `pre` (T == 8 only; MinsInputs of this tile's 8 tokens) the mins of
// each row pair run 16 (token, row) lanes wide: lane 2j + h holds row h's
// `mins` for token j, M comes from 4 vpdpwssd of the tokens' bsums pairs by
// the rows' mins pairs, and the float step is one zmm mul, mul, add per pair
// and super-block instead of 8 ymm ones: the same products and sums per lane.
template <int P, int T>
void TileQ4K(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
             int64_t x_stride, int32_t in, int32_t r, int32_t t, const __m512i* pre = nullptr) {
  const bool wide = T == 8 && pre != nullptr;
  __m512 mins16[P];
  for (int i = 0; i < P; ++i) mins16[i] = _mm512_setzero_ps();
  __m512 acc[P][T];
  __m256 mins[P][T];
  for (int i = 0; i < P; ++i) {
    for (int j = 0; j < T; ++j) {
      acc[i][j] = _mm512_setzero_ps();
      mins[i][j] = _mm256_setzero_ps();
    }
  }
  // Word c (sub-block c's scale) of row 0 in the low half, of row 1 in the high.
  __m512i sel[8];
  for (int c = 0; c < 8; ++c) {
    sel[c] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(static_cast<short>(c))),
                                _mm256_set1_epi16(static_cast<short>(16 + c)), 1);
  }
  // Words 8-15 (mins of row 0) then 24-31 (mins of row 1).
  const __m512i sel_m = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 31, 30, 29,
                                         28, 27, 26, 25, 24, 15, 14, 13, 12, 11, 10, 9, 8);
  const uint8_t* row0 = w + r * row_bytes;
  for (int32_t b = 0; b < in / 256; ++b) {
    __m512i sm[P];
    __m512 dd[P];
    __m256 dmin[P];
    __m256i mw[P];
    const uint8_t* b0[P];
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) {
      b0[i] = row0 + (2 * i) * row_bytes + b * int64_t{sizeof(quant::BlockQ4_K)};
      if (T == 1) {
        for (int l = 0; l < 144; l += 64) {
          _mm_prefetch(reinterpret_cast<const char*>(b0[i] + 2 * P * row_bytes + l), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(b0[i] + (2 * P + 1) * row_bytes + l),
                       _MM_HINT_T0);
        }
      }
    }
    // Two row pairs per ScalesMinsK4x4 (an odd last pair is read twice).
#pragma GCC unroll 4
    for (int i = 0; i < P; i += 2) {
      const uint8_t* c = b0[i + 1 < P ? i + 1 : i];
      const __m512i u = ScalesMinsK4x4(Heads4(b0[i], b0[i] + row_bytes, c, c + row_bytes));
      sm[i] = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(u));
      if (i + 1 < P) sm[i + 1] = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(u, 1));
    }
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) {
      const uint8_t* b1 = b0[i] + row_bytes;
      mw[i] = _mm512_castsi512_si256(_mm512_permutexvar_epi16(sel_m, sm[i]));
      dd[i] = ScalePair(b0[i], b1);
      // [dmin of row 0 x 4 | dmin of row 1 x 4] (lanes 0 and 4 are used).
      dmin[i] = _mm256_cvtph_ps(
          _mm_unpacklo_epi64(_mm_set1_epi16(Half(b0[i] + 2)), _mm_set1_epi16(Half(b1 + 2))));
    }
    __m512i lanes[P][T];
    LanesQ4K<P, T>(lanes, b0, row_bytes, sm, sel, x, x_stride, b, t);
    if (wide) {
      const __m512i* pb = pre + 5 * b;  // bsums pairs k = 0..3, then d per (token, row)
#pragma GCC unroll 8
      for (int i = 0; i < P; ++i) {
        const __m512i mw5 = _mm512_castsi256_si512(mw[i]);
        __m512i m = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {  // dword k of row 0's mins, dword 4 + k of row 1's
          const __m512i idx = _mm512_set_epi32(4 + k, k, 4 + k, k, 4 + k, k, 4 + k, k, 4 + k, k,
                                               4 + k, k, 4 + k, k, 4 + k, k);
          m = _mm512_dpwssd_epi32(m, pb[k], _mm512_permutexvar_epi32(idx, mw5));
        }
        // [dmin0, dmin1] x 8 from dmin[i] = [dmin0 x 4 | dmin1 x 4].
        const __m512 dm =
            _mm512_permutexvar_ps(_mm512_set_epi32(4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0),
                                  _mm512_castps256_ps512(dmin[i]));
        mins16[i] = _mm512_add_ps(
            mins16[i],
            _mm512_mul_ps(_mm512_mul_ps(dm, _mm512_castsi512_ps(pb[4])), _mm512_cvtepi32_ps(m)));
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) {
      const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)};
      float ad;
      std::memcpy(&ad, a, 4);
      const __m512 adv = _mm512_set1_ps(ad);
      const __m256i bs =
          _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + 4)));
#pragma GCC unroll 8
      for (int i = 0; i < P; ++i) {
        acc[i][j] = _mm512_add_ps(
            acc[i][j], _mm512_mul_ps(_mm512_mul_ps(dd[i], adv), _mm512_cvtepi32_ps(lanes[i][j])));
        if (wide) continue;
        // M of row 0 in lane 0, of row 1 in lane 4 (exact int32 sums).
        __m256i m = _mm256_madd_epi16(mw[i], bs);
        m = _mm256_add_epi32(m, _mm256_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
        m = _mm256_add_epi32(m, _mm256_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
        mins[i][j] = _mm256_add_ps(
            mins[i][j], _mm256_mul_ps(_mm256_mul_ps(dmin[i], _mm512_castps512_ps256(adv)),
                                      _mm256_cvtepi32_ps(m)));
      }
    }
  }
  alignas(64) float sub[P * T][2];
  for (int i = 0; i < P; ++i) {
    if (wide) {  // lane 2j + h = sub[i * 8 + j][h]
      _mm512_store_ps(&sub[i * T][0], mins16[i]);
      continue;
    }
    for (int j = 0; j < T; ++j) {
      float m[8];
      _mm256_storeu_ps(m, mins[i][j]);
      sub[i * T + j][0] = m[0];
      sub[i * T + j][1] = m[4];
    }
  }
  StoreTile<P, T>(y, y_stride, r, t, &acc[0][0], &sub[0][0]);
}

// Decode (one token) of the 8 rows r + j * step (j = 0..7): LanesQ4KDecode's
// integer lanes (rows 2i, 2i + 1 as pair i), with the rest of each
// super-block's work done for the 8 rows at once rather than per row pair
// (~31 vector ops per pair and super-block -> ~17; the tile is compute-bound
// from L2 and streams faster from DRAM with less arithmetic:
// bench/kernels/RESULTS.md). The same products and sums per lane:
//   f     = float(d, dmin of rows 0-7, lane 2r / 2r + 1) * act.d   (16 lanes)
//   acc_i = acc_i + permute(f: d of rows 2i, 2i + 1) * float(L)
//   M     = 4 madds of each pair's min words by the broadcast bsums, then a
//           4-lane sum per row: rows j and 4 + j in lanes 4j and 4j + 2
//   mins  = mins + permute(f: dmin per M lane) * float(M)
inline void TileQ4KDecode(float* y, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
                          int32_t in, int32_t r, int32_t step, int64_t next) {
  const int64_t rs = step * row_bytes;  // bytes from tile row j to j + 1
  // Dword 0 (d | dmin << 16) of each 128-bit lane of two Heads4 results.
  const __m512i heads = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 28, 24, 20, 16, 12, 8, 4, 0);
  __m512i d_of[4];  // lanes 0-7: row 2i's d (lane 4i of f), 8-15: row 2i + 1's (4i + 2)
  for (int i = 0; i < 4; ++i) {
    d_of[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(4 * i)),
                                 _mm256_set1_epi32(4 * i + 2), 1);
  }
  // M lane 4j + e -> dmin of row j (lane 2j + 1), 4j + 2 + e -> of row 4 + j (2j + 9).
  const __m512i dmin_of = _mm512_set_epi32(15, 15, 7, 7, 13, 13, 5, 5, 11, 11, 3, 3, 9, 9, 1, 1);
  __m512 acc[4][1];
  for (auto& a : acc) a[0] = _mm512_setzero_ps();
  __m512 mins = _mm512_setzero_ps();
  const uint8_t* row0 = w + r * row_bytes;
  for (int32_t b = 0; b < in / 256; ++b) {
    const uint8_t* b0[4];
    for (int i = 0; i < 4; ++i) {
      b0[i] = row0 + (2 * i) * rs + b * int64_t{sizeof(quant::BlockQ4_K)};
    }
    const __m512i v0 = Heads4(b0[0], b0[0] + rs, b0[1], b0[1] + rs);
    const __m512i v1 = Heads4(b0[2], b0[2] + rs, b0[3], b0[3] + rs);
    const __m512i u0 = ScalesMinsK4x4(v0), u1 = ScalesMinsK4x4(v1);
    const __m512i sm[4] = {_mm512_cvtepu8_epi16(_mm512_castsi512_si256(u0)),
                           _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(u0, 1)),
                           _mm512_cvtepu8_epi16(_mm512_castsi512_si256(u1)),
                           _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(u1, 1))};
    const uint8_t* a = x + b * int64_t{sizeof(ActQ8x256)};
    float ad;
    std::memcpy(&ad, a, 4);
    const __m512 f = _mm512_mul_ps(
        _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi32(v0, heads, v1))),
        _mm512_set1_ps(ad));
    __m512i lanes[4];
    LanesQ4KDecode(lanes, b0, rs, sm, a, next);
    // Words 8-15 / 24-31 of sm[i] are rows 2i / 2i + 1's mins: with the bsums in
    // every 128-bit lane, 128-bit lanes 1 and 3 of the madd hold their pair sums.
    const __m512i bs =
        _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + 4)));
    __m512i mm[4];
    for (int i = 0; i < 4; ++i) {
      acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_mul_ps(_mm512_permutexvar_ps(d_of[i], f),
                                                         _mm512_cvtepi32_ps(lanes[i])));
      mm[i] = _mm512_madd_epi16(sm[i], bs);
    }
    const __m512i s01 = _mm512_shuffle_i32x4(mm[0], mm[1], _MM_SHUFFLE(3, 1, 3, 1));  // rows 0-3
    const __m512i s23 = _mm512_shuffle_i32x4(mm[2], mm[3], _MM_SHUFFLE(3, 1, 3, 1));  // rows 4-7
    const __m512i z =
        _mm512_add_epi32(_mm512_unpacklo_epi64(s01, s23), _mm512_unpackhi_epi64(s01, s23));
    const __m512i m = _mm512_add_epi32(z, _mm512_shuffle_epi32(z, _MM_PERM_CDAB));
    mins = _mm512_add_ps(mins,
                         _mm512_mul_ps(_mm512_permutexvar_ps(dmin_of, f), _mm512_cvtepi32_ps(m)));
  }
  alignas(64) float ml[16];
  _mm512_store_ps(ml, mins);
  float sub[4][2];
  for (int i = 0; i < 4; ++i) {
    for (int h = 0; h < 2; ++h) {
      const int row = 2 * i + h;
      sub[i][h] = ml[row < 4 ? 4 * row : 4 * (row - 4) + 2];
    }
  }
  float out[8];
  StoreTile<4, 1>(out, 0, 0, 0, &acc[0][0], &sub[0][0]);
  for (int j = 0; j < 8; ++j) y[r + j * step] = out[j];
}

// TileQ4K's `pre` for tokens t .. t + 7: per super-block b, 5 zmm: k = 0..3
// with dword k of token j's bsums (int16 pair 2k, 2k + 1) in lanes 2j, 2j + 1,
// then token j's act.d in lanes 2j, 2j + 1.
constexpr int32_t kMaxMinsBlocks = 32;  // in <= 8192
inline void MinsInputs(__m512i* pre, const uint8_t* x, int64_t x_stride, int32_t nsb, int32_t t) {
  for (int32_t b = 0; b < nsb; ++b) {
    alignas(64) uint32_t v[5][16];
    for (int j = 0; j < 8; ++j) {
      const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)};
      for (int k = 0; k < 5; ++k) {
        uint32_t u;
        std::memcpy(&u, k < 4 ? a + 4 + 4 * k : a, 4);
        v[k][2 * j] = v[k][2 * j + 1] = u;
      }
    }
    for (int k = 0; k < 5; ++k) pre[5 * b + k] = _mm512_load_si512(v[k]);
  }
}

// Decode uses 4 row pairs (the lab's best from DRAM), prefill P x T.
template <int P, int T>
void MatMulQ4KTiled(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x,
                    int64_t x_stride, int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  const int64_t row_bytes = int64_t{in} / 256 * int64_t{sizeof(quant::BlockQ4_K)};
  int32_t r = r0;
  if (n_tok == 1) {
    // Page-strided tiles (page_step.h): with 8 adjacent rows (3.6 per 4 KiB
    // page for in = 2048) the L2 streamer mostly did not follow: stream_lab on
    // 2048 x 2048 q4_k at 2 threads read 26.7 GB/s, strided 29.5 (membw ~30).
    r = PageStridedDecode<8>(r, r1, row_bytes, 1 << 20, [&](int32_t g, int32_t s, int64_t n) {
      TileQ4KDecode(y, w, row_bytes, x, in, g, s, n);
    });
    for (; r + 8 <= r1; r += 8) TileQ4KDecode(y, w, row_bytes, x, in, r, 1, 8 * row_bytes);
    for (; r + 2 <= r1; r += 2) TileQ4K<1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);
  } else {
    // Mins inputs of up to 4 full 8-token groups (n_tok <= 32 covers every
    // Session batch), else the narrow mins.
    const int32_t nsb = in / 256, groups = T == 8 ? n_tok / 8 : 0;
    const bool wide = groups >= 1 && groups <= 4 && nsb <= kMaxMinsBlocks;
    alignas(64) __m512i pre[4 * 5 * kMaxMinsBlocks];  // 40 KiB
    if (wide) {
      for (int32_t g = 0; g < groups; ++g) MinsInputs(pre + g * 5 * nsb, x, x_stride, nsb, 8 * g);
    }
    for (; r + 2 * P <= r1; r += 2 * P) {
      int32_t t = 0;
      for (; t + T <= n_tok; t += T) {
        TileQ4K<P, T>(y, y_stride, w, row_bytes, x, x_stride, in, r, t,
                      wide ? pre + (t / 8) * 5 * nsb : nullptr);
      }
      for (; t < n_tok; ++t) TileQ4K<P, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
    }
    for (; r + 2 <= r1; r += 2) {
      for (int32_t t = 0; t < n_tok; ++t)
        TileQ4K<1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
    }
  }
  if (r < r1) avx2::MatMulQ4_K(y, y_stride, w, x, x_stride, in, r, r1, n_tok);
}

// ---- q6_k rows x ActQ8x256 -------------------------------------------------

// Rows r .. r + 2P - 1, tokens t .. t + T - 1. Per 32-value chunk c: maddubs
// of the 6-bit codes u (0..63) with the activations minus maddubs(32, a)
// (activation-only, once per token and chunk) gives int16 pair sums of
// (u - 32) * a (|.| <= 24130, no saturation); vpdpwssd by the int8 scale of
// each pair's 16-value sub-block (words 0-7: sc[2c], 8-15: sc[2c + 1]) adds
// them into int32 lane l: kernels.h's L[l].
template <int P, int T>
void TileQ6K(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
             int64_t x_stride, int32_t in, int32_t r, int32_t t, int32_t step = 1,
             int64_t next = 0) {
  // Tile row k is row r + k * step (step > 1: decode only, as in
  // MatMulQ4KTiled); T == 1 prefetches the next tile, `next` bytes on (0: the
  // 2P rows after this tile's).
  const int64_t rs = step * row_bytes;
  if (next == 0) next = 2 * P * row_bytes;
  __m512 acc[P][T];
  for (int i = 0; i < P; ++i) {
    for (int j = 0; j < T; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(3);
  const __m512i k32 = _mm512_set1_epi8(32);
  // Scale words of chunk c: [sc0[2c] x 8, sc0[2c+1] x 8 | sc1[2c] x 8, sc1[2c+1] x 8].
  __m512i sel[8];
  for (int c = 0; c < 8; ++c) {
    const __m256i lo =
        _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16(static_cast<short>(2 * c))),
                                _mm_set1_epi16(static_cast<short>(2 * c + 1)), 1);
    sel[c] = _mm512_inserti64x4(_mm512_castsi256_si512(lo),
                                _mm256_add_epi16(lo, _mm256_set1_epi16(16)), 1);
  }
  const uint8_t* row0 = w + r * row_bytes;
  for (int32_t b = 0; b < in / 256; ++b) {
    __m512i sc[P];
    __m512 dd[P];
    const uint8_t* b0[P];
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) {
      b0[i] = row0 + (2 * i) * rs + b * int64_t{sizeof(quant::BlockQ6_K)};
      const uint8_t* b1 = b0[i] + rs;
      if (T == 1) {
        for (int l = 0; l < 210; l += 64) {
          _mm_prefetch(reinterpret_cast<const char*>(b0[i] + next + l), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(b1 + next + l), _MM_HINT_T0);
        }
      }
      const __m256i s0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(
          reinterpret_cast<const __m128i*>(b0[i] + offsetof(quant::BlockQ6_K, scales))));
      const __m256i s1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(
          reinterpret_cast<const __m128i*>(b1 + offsetof(quant::BlockQ6_K, scales))));
      sc[i] = _mm512_inserti64x4(_mm512_castsi256_si512(s0), s1, 1);
      dd[i] = ScalePair(b0[i] + offsetof(quant::BlockQ6_K, d), b1 + offsetof(quant::BlockQ6_K, d));
    }
    __m512i lanes[P][T];
    for (int i = 0; i < P; ++i) {
      for (int j = 0; j < T; ++j) lanes[i][j] = _mm512_setzero_si512();
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m512i q[P][4];
#pragma GCC unroll 8
      for (int i = 0; i < P; ++i) {
        const uint8_t* ql = b0[i] + 64 * h;
        const uint8_t* qh = b0[i] + offsetof(quant::BlockQ6_K, qh) + 32 * h;
        auto pair = [rs](const uint8_t* p) {
          return _mm512_inserti64x4(
              _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + rs)), 1);
        };
        const __m512i l0 = pair(ql), l1 = pair(ql + 32), vh = pair(qh);
        q[i][0] = _mm512_or_si512(_mm512_and_si512(l0, m4),
                                  _mm512_slli_epi16(_mm512_and_si512(vh, m2), 4));
        q[i][1] =
            _mm512_or_si512(_mm512_and_si512(l1, m4),
                            _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(vh, 2), m2), 4));
        q[i][2] =
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l0, 4), m4),
                            _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(vh, 4), m2), 4));
        q[i][3] =
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l1, 4), m4),
                            _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(vh, 6), m2), 4));
      }
#pragma GCC unroll 4
      for (int jc = 0; jc < 4; ++jc) {
        const int c = 4 * h + jc;
        __m512i scv[P];
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) scv[i] = _mm512_permutexvar_epi16(sel[c], sc[i]);
#pragma GCC unroll 8
        for (int j = 0; j < T; ++j) {
          const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)};
          const __m512i av = _mm512_broadcast_i64x4(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 20 + 32 * c)));
          const __m512i corr = _mm512_maddubs_epi16(k32, av);
#pragma GCC unroll 8
          for (int i = 0; i < P; ++i) {
            const __m512i p16 = _mm512_sub_epi16(_mm512_maddubs_epi16(q[i][jc], av), corr);
            lanes[i][j] = _mm512_dpwssd_epi32(lanes[i][j], p16, scv[i]);
          }
        }
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) {
      const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)};
      float ad;
      std::memcpy(&ad, a, 4);
      const __m512 adv = _mm512_set1_ps(ad);
#pragma GCC unroll 8
      for (int i = 0; i < P; ++i) {
        acc[i][j] = _mm512_add_ps(
            acc[i][j], _mm512_mul_ps(_mm512_mul_ps(dd[i], adv), _mm512_cvtepi32_ps(lanes[i][j])));
      }
    }
  }
  if (step == 1) {
    StoreTile<P, T>(y, y_stride, r, t, &acc[0][0]);
  } else {
    float out[2 * P];
    StoreTile<P, T>(out, 0, 0, 0, &acc[0][0]);
    for (int k = 0; k < 2 * P; ++k) y[r + k * step] = out[k];
  }
}

template <int P, int T>
void MatMulQ6KTiled(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x,
                    int64_t x_stride, int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  const int64_t row_bytes = int64_t{in} / 256 * int64_t{sizeof(quant::BlockQ6_K)};
  int32_t r = r0;
  if (n_tok == 1) {
    r = PageStridedDecode<8>(r, r1, row_bytes, 1 << 20, [&](int32_t g, int32_t s, int64_t n) {
      TileQ6K<4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, g, 0, s, n);
    });
    for (; r + 8 <= r1; r += 8) TileQ6K<4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);
    for (; r + 2 <= r1; r += 2) TileQ6K<1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);
  } else {
    for (; r + 2 * P <= r1; r += 2 * P) {
      int32_t t = 0;
      for (; t + T <= n_tok; t += T)
        TileQ6K<P, T>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
      for (; t < n_tok; ++t) TileQ6K<P, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
    }
    for (; r + 2 <= r1; r += 2) {
      for (int32_t t = 0; t < n_tok; ++t)
        TileQ6K<1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
    }
  }
  if (r < r1) avx2::MatMulQ6_K(y, y_stride, w, x, x_stride, in, r, r1, n_tok);
}

}  // namespace

void MatMulQ6_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  MatMulQ6KTiled<2, 8>(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
}

void MatMulQ4_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  MatMulQ4KTiled<2, 8>(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
}

}  // namespace slm::kernels::avx512

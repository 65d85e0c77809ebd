// AVX-512 VNNI matmuls for q8_0 / q4_0 (contract 2 of kernels.h: one exact
// int32 per 32-value block, acc = acc + s * float(p) per output, blocks
// ascending; the scalar twin is scalar/matmul.cc).
//
// Register layout: 16 ROWS per zmm, one lane per row. A tile of 16 rows x T
// tokens transposes each block of its 16 rows once (8 zmm G[g], lane k =
// bytes 4g..4g+3 of row r + k) and reuses it for all T tokens: per token, 8
// vpdpbusd against the token's activation dword g broadcast to every lane give
// the 16 rows' block dots p in one zmm, and the float step is one 16-lane
// cvt, two muls and an add. Contract 1's 8 float lanes per row cost ~5 ops
// per (2 rows, block, token); this is ~13 per (16 rows, block, token) plus
// ~35 shared transposition ops per (16 rows, block).
// Integer part: vpdpbusd multiplies unsigned by signed bytes, so weight codes
// are made unsigned, u = w + k (q8_0: k = 128, w ^ 0x80; q4_0: k = 8, the raw
// nibble), and p starts at -k * (a[0] + ... + a[31]) (StartValues, once per
// call, token and block): p = sum (u - k) * a exactly (|p| < 2^20).
// Transposition: Z_i = [row i | row i + 4] (i = 0..3) and Z_{4+i} = [row 8 + i
// | row 12 + i]; unpack 32, unpack 64 and one shuffle_i32x4 per output leave
// row r + k in lane k (24 shuffles for 16 rows x 8 dwords).
// Decode (one token) has no tokens to share a transposition with: Unpack::Dots
// multiplies the rows as they lie (q8_0 two rows per zmm, q4_0 four) and
// reduces the partial dots once (ReduceRows4/8: 6 or 14 shuffles), the same
// exact p. bench/kernels/RESULTS.md: q4_0 decode from L2 16.1 -> 21 GB/s.
// Rows left over (r1 - r0 not a multiple of 16) go to the AVX2 kernel, same bits.
#include <cstring>

#include "kernels/avx2/avx2.h"
#include "kernels/avx512/avx512.h"
#include "kernels/avx512/intrin.h"
#include "kernels/page_step.h"
#include "quant/blocks.h"

namespace slm::kernels::avx512 {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ8_0;

// z[i] lane L (128 bits) = 4 partial dots of row i + 4L -> lane k = the
// whole dot of row k (k = 0..15). 4 unpacks and 3 adds; integer sums, exact.
inline __m512i ReduceRows4(const __m512i* z) {
  const __m512i s01 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(z[0], z[1]), _mm512_unpackhi_epi32(z[0], z[1]));
  const __m512i s23 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(z[2], z[3]), _mm512_unpackhi_epi32(z[2], z[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(s01, s23), _mm512_unpackhi_epi64(s01, s23));
}

// Transposition's layout (z[i] = [row i | row i + 4], z[4 + i] = [row 8 + i |
// row 12 + i]), each 256-bit half 8 partial dots of its row -> lane k = the
// whole dot of row k.
inline __m512i ReduceRows8(const __m512i* z) {
  // w0's 128-bit lanes: rows 0-3 (partials 0-3), rows 0-3 (partials 4-7),
  // rows 4-7 (0-3), rows 4-7 (4-7); w1's the same for rows 8-15.
  const __m512i w0 = ReduceRows4(z), w1 = ReduceRows4(z + 4);
  return _mm512_add_epi32(_mm512_shuffle_i32x4(w0, w1, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i32x4(w0, w1, _MM_SHUFFLE(3, 1, 3, 1)));
}

inline __m128i Load128(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// Unsigned codes u (value = u - kOffset) of one block of two rows: row 0 in
// bytes 0-31, row 1 in bytes 32-63 (value order).
struct UnpackQ8_0 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ8_0);
  static constexpr int32_t kOffset = 128;
  static __m512i Codes(const uint8_t* b0, const uint8_t* b1) {
    const __m512i q = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + 2))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b1 + 2)), 1);
    return _mm512_xor_si512(q, _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  // One token's block dots sum(u * a) of the 16 rows at blk (row stride rs),
  // a = the token's 32 codes: row-major products, then one reduction
  // (ReduceRows8: 14 shuffles where the transposition takes 24).
  static __m512i Dots(const uint8_t* blk, int64_t rs, const uint8_t* a) {
    const __m512i av =
        _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)));
    __m512i z[8];
    for (int i = 0; i < 4; ++i) {
      z[i] =
          _mm512_dpbusd_epi32(_mm512_setzero_si512(), Codes(blk + i * rs, blk + (i + 4) * rs), av);
      z[4 + i] = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                                     Codes(blk + (8 + i) * rs, blk + (12 + i) * rs), av);
    }
    return ReduceRows8(z);
  }
  static void Rest(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                   int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
    avx2::MatMulQ8_0(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
  }
};
struct UnpackQ4_0 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ4_0);
  static constexpr int32_t kOffset = 8;
  static __m512i Codes(const uint8_t* b0, const uint8_t* b1) {
    // [q0 | q1] (16 bytes each) -> 128-bit lanes [q0 & 15, q0 >> 4, q1 & 15, q1 >> 4]:
    // values 0-15 then 16-31 of each row.
    const __m256i q = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b0 + 2))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(b1 + 2)), 1);
    const __m512i z =
        _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1),
                         _mm512_set1_epi8(0x0F));
    return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
  }
  // One token's block dots (as UnpackQ8_0::Dots). Four rows per zmm, one per
  // 128-bit lane, straight from memory (inserts, no shuffles): low nibbles
  // against values 0-15 of a, high nibbles against 16-31.
  static __m512i Dots(const uint8_t* blk, int64_t rs, const uint8_t* a) {
    const __m512i a_lo = _mm512_broadcast_i32x4(Load128(a));
    const __m512i a_hi = _mm512_broadcast_i32x4(Load128(a + 16));
    const __m512i m = _mm512_set1_epi8(0x0F);
    __m512i z[4];
    for (int i = 0; i < 4; ++i) {
      __m512i q = _mm512_castsi128_si512(Load128(blk + i * rs + 2));
      q = _mm512_inserti32x4(q, Load128(blk + (i + 4) * rs + 2), 1);
      q = _mm512_inserti32x4(q, Load128(blk + (i + 8) * rs + 2), 2);
      q = _mm512_inserti32x4(q, Load128(blk + (i + 12) * rs + 2), 3);
      z[i] = _mm512_dpbusd_epi32(
          _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q, m), a_lo),
          _mm512_and_si512(_mm512_srli_epi16(q, 4), m), a_hi);
    }
    return ReduceRows4(z);
  }
  static void Rest(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                   int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
    avx2::MatMulQ4_0(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
  }
};

// G[g] lane k = dword g (values 4g..4g+3) of row k of the 16 rows at blk
// (row stride rb bytes), unsigned codes.
template <typename Unpack>
inline void Transpose16(const uint8_t* blk, int64_t rb, __m512i* G) {
  __m512i z[8], t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    z[i] = Unpack::Codes(blk + i * rb, blk + (i + 4) * rb);
    z[4 + i] = Unpack::Codes(blk + (8 + i) * rb, blk + (12 + i) * rb);
  }
  for (int h = 0; h < 8; h += 4) {
    t[h + 0] = _mm512_unpacklo_epi32(z[h + 0], z[h + 1]);  // d0 d0 d1 d1 per 128-bit lane
    t[h + 1] = _mm512_unpackhi_epi32(z[h + 0], z[h + 1]);  // d2 d2 d3 d3
    t[h + 2] = _mm512_unpacklo_epi32(z[h + 2], z[h + 3]);
    t[h + 3] = _mm512_unpackhi_epi32(z[h + 2], z[h + 3]);
    u[h + 0] = _mm512_unpacklo_epi64(t[h + 0], t[h + 2]);  // d0 of 4 rows (d4 in lanes 1, 3)
    u[h + 1] = _mm512_unpackhi_epi64(t[h + 0], t[h + 2]);  // d1 (d5)
    u[h + 2] = _mm512_unpacklo_epi64(t[h + 1], t[h + 3]);  // d2 (d6)
    u[h + 3] = _mm512_unpackhi_epi64(t[h + 1], t[h + 3]);  // d3 (d7)
  }
  for (int g = 0; g < 4; ++g) {
    G[g] = _mm512_shuffle_i32x4(u[g], u[4 + g], _MM_SHUFFLE(2, 0, 2, 0));
    G[g + 4] = _mm512_shuffle_i32x4(u[g], u[4 + g], _MM_SHUFFLE(3, 1, 3, 1));
  }
}

inline int32_t Dword(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Rows r .. r + 15, tokens t .. t + T - 1; init[j * nb + b] = -k * sum(a) of
// token t + j, block b. y rows are contiguous per token, so each token's 16
// outputs are one store.
template <typename Unpack, int T>
void Tile16(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
            int64_t x_stride, int32_t nb, int32_t r, int32_t t, const int32_t* init,
            int32_t step = 1) {
  __m512 acc[T];
  for (int j = 0; j < T; ++j) acc[j] = _mm512_setzero_ps();
  const uint8_t* row0 = w + r * row_bytes;
  const int64_t rs = step * row_bytes;
  // Byte offsets of the 16 rows' scales from a block (rs * 15 < 2^31:
  // MatMulQ8 checks).
  const __m512i roff =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int32_t>(rs)));
  // Each block step prefetches its share of the next tile (16 rows,
  // contiguous) so that tile is in L1 when it starts: decode streams W once
  // from DRAM or L3, and a batch tile is only T times denser in compute.
  const uint8_t* next = row0 + 16 * row_bytes;
  const int64_t share = (16 * row_bytes + nb - 1) / nb;
  const uint8_t* act[T];
  for (int j = 0; j < T; ++j) act[j] = x + (t + j) * x_stride;
  for (int32_t b = 0; b < nb; ++b) {
    const uint8_t* blk = row0 + b * Unpack::kBlockBytes;
    if (step == 1) {
      for (int64_t o = 0; o < share; o += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(next + b * share + o), _MM_HINT_T0);
      }
    } else if ((b * Unpack::kBlockBytes) / 64 != ((b + 1) * Unpack::kBlockBytes) / 64) {
      // Page-strided rows: each row's own stream, 512 bytes ahead, once per
      // line (stream_lab 2048 x 2048 q8_0 at 2 threads: 25.0 -> 29.3 GB/s).
      for (int k = 0; k < 16; ++k) {
        _mm_prefetch(reinterpret_cast<const char*>(blk + k * rs + 512), _MM_HINT_T0);
      }
    }
    // The 16 f16 scales (low half of each gathered dword), widened exactly.
    const __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_i32gather_epi32(roff, blk, 1)));
    __m512i p[T];
    const int64_t ab = b * int64_t{sizeof(ActQ8x32)} + 4;
    if constexpr (T == 1) {
      // Decode: nothing to share a transposition with.
      p[0] = _mm512_add_epi32(Unpack::Dots(blk, rs, act[0] + ab), _mm512_set1_epi32(init[b]));
    } else {
      __m512i G[8];
      Transpose16<Unpack>(blk, rs, G);
      // g outer, tokens inner: T independent vpdpbusd chains.
      for (int j = 0; j < T; ++j) p[j] = _mm512_set1_epi32(init[j * nb + b]);
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
#pragma GCC unroll 8
        for (int j = 0; j < T; ++j) {
          p[j] = _mm512_dpbusd_epi32(p[j], G[g], _mm512_set1_epi32(Dword(act[j] + ab + 4 * g)));
        }
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) {
      float ad;
      std::memcpy(&ad, act[j] + ab - 4, 4);
      const __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(ad));
      acc[j] = _mm512_add_ps(acc[j], _mm512_mul_ps(s, _mm512_cvtepi32_ps(p[j])));
    }
  }
  if (step == 1) {
    for (int j = 0; j < T; ++j) _mm512_storeu_ps(y + (t + j) * y_stride + r, acc[j]);
  } else {
    for (int j = 0; j < T; ++j) {
      alignas(64) float out[16];
      _mm512_store_ps(out, acc[j]);
      for (int k = 0; k < 16; ++k) y[(t + j) * y_stride + r + k * step] = out[k];
    }
  }
}

// init[j * nb + b] = -k * (sum of the 32 activation codes of token t + j, block b).
template <typename Unpack>
void StartValues(int32_t* init, const uint8_t* x, int64_t x_stride, int32_t nb, int32_t t,
                 int32_t nt) {
  const __m256i ones = _mm256_set1_epi8(1);
  for (int32_t j = 0; j < nt; ++j) {
    const uint8_t* a = x + (t + j) * x_stride + 4;
    for (int32_t b = 0; b < nb; ++b, a += sizeof(ActQ8x32)) {
      const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
      const __m256i s8 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, aq);  // 8 sums of 4
      const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
      const __m128i s2 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
      const int32_t sum = _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 1)));
      init[j * nb + b] = -Unpack::kOffset * sum;
    }
  }
}

constexpr int kTok = 8;                   // tokens per tile (8 accumulators + 8 G[g])
constexpr int32_t kMaxInitBlocks = 1024;  // in <= 32768 for this path (32 KiB of init)

template <typename Unpack>
void MatMulQ8(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
              int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  const int32_t nb = in / 32;
  const int64_t row_bytes = int64_t{nb} * Unpack::kBlockBytes;
  // Empty rows too: Tile16's prefetch share divides by nb.
  if (nb == 0 || nb > kMaxInitBlocks || row_bytes * 15 >= (int64_t{1} << 31) || r1 - r0 < 16) {
    Unpack::Rest(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
    return;
  }
  alignas(64) int32_t init[kTok * kMaxInitBlocks];
  int32_t r_start = r0;
  if (n_tok == 1) {
    // Page-strided tiles (page_step.h), which prefetch along each row instead
    // of the next tile; step * row_bytes < 8 KiB keeps Tile16's offsets small.
    StartValues<Unpack>(init, x, x_stride, nb, 0, 1);
    r_start = PageStridedDecode<16>(r0, r1, row_bytes, 1 << 20, [&](int32_t g, int32_t s, int64_t) {
      Tile16<Unpack, 1>(y, y_stride, w, row_bytes, x, x_stride, nb, g, 0, init, s);
    });
  }
  const int32_t r_end = r_start + (r1 - r_start) / 16 * 16;
  for (int32_t t = 0; t < n_tok; t += kTok) {
    const int32_t nt = n_tok - t < kTok ? n_tok - t : kTok;
    if (n_tok > 1) StartValues<Unpack>(init, x, x_stride, nb, t, nt);  // one token: above
    for (int32_t r = r_start; r < r_end; r += 16) {
      switch (nt) {
#define SLM_CASE(N)                                                            \
  case N:                                                                      \
    Tile16<Unpack, N>(y, y_stride, w, row_bytes, x, x_stride, nb, r, t, init); \
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
    }
  }
  if (r_end < r1) Unpack::Rest(y, y_stride, w, x, x_stride, in, r_end, r1, n_tok);
}

}  // namespace

void MatMulQ8_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  MatMulQ8<UnpackQ8_0>(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
}

void MatMulQ4_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  MatMulQ8<UnpackQ4_0>(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
}

}  // namespace slm::kernels::avx512

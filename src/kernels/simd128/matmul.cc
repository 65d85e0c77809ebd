// wasm SIMD128 f32 dot and matmuls (the scalar twin is scalar/matmul.cc; the
// formulas are in kernels.h).
//
// Data layout: W row-major in ggml blocks (quant/blocks.h), unaligned v128
// loads; activations f32 or ActQ8x32 / ActQ8x256 blocks.
// Accumulation order, f32 / q4_k / q6_k: the 8 float lanes of kernels.h are
// two f32x4 registers, lo = lanes 0-3 and hi = lanes 4-7; Reduce8 is lo + hi,
// then (s0 + s2) + (s1 + s3). Integer lane l of a 32-value chunk (values
// 4l..4l+3) is built from i32x4.dot_i16x8_s on sign-extended codes (pairs)
// plus one shuffle-add (pairs of pairs); the float step per (super-)block is
// acc = acc + splat(scale) * convert(p), mul then add (no FMA, no relaxed
// SIMD).
// q8_0 / q4_0 (contract 2): a block's exact int32 dot p from 4
// i32x4.dot_i16x8_s (any lane split: integer sums are exact), then one float
// acc = acc + s * float(p) per output, blocks ascending, vectorised across
// outputs: a 4-row tile sums its 4 rows' lanes with one 4x4 transpose-add
// (Sum4x4) and does one f32x4 mul + add for the 4 rows, per token.
// Tiling: q8_0 / q4_0 4 rows x 1 token (decode, rows a quarter apart, see
// MatMulQ) or 4 rows x 4 tokens (prefill); f32 4 x 1 / 2 x 4; q4_k 2 x 1
// (decode, rows half apart) / 2 x 2 (TileQ4K); q6_k 2 x 2 for prefill, the
// row dot for decode.
#include <wasm_simd128.h>

#include <cstring>

#include "kernels/scalar/scalar.h"
#include "kernels/simd128/simd128.h"
#include "kernels/simd128/vec.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace slm::kernels::simd128 {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;

// Lane sums of 16 signed byte products: 4 int32 lanes, lane l = values 4l..4l+3.
inline v128_t LaneSums16(v128_t w, v128_t a) {
  const v128_t d0 =
      wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w), wasm_i16x8_extend_low_i8x16(a));
  const v128_t d1 =
      wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w), wasm_i16x8_extend_high_i8x16(a));
  return wasm_i32x4_add(wasm_i32x4_shuffle(d0, d1, 0, 2, 4, 6),
                        wasm_i32x4_shuffle(d0, d1, 1, 3, 5, 7));
}

template <int R, int T>
void TileF32(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
             int64_t x_stride, int32_t in, int32_t r, int32_t t) {
  Acc8 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) acc[i][j] = Zero8();
  }
  const float* rows[R];
  for (int i = 0; i < R; ++i) rows[i] = reinterpret_cast<const float*>(w + (r + i) * row_bytes);
  const float* xs[T];
  for (int j = 0; j < T; ++j) xs[j] = reinterpret_cast<const float*>(x + (t + j) * x_stride);
  int32_t k = 0;
  for (; k + 8 <= in; k += 8) {
    v128_t wlo[R], whi[R];
    for (int i = 0; i < R; ++i) {
      wlo[i] = Load(rows[i] + k);
      whi[i] = Load(rows[i] + k + 4);
    }
    for (int j = 0; j < T; ++j) {
      const v128_t xlo = Load(xs[j] + k), xhi = Load(xs[j] + k + 4);
      for (int i = 0; i < R; ++i) {
        acc[i][j].lo = wasm_f32x4_add(acc[i][j].lo, wasm_f32x4_mul(wlo[i], xlo));
        acc[i][j].hi = wasm_f32x4_add(acc[i][j].hi, wasm_f32x4_mul(whi[i], xhi));
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) {
      float lanes[8];
      wasm_v128_store(lanes, acc[i][j].lo);
      wasm_v128_store(lanes + 4, acc[i][j].hi);
      for (int32_t l = 0; k + l < in; ++l) lanes[l] = lanes[l] + rows[i][k + l] * xs[j][k + l];
      y[(t + j) * y_stride + r + i] = scalar::Reduce8(lanes);
    }
  }
}

// The codes of one q8_0 / q4_0 block widened to 4 x i16x8 (values 0-7, 8-15,
// 16-23, 24-31). q4_0 gives the raw nibbles n = w + 8 (0..15: the unsigned
// widening is cheaper) and kNibbles: its block dot is dot(n, a) - 8 * sum(a),
// with the 8 * sum(a) term formed once per token and block (ActBlock::off).
struct UnpackQ8_0 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ8_0);
  static constexpr bool kNibbles = false;
  static void Codes(const uint8_t* blk, v128_t c[4]) {
    const v128_t q0 = Load(blk + 2), q1 = Load(blk + 18);
    c[0] = wasm_i16x8_extend_low_i8x16(q0);
    c[1] = wasm_i16x8_extend_high_i8x16(q0);
    c[2] = wasm_i16x8_extend_low_i8x16(q1);
    c[3] = wasm_i16x8_extend_high_i8x16(q1);
  }
};
struct UnpackQ4_0 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ4_0);
  static constexpr bool kNibbles = true;
  static void Codes(const uint8_t* blk, v128_t c[4]) {
    const v128_t q = Load(blk + 2);
    const v128_t lo = wasm_v128_and(q, wasm_i8x16_splat(0x0F)), hi = wasm_u8x16_shr(q, 4);
    c[0] = wasm_u16x8_extend_low_u8x16(lo);
    c[1] = wasm_u16x8_extend_high_u8x16(lo);
    c[2] = wasm_u16x8_extend_low_u8x16(hi);
    c[3] = wasm_u16x8_extend_high_u8x16(hi);
  }
};

// One token's ActQ8x32 block: its scale, its codes widened to 4 x i16x8 and
// (q4_0) int32 lanes summing to 8 * sum(a).
struct ActBlock {
  float d;
  v128_t a[4];
  v128_t off;
};
template <typename Unpack>
inline ActBlock LoadAct(const uint8_t* p) {
  ActBlock b;
  std::memcpy(&b.d, p, 4);
  const v128_t a0 = Load(p + 4), a1 = Load(p + 20);
  b.a[0] = wasm_i16x8_extend_low_i8x16(a0);
  b.a[1] = wasm_i16x8_extend_high_i8x16(a0);
  b.a[2] = wasm_i16x8_extend_low_i8x16(a1);
  b.a[3] = wasm_i16x8_extend_high_i8x16(a1);
  if constexpr (Unpack::kNibbles) {
    // |sum of 4 codes| <= 508: exact in i16.
    const v128_t s = wasm_i16x8_add(wasm_i16x8_add(b.a[0], b.a[1]), wasm_i16x8_add(b.a[2], b.a[3]));
    b.off = wasm_i32x4_dot_i16x8(s, wasm_i16x8_splat(8));
  }
  return b;
}

// The block dot p as 4 int32 lanes whose sum is p (exact: each lane is 8
// products, |lane| <= 8 * 128 * 127).
template <typename Unpack>
inline v128_t Dot32(const v128_t c[4], const ActBlock& a) {
  const v128_t d = wasm_i32x4_add(
      wasm_i32x4_add(wasm_i32x4_dot_i16x8(c[0], a.a[0]), wasm_i32x4_dot_i16x8(c[1], a.a[1])),
      wasm_i32x4_add(wasm_i32x4_dot_i16x8(c[2], a.a[2]), wasm_i32x4_dot_i16x8(c[3], a.a[3])));
  if constexpr (Unpack::kNibbles) return wasm_i32x4_sub(d, a.off);
  return d;
}

// R rows r + i * step x T tokens of q8_0 / q4_0 (kernels.h contract 2: one
// float step per output and block). R == 4 vectorises the float step across
// the rows: per token one f32x4 accumulator over the 4 rows, the rows' block
// dots reduced together by Sum4x4, scales F16x4 * splat(act.d). R == 1 keeps
// one float per output. Each lane is acc = acc + s * float(p), mul then add,
// exactly the scalar formula.
template <typename Unpack, int R, int T>
void TileQ8(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
            int64_t x_stride, int32_t in, int32_t r, int32_t t, int32_t step = 1) {
  static_assert(R == 4 || R == 1);
  v128_t acc[T];  // R == 4: f32x4 over the rows, per token
  float accs[T];  // R == 1
  for (int j = 0; j < T; ++j) {
    acc[j] = wasm_f32x4_splat(0.0f);
    accs[j] = 0.0f;
  }
  for (int32_t b = 0; b < in / 32; ++b) {
    const uint8_t* blk[R];
    for (int i = 0; i < R; ++i) {
      blk[i] = w + (r + i * step) * row_bytes + b * Unpack::kBlockBytes;
    }
    // Several tokens: widen each row's codes once for all of them.
    v128_t c[T > 1 ? R : 1][4];
    if constexpr (T > 1) {
      for (int i = 0; i < R; ++i) Unpack::Codes(blk[i], c[i]);
    }
    v128_t wd;  // the rows' F16(w.d)
    if constexpr (R == 4) {
      wd = F16x4(blk);
    } else {
      wd = wasm_f32x4_splat(F16(blk[0]));
    }
    for (int j = 0; j < T; ++j) {
      const ActBlock a = LoadAct<Unpack>(x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x32)});
      v128_t d[R];
      for (int i = 0; i < R; ++i) {
        if constexpr (T == 1) {
          Unpack::Codes(blk[i], c[0]);
          d[i] = Dot32<Unpack>(c[0], a);
        } else {
          d[i] = Dot32<Unpack>(c[i], a);
        }
      }
      if constexpr (R == 4) {
        const v128_t p = Sum4x4(d[0], d[1], d[2], d[3]);
        const v128_t s = wasm_f32x4_mul(wd, wasm_f32x4_splat(a.d));
        acc[j] = wasm_f32x4_add(acc[j], wasm_f32x4_mul(s, wasm_f32x4_convert_i32x4(p)));
      } else {
        const float s = wasm_f32x4_extract_lane(wd, 0) * a.d;
        accs[j] = accs[j] + s * static_cast<float>(HSum(d[0]));
      }
    }
  }
  for (int j = 0; j < T; ++j) {
    for (int i = 0; i < R; ++i) {
      y[(t + j) * y_stride + r + i * step] = R == 4 ? Lane(acc[j], i) : accs[j];
    }
  }
}

// R rows x T tokens of q4_k. The 16-bit weights are pre-multiplied by their
// sub-block scale (|sc * u| <= 63 * 15, exact in int16) once per row and
// chunk, activations widened once per token and chunk; each (row, token)
// then needs 4 i32x4.dot_i16x8 per 32 values, accumulated as PAIR sums
// (values 2m, 2m+1) over the whole super-block, and the pair -> 4-value
// lane combination (kernels.h's L[l], exact int32) once per super-block.
template <int R, int T>
void TileQ4K(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
             int64_t x_stride, int32_t in, int32_t r, int32_t t, int32_t step = 1) {
  const v128_t m4 = wasm_i8x16_splat(0x0F);
  auto lanes = [&](const uint8_t* const* blk, const uint8_t(*sm)[16], int32_t b, v128_t(*L)[T][2]) {
    v128_t pairs[R][T][4];
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < T; ++j) {
        for (int k = 0; k < 4; ++k) pairs[i][j][k] = wasm_i32x4_splat(0);
      }
    }
    for (int c = 0; c < 8; ++c) {
      v128_t wv[R][4];
      for (int i = 0; i < R; ++i) {
        const uint8_t* qs = blk[i] + 16 + 32 * (c / 2);
        v128_t q0 = Load(qs), q1 = Load(qs + 16);
        if (c % 2 == 0) {
          q0 = wasm_v128_and(q0, m4);
          q1 = wasm_v128_and(q1, m4);
        } else {
          q0 = wasm_u8x16_shr(q0, 4);
          q1 = wasm_u8x16_shr(q1, 4);
        }
        const v128_t sc = wasm_i16x8_splat(sm[i][c]);
        wv[i][0] = wasm_i16x8_mul(wasm_u16x8_extend_low_u8x16(q0), sc);
        wv[i][1] = wasm_i16x8_mul(wasm_u16x8_extend_high_u8x16(q0), sc);
        wv[i][2] = wasm_i16x8_mul(wasm_u16x8_extend_low_u8x16(q1), sc);
        wv[i][3] = wasm_i16x8_mul(wasm_u16x8_extend_high_u8x16(q1), sc);
      }
      for (int j = 0; j < T; ++j) {
        const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)} + 20 + 32 * c;
        const v128_t a0 = Load(a), a1 = Load(a + 16);
        const v128_t av[4] = {wasm_i16x8_extend_low_i8x16(a0), wasm_i16x8_extend_high_i8x16(a0),
                              wasm_i16x8_extend_low_i8x16(a1), wasm_i16x8_extend_high_i8x16(a1)};
        for (int i = 0; i < R; ++i) {
          for (int k = 0; k < 4; ++k) {
            pairs[i][j][k] = wasm_i32x4_add(pairs[i][j][k], wasm_i32x4_dot_i16x8(wv[i][k], av[k]));
          }
        }
      }
    }
    // Pair sums -> 4-value lanes.
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < T; ++j) {
        const v128_t* p = pairs[i][j];
        L[i][j][0] = wasm_i32x4_add(wasm_i32x4_shuffle(p[0], p[1], 0, 2, 4, 6),
                                    wasm_i32x4_shuffle(p[0], p[1], 1, 3, 5, 7));
        L[i][j][1] = wasm_i32x4_add(wasm_i32x4_shuffle(p[2], p[3], 0, 2, 4, 6),
                                    wasm_i32x4_shuffle(p[2], p[3], 1, 3, 5, 7));
      }
    }
  };
  TileQ4KFrame<R, T>(lanes, y, y_stride, w, row_bytes, x, x_stride, in, r, t, step);
}

// R rows x T tokens of q6_k, the same scheme as TileQ4K: 16-bit codes
// (u - 32) pre-multiplied by their 16-value sub-block's int8 scale (|.| <=
// 32 * 128, exact in int16), pair sums per super-block, one pair -> lane
// combination per super-block.
template <int R, int T>
void TileQ6K(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
             int64_t x_stride, int32_t in, int32_t r, int32_t t) {
  Acc8 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) acc[i][j] = Zero8();
  }
  const v128_t m4 = wasm_i8x16_splat(0x0F), m2 = wasm_i8x16_splat(3);
  const v128_t k32 = wasm_i16x8_splat(32);
  for (int32_t b = 0; b < in / 256; ++b) {
    const uint8_t* blk[R];
    for (int i = 0; i < R; ++i) blk[i] = w + (r + i) * row_bytes + b * int64_t{sizeof(BlockQ6_K)};
    v128_t pairs[R][T][4];
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < T; ++j) {
        for (int k = 0; k < 4; ++k) pairs[i][j][k] = wasm_i32x4_splat(0);
      }
    }
    for (int c = 0; c < 8; ++c) {
      const int h = c / 4, jc = c % 4;
      v128_t wv[R][4];
      for (int i = 0; i < R; ++i) {
        const uint8_t* ql = blk[i] + 64 * h + (jc % 2 == 1 ? 32 : 0);
        const uint8_t* qh = blk[i] + offsetof(BlockQ6_K, qh) + 32 * h;
        const int8_t* sc = reinterpret_cast<const int8_t*>(blk[i] + offsetof(BlockQ6_K, scales));
        for (int half = 0; half < 2; ++half) {  // values 0-15 / 16-31 of the chunk
          const v128_t l = Load(ql + 16 * half), vh = Load(qh + 16 * half);
          const v128_t low = jc >= 2 ? wasm_u8x16_shr(l, 4) : wasm_v128_and(l, m4);
          const v128_t q =
              wasm_v128_or(low, wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(vh, 2 * jc), m2), 4));
          const v128_t s = wasm_i16x8_splat(sc[2 * c + half]);
          wv[i][2 * half] = wasm_i16x8_mul(wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(q), k32), s);
          wv[i][2 * half + 1] =
              wasm_i16x8_mul(wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(q), k32), s);
        }
      }
      for (int j = 0; j < T; ++j) {
        const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)} + 20 + 32 * c;
        const v128_t a0 = Load(a), a1 = Load(a + 16);
        const v128_t av[4] = {wasm_i16x8_extend_low_i8x16(a0), wasm_i16x8_extend_high_i8x16(a0),
                              wasm_i16x8_extend_low_i8x16(a1), wasm_i16x8_extend_high_i8x16(a1)};
        for (int i = 0; i < R; ++i) {
          for (int k = 0; k < 4; ++k) {
            pairs[i][j][k] = wasm_i32x4_add(pairs[i][j][k], wasm_i32x4_dot_i16x8(wv[i][k], av[k]));
          }
        }
      }
    }
    for (int j = 0; j < T; ++j) {
      float ad;
      std::memcpy(&ad, x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)}, 4);
      for (int i = 0; i < R; ++i) {
        const v128_t* p = pairs[i][j];
        const v128_t lo = wasm_i32x4_add(wasm_i32x4_shuffle(p[0], p[1], 0, 2, 4, 6),
                                         wasm_i32x4_shuffle(p[0], p[1], 1, 3, 5, 7));
        const v128_t hi = wasm_i32x4_add(wasm_i32x4_shuffle(p[2], p[3], 0, 2, 4, 6),
                                         wasm_i32x4_shuffle(p[2], p[3], 1, 3, 5, 7));
        AddScaled(&acc[i][j], F16(blk[i] + offsetof(BlockQ6_K, d)) * ad, lo, hi);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) y[(t + j) * y_stride + r + i] = Reduce8(acc[i][j]);
  }
}

float DotQ6_K(const uint8_t* row, const uint8_t* act, int32_t in) {
  Acc8 acc = Zero8();
  const v128_t m4 = wasm_i8x16_splat(0x0F), m2 = wasm_i8x16_splat(3), k32 = wasm_i8x16_splat(32);
  for (int32_t b = 0; b < in / 256; ++b) {
    const uint8_t* blk = row + b * int64_t{sizeof(BlockQ6_K)};
    const uint8_t* a = act + b * int64_t{sizeof(ActQ8x256)};
    float ad;
    std::memcpy(&ad, a, 4);
    const int8_t* sc = reinterpret_cast<const int8_t*>(blk + offsetof(BlockQ6_K, scales));
    v128_t lo = wasm_i32x4_splat(0), hi = wasm_i32x4_splat(0);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = blk + 64 * h;
      const uint8_t* qh = blk + offsetof(BlockQ6_K, qh) + 32 * h;
      for (int half = 0; half < 2; ++half) {  // values 0-15 / 16-31 of each chunk
        const v128_t l0 = Load(ql + 16 * half), l1 = Load(ql + 32 + 16 * half);
        const v128_t vh = Load(qh + 16 * half);
        v128_t q[4];
        q[0] = wasm_v128_or(wasm_v128_and(l0, m4), wasm_i8x16_shl(wasm_v128_and(vh, m2), 4));
        q[1] = wasm_v128_or(wasm_v128_and(l1, m4),
                            wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(vh, 2), m2), 4));
        q[2] = wasm_v128_or(wasm_u8x16_shr(l0, 4),
                            wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(vh, 4), m2), 4));
        q[3] = wasm_v128_or(wasm_u8x16_shr(l1, 4), wasm_i8x16_shl(wasm_u8x16_shr(vh, 6), 4));
        for (int j = 0; j < 4; ++j) {
          const int c = 4 * h + j;  // 32-value chunk; this half is sub-block 2c + half
          const v128_t p = LaneSums16(wasm_i8x16_sub(q[j], k32), Load(a + 20 + 32 * c + 16 * half));
          const v128_t s = wasm_i32x4_mul(wasm_i32x4_splat(sc[2 * c + half]), p);
          if (half == 0) {
            lo = wasm_i32x4_add(lo, s);
          } else {
            hi = wasm_i32x4_add(hi, s);
          }
        }
      }
    }
    AddScaled(&acc, F16(blk + offsetof(BlockQ6_K, d)) * ad, lo, hi);
  }
  return Reduce8(acc);
}

struct TilesQ4K {
  template <int R, int T, typename... Args>
  static void Run(Args... args) {
    TileQ4K<R, T>(args...);
  }
};

}  // namespace

float Dot(const float* a, const float* b, int32_t n) {
  float y;
  MatMulF32(&y, 0, reinterpret_cast<const uint8_t*>(a), reinterpret_cast<const uint8_t*>(b), 0, n,
            0, 1, 1);
  return y;
}

void Matvec(float* y, const float* w, const float* x, int32_t out, int32_t in) {
  MatMulF32(y, 0, reinterpret_cast<const uint8_t*>(w), reinterpret_cast<const uint8_t*>(x), 0, in,
            0, out, 1);
}

#define SLM_SIMD128_TILED_MATMUL(Name, Tile, row_bytes_expr)                                       \
  void Name(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,      \
            int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {                                   \
    const int64_t row_bytes = (row_bytes_expr);                                                    \
    int32_t r = r0;                                                                                \
    if (n_tok == 1) {                                                                              \
      for (; r + 4 <= r1; r += 4) Tile<4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);    \
      for (; r < r1; ++r) Tile<1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);            \
      return;                                                                                      \
    }                                                                                              \
    for (; r + 2 <= r1; r += 2) {                                                                  \
      int32_t t = 0;                                                                               \
      for (; t + 4 <= n_tok; t += 4) Tile<2, 4>(y, y_stride, w, row_bytes, x, x_stride, in, r, t); \
      for (; t < n_tok; ++t) Tile<2, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);         \
    }                                                                                              \
    for (; r < r1; ++r) {                                                                          \
      for (int32_t t = 0; t < n_tok; ++t)                                                          \
        Tile<1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);                              \
    }                                                                                              \
  }
SLM_SIMD128_TILED_MATMUL(MatMulF32, TileF32, int64_t{in} * 4)
#undef SLM_SIMD128_TILED_MATMUL

// q8_0 / q4_0. Decode (one token): 4-row tiles taking rows r0 + j + i * q (q =
// a quarter of the rows), relaxed.cc's RunRows order: 4 address-ordered
// streams the hardware prefetcher follows, where 4 adjacent rows read back
// and forth inside the same pages are followed poorly (wasm has no prefetch
// instruction). wasm_lab --time under node (best of 27 interleaved rounds,
// contract 1's kernels linked in the same lab): this tile and row order vs
// contract 1's adjacent-rows tile (a touch 20 KB ahead for q8_0) take 2.5-3.7x
// (q8_0) and 1.55-1.6x (q4_0) less time on s110m shapes from DRAM, 1.8x /
// 1.35x on 256 x 768 from cache.
// Prefill: 4 rows x 4 tokens (5-15% less time than 2 x 4 or 4 x 2 in
// wasm_lab, although its 16 widened row vectors exceed the registers), the
// 4-row tile for the remaining tokens and 1 x 1 for the remaining rows.
template <typename Unpack>
void MatMulQ(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
             int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  const int64_t row_bytes = int64_t{in} / 32 * Unpack::kBlockBytes;
  int32_t r = r0;
  if (n_tok == 1) {
    const int32_t q = (r1 - r0) / 4;
    for (int32_t j = 0; j < q; ++j) {
      TileQ8<Unpack, 4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r0 + j, 0, q);
    }
    for (r = r0 + 4 * q; r < r1; ++r) {
      TileQ8<Unpack, 1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, 0);
    }
    return;
  }
  for (; r + 4 <= r1; r += 4) {
    int32_t t = 0;
    for (; t + 4 <= n_tok; t += 4) {
      TileQ8<Unpack, 4, 4>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
    }
    for (; t < n_tok; ++t) TileQ8<Unpack, 4, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
  }
  for (; r < r1; ++r) {
    for (int32_t t = 0; t < n_tok; ++t) {
      TileQ8<Unpack, 1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
    }
  }
}

void MatMulQ8_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  MatMulQ<UnpackQ8_0>(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
}

void MatMulQ4_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  MatMulQ<UnpackQ4_0>(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
}

// Decode tiles of 2 rows half the range apart (wasm_lab --time from DRAM:
// 4.5-4.6 GB/s against 3.6-4.3 for adjacent rows; 4 rows a quarter apart spill
// registers: 3.3-3.4).
void MatMulQ4_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  MatMulSuperBlocks<TilesQ4K, 2>(y, y_stride, w, int64_t{in} / 256 * int64_t{sizeof(BlockQ4_K)}, x,
                                 x_stride, in, r0, r1, n_tok);
}

void MatMulQ6_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  const int64_t row_bytes = int64_t{in} / 256 * int64_t{sizeof(BlockQ6_K)};
  int32_t r = r0;
  if (n_tok == 1) {  // decode: the row-at-a-time dot is faster (wasm lab)
    for (; r < r1; ++r) y[r] = DotQ6_K(w + r * row_bytes, x, in);
  } else {
    for (; r + 2 <= r1; r += 2) {
      int32_t t = 0;
      for (; t + 2 <= n_tok; t += 2)
        TileQ6K<2, 2>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
      for (; t < n_tok; ++t) TileQ6K<2, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
    }
  }
  for (; r < r1; ++r) {
    for (int32_t t = 0; t < n_tok; ++t)
      TileQ6K<1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t);
  }
}

}  // namespace slm::kernels::simd128

// wasm relaxed-SIMD q8_0 / q4_0 matmuls (table "simd128r", slm-relaxed.wasm;
// the scalar twin is scalar/matmul.cc, the formulas are in kernels.h). Compiled
// only with -mrelaxed-simd (web/CMakeLists.txt); in slm.wasm this file is empty.
//
// Why the results are the same bits as scalar on every engine:
// i16x8.relaxed_dot_i8x16_i7x16_s(a, b) multiplies bytes of a (always signed)
// by bytes of b (signed or unsigned: the engine's choice) and adds adjacent
// pairs into i16 lanes (saturating or wrapping: the engine's choice). When
// every byte of b is in 0..127 both readings of b agree, and each pair sum is
// at most 2 * 128 * 127 = 32512 < 32767 in magnitude, so neither saturation
// nor wrapping can happen: the i16 lanes are exact. i32x4.extadd_pairwise
// (plain SIMD128) then adds pairs of pairs, so lane l is exactly
// sum_{i<4} a[4l+i] * b[4l+i], kernels.h's p[l]; Dot4 adds a correction c.
// (The fused i32x4.relaxed_dot_i8x16_i7x16_add_s has the same semantics, but
// Node 20's V8 11.3, which runs the determinism test, returns 2 * dot without
// c for it: measured here, so it is not used. What it would save in Chromium,
// e.g. with a VNNI lowering, is not measured.) Every call below keeps b in
// 0..127:
//   q4_0: a = activation code, b = raw nibble n (0..15); w = n - 8, so
//         p = dot(a, n) - 8 * sum4(a): c = -8 * sum4(a), precomputed per token.
//   q8_0: b = |a| (activation codes are -127..127, kernels.h), a' = w ^ s with
//         s = 0xFF where a < 0: for a < 0, (w ^ 0xFF) = -w - 1 (no overflow,
//         unlike -w for w = -128), so (w ^ s) * |a| = w * a - |a|;
//         c = sum4 of |a| over the negative lanes, precomputed per token.
// The float step (acc = acc + s * float(p), mul then add, no FMA) and the
// 8-lane reduction are simd128's.
//
// Layout: per token and 32-value block an aux record (|a|, sign mask, c for
// q8_0; c for q4_0) in a fixed buffer, so row lengths above kMaxIn use the
// simd128 kernels (same bits). Tiling: decode 4 rows x 1 token; prefill
// 2 rows x 4 tokens over row chunks of kRowChunk rows (aux rebuilt per chunk
// and 4-token group, so a chunk's weights stay in cache). A decode tile's 4
// rows are far apart (one per quarter of the row range), see RunRows.
#if defined(__wasm_relaxed_simd__)

#include <wasm_simd128.h>

#include <algorithm>
#include <cstring>

#include "kernels/simd128/simd128.h"
#include "kernels/simd128/vec.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace slm::kernels::simd128r {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ8_0;

constexpr int32_t kMaxIn = 16384;  // values per row the aux buffer covers
constexpr int32_t kGroup = 4;      // tokens per prefill tile / aux group
constexpr int32_t kRowChunk = 64;  // prefill rows per aux rebuild

struct AuxQ8 {
  v128_t abs[2], sgn[2], c[2];  // values 0-15 / 16-31 of the block
};
struct AuxQ4 {
  v128_t c[2];
};
static_assert(sizeof(AuxQ8) == 96 && sizeof(AuxQ4) == 32);

// One aux buffer per thread (wasm modules here run one thread).
thread_local AuxQ8 g_aux_q8[kGroup][kMaxIn / 32];
thread_local AuxQ4 g_aux_q4[kGroup][kMaxIn / 32];
// q8_0 decode: a 4-row tile's products F16(w) * ad, one f32x4 per block.
thread_local v128_t g_scales_q8[kMaxIn / 32];

using simd128::Acc8;
using simd128::F16;
using simd128::Load;
using simd128::Reduce8;
using simd128::Zero8;

// The f16 scales of 4 blocks (at p[i]) as f32x4, exactly quant::Fp16ToF32:
// exponent and mantissa moved to f32 position and multiplied by 2^112 (exact
// for normal and subnormal halves: wasm floats keep subnormals), inf/NaN
// (exponent 31) get the f32 all-ones exponent with the mantissa kept, then
// the sign.
inline v128_t F16x4(const uint8_t* const p[4]) {
  v128_t h = wasm_i32x4_splat(0);
  h = wasm_v128_load16_lane(p[0], h, 0);
  h = wasm_v128_load16_lane(p[1], h, 2);
  h = wasm_v128_load16_lane(p[2], h, 4);
  h = wasm_v128_load16_lane(p[3], h, 6);
  const v128_t em = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
  v128_t f = wasm_f32x4_mul(em, wasm_f32x4_splat(0x1p112f));
  const v128_t exp_mask = wasm_i32x4_splat(0x7c00);
  const v128_t special = wasm_i32x4_eq(wasm_v128_and(h, exp_mask), exp_mask);
  f = wasm_v128_or(f, wasm_v128_and(special, wasm_i32x4_splat(0x7f800000)));
  return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

// The f16 scales of R blocks (one per row), as F16x4 for R = 4.
template <int R>
struct RowScales {
  v128_t v;
  float f[R];
  explicit RowScales(const uint8_t* const blk[R]) {
    if constexpr (R == 4) {
      v = F16x4(blk);
    } else {
      for (int i = 0; i < R; ++i) f[i] = F16(blk[i]);
    }
  }
  // vs[i] = splat(F16(blk[i]) * ad): one rounded product, as in kernels.h.
  void Splats(float ad, v128_t vs[R]) const {
    if constexpr (R == 4) {
      const v128_t s = wasm_f32x4_mul(v, wasm_f32x4_splat(ad));
      vs[0] = wasm_i32x4_shuffle(s, s, 0, 0, 0, 0);
      vs[1] = wasm_i32x4_shuffle(s, s, 1, 1, 1, 1);
      vs[2] = wasm_i32x4_shuffle(s, s, 2, 2, 2, 2);
      vs[3] = wasm_i32x4_shuffle(s, s, 3, 3, 3, 3);
    } else {
      for (int i = 0; i < R; ++i) vs[i] = wasm_f32x4_splat(f[i] * ad);
    }
  }
};

inline void AddScaled(Acc8* acc, v128_t vs, v128_t p_lo, v128_t p_hi) {
  acc->lo = wasm_f32x4_add(acc->lo, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p_lo)));
  acc->hi = wasm_f32x4_add(acc->hi, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p_hi)));
}

// c + exact 4-value lane sums of a * b, b in 0..127 (see the top).
inline v128_t Dot4(v128_t a, v128_t b, v128_t c) {
  return wasm_i32x4_add(c,
                        wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(a, b)));
}

// Sums of 4 adjacent signed / unsigned bytes as i32x4 (exact, plain SIMD128).
inline v128_t Sum4S(v128_t v) {
  return wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(v));
}
inline v128_t Sum4U(v128_t v) {
  return wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(v));
}

inline const uint8_t* Act(const uint8_t* x, int64_t x_stride, int32_t t, int32_t b) {
  return x + t * x_stride + b * int64_t{sizeof(ActQ8x32)};
}

void BuildAuxQ8(const uint8_t* x, int64_t x_stride, int32_t t0, int32_t nt, int32_t nb) {
  for (int32_t j = 0; j < nt; ++j) {
    for (int32_t b = 0; b < nb; ++b) {
      const uint8_t* a = Act(x, x_stride, t0 + j, b) + 4;
      AuxQ8& o = g_aux_q8[j][b];
      for (int h = 0; h < 2; ++h) {
        const v128_t v = Load(a + 16 * h);
        o.abs[h] = wasm_i8x16_abs(v);
        o.sgn[h] = wasm_i8x16_shr(v, 7);
        o.c[h] = Sum4U(wasm_v128_and(o.abs[h], o.sgn[h]));
      }
    }
  }
}

void BuildAuxQ4(const uint8_t* x, int64_t x_stride, int32_t t0, int32_t nt, int32_t nb) {
  for (int32_t j = 0; j < nt; ++j) {
    for (int32_t b = 0; b < nb; ++b) {
      const uint8_t* a = Act(x, x_stride, t0 + j, b) + 4;
      AuxQ4& o = g_aux_q4[j][b];
      for (int h = 0; h < 2; ++h) {
        o.c[h] = wasm_i32x4_neg(wasm_i32x4_shl(Sum4S(Load(a + 16 * h)), 3));
      }
    }
  }
}

// R rows r + i * step (i < R) x T tokens (tokens t0 + j, aux slot j).
template <int R, int T>
void TileQ8_0(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
              int64_t x_stride, int32_t nb, int32_t r, int32_t step, int32_t t0) {
  if constexpr (R == 4 && T == 1) {
    // Decode: the scale products of all blocks first (the same one rounded
    // product per block and row), then the integer dots and the float step;
    // wasm_lab: 10-20% less time from cache than scales inside the loop.
    for (int32_t b = 0; b < nb; ++b) {
      const uint8_t* blk[4];
      for (int i = 0; i < 4; ++i) {
        blk[i] = w + (r + i * step) * row_bytes + b * int64_t{sizeof(BlockQ8_0)};
      }
      float ad;
      std::memcpy(&ad, Act(x, x_stride, t0, b), 4);
      g_scales_q8[b] = wasm_f32x4_mul(F16x4(blk), wasm_f32x4_splat(ad));
    }
    Acc8 acc[4] = {Zero8(), Zero8(), Zero8(), Zero8()};
    for (int32_t b = 0; b < nb; ++b) {
      const AuxQ8& a = g_aux_q8[0][b];
      const float* sc = reinterpret_cast<const float*>(&g_scales_q8[b]);
      for (int i = 0; i < 4; ++i) {
        const uint8_t* blk = w + (r + i * step) * row_bytes + b * int64_t{sizeof(BlockQ8_0)};
        const v128_t p0 = Dot4(wasm_v128_xor(Load(blk + 2), a.sgn[0]), a.abs[0], a.c[0]);
        const v128_t p1 = Dot4(wasm_v128_xor(Load(blk + 18), a.sgn[1]), a.abs[1], a.c[1]);
        AddScaled(&acc[i], wasm_v128_load32_splat(sc + i), p0, p1);
      }
    }
    for (int i = 0; i < 4; ++i) y[t0 * y_stride + r + i * step] = Reduce8(acc[i]);
    return;
  }
  Acc8 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) acc[i][j] = Zero8();
  }
  for (int32_t b = 0; b < nb; ++b) {
    v128_t c0[R], c1[R];
    const uint8_t* blk[R];
    for (int i = 0; i < R; ++i) {
      blk[i] = w + (r + i * step) * row_bytes + b * int64_t{sizeof(BlockQ8_0)};
      c0[i] = Load(blk[i] + 2);
      c1[i] = Load(blk[i] + 18);
    }
    const RowScales<R> wd(blk);
    for (int j = 0; j < T; ++j) {
      const AuxQ8& a = g_aux_q8[j][b];
      float ad;
      std::memcpy(&ad, Act(x, x_stride, t0 + j, b), 4);
      v128_t vs[R];
      wd.Splats(ad, vs);
      for (int i = 0; i < R; ++i) {
        const v128_t p0 = Dot4(wasm_v128_xor(c0[i], a.sgn[0]), a.abs[0], a.c[0]);
        const v128_t p1 = Dot4(wasm_v128_xor(c1[i], a.sgn[1]), a.abs[1], a.c[1]);
        AddScaled(&acc[i][j], vs[i], p0, p1);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) y[(t0 + j) * y_stride + r + i * step] = Reduce8(acc[i][j]);
  }
}

template <int R, int T>
void TileQ4_0(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
              int64_t x_stride, int32_t nb, int32_t r, int32_t step, int32_t t0) {
  Acc8 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) acc[i][j] = Zero8();
  }
  const v128_t m4 = wasm_i8x16_splat(0x0F);
  for (int32_t b = 0; b < nb; ++b) {
    v128_t n0[R], n1[R];
    const uint8_t* blk[R];
    for (int i = 0; i < R; ++i) {
      blk[i] = w + (r + i * step) * row_bytes + b * int64_t{sizeof(BlockQ4_0)};
      const v128_t q = Load(blk[i] + 2);
      n0[i] = wasm_v128_and(q, m4);
      n1[i] = wasm_u8x16_shr(q, 4);
    }
    const RowScales<R> wd(blk);
    for (int j = 0; j < T; ++j) {
      const AuxQ4& aux = g_aux_q4[j][b];
      const uint8_t* a = Act(x, x_stride, t0 + j, b);
      float ad;
      std::memcpy(&ad, a, 4);
      v128_t vs[R];
      wd.Splats(ad, vs);
      const v128_t a0 = Load(a + 4), a1 = Load(a + 20);
      for (int i = 0; i < R; ++i) {
        const v128_t p0 = Dot4(a0, n0[i], aux.c[0]);
        const v128_t p1 = Dot4(a1, n1[i], aux.c[1]);
        AddScaled(&acc[i][j], vs[i], p0, p1);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) y[(t0 + j) * y_stride + r + i * step] = Reduce8(acc[i][j]);
  }
}

using TileFn = void (*)(float*, int64_t, const uint8_t*, int64_t, const uint8_t*, int64_t, int32_t,
                        int32_t, int32_t, int32_t);
using BuildFn = void (*)(const uint8_t*, int64_t, int32_t, int32_t, int32_t);

struct Tiles {
  BuildFn build;
  TileFn r4t1, r1t1, r2t4, r1t4;
  bool quarters;  // decode tiles take one row from each quarter (RunRows)
};

// Rows [r0, r1) x tokens [t0, t0 + nt), nt = kGroup or 1, with the aux of
// those tokens built in slots 0..nt-1.
void RunRows(const Tiles& k, float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes,
             const uint8_t* x, int64_t x_stride, int32_t nb, int32_t r0, int32_t r1, int32_t t0,
             int32_t nt) {
  int32_t r = r0;
  if (nt == kGroup) {
    for (; r + 2 <= r1; r += 2) k.r2t4(y, y_stride, w, row_bytes, x, x_stride, nb, r, 1, t0);
    for (; r < r1; ++r) k.r1t4(y, y_stride, w, row_bytes, x, x_stride, nb, r, 1, t0);
    return;
  }
  // One token (nt == 1): its aux is in slot 0. Decode streams the weights
  // once from DRAM, and wasm has no prefetch instruction. A tile of 4
  // adjacent q8_0 rows (816 bytes each at in = 768) reads 4 interleaved
  // streams inside the same 4 KiB pages, back and forth, which the hardware
  // prefetcher follows poorly; so a decode tile takes rows r0 + j + i * q
  // (q = a quarter of the rows, i < 4): 4 streams, each walking its quarter in
  // address order. wasm_lab --decode under node, s110m-like shapes from DRAM:
  // q8_0 1.05-1.65x the adjacent-rows tile with a touch 20 KB ahead (which
  // had been -20% time over no touch), and touching ahead on top of the
  // quarters is slower; q4_0 1.3-1.45x adjacent rows. The rows' results are
  // the same bits (each row is computed alone).
  const int32_t q = k.quarters ? (r1 - r0) / 4 : 0;
  for (int32_t j = 0; j < q; ++j) k.r4t1(y, y_stride, w, row_bytes, x, x_stride, nb, r0 + j, q, t0);
  r = r0 + 4 * q;
  for (; r + 4 <= r1; r += 4) k.r4t1(y, y_stride, w, row_bytes, x, x_stride, nb, r, 1, t0);
  for (; r < r1; ++r) k.r1t1(y, y_stride, w, row_bytes, x, x_stride, nb, r, 1, t0);
}

void MatMul(const Tiles& k, float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes,
            const uint8_t* x, int64_t x_stride, int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  const int32_t nb = in / 32;
  // Whole 4-token groups: row chunks outer so a chunk's weights stay cached.
  const int32_t groups = n_tok / kGroup;
  for (int32_t rc = r0; groups > 0 && rc < r1; rc += kRowChunk) {
    const int32_t rc1 = std::min(r1, rc + kRowChunk);
    for (int32_t g = 0; g < groups; ++g) {
      k.build(x, x_stride, g * kGroup, kGroup, nb);
      RunRows(k, y, y_stride, w, row_bytes, x, x_stride, nb, rc, rc1, g * kGroup, kGroup);
    }
  }
  // Remaining tokens (decode: the only one), one at a time over all rows.
  for (int32_t t = groups * kGroup; t < n_tok; ++t) {
    k.build(x, x_stride, t, 1, nb);
    RunRows(k, y, y_stride, w, row_bytes, x, x_stride, nb, r0, r1, t, 1);
  }
}

const Tiles kTilesQ8 = {BuildAuxQ8,     TileQ8_0<4, 1>, TileQ8_0<1, 1>,
                        TileQ8_0<2, 4>, TileQ8_0<1, 4>, true};
const Tiles kTilesQ4 = {BuildAuxQ4,     TileQ4_0<4, 1>, TileQ4_0<1, 1>,
                        TileQ4_0<2, 4>, TileQ4_0<1, 4>, true};

}  // namespace

void MatMulQ8_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  if (in > kMaxIn) return simd128::MatMulQ8_0(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
  MatMul(kTilesQ8, y, y_stride, w, int64_t{in} / 32 * int64_t{sizeof(BlockQ8_0)}, x, x_stride, in,
         r0, r1, n_tok);
}

void MatMulQ4_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  if (in > kMaxIn) return simd128::MatMulQ4_0(y, y_stride, w, x, x_stride, in, r0, r1, n_tok);
  MatMul(kTilesQ4, y, y_stride, w, int64_t{in} / 32 * int64_t{sizeof(BlockQ4_0)}, x, x_stride, in,
         r0, r1, n_tok);
}

}  // namespace slm::kernels::simd128r

#endif  // __wasm_relaxed_simd__

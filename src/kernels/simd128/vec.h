// Small SIMD128 helpers shared by simd128/matmul.cc and simd128/relaxed.cc
// (wasm builds only). The 8-lane accumulator and its reduction are the
// kernels.h contract's (f32, q4_k, q6_k): lanes 0-3 in lo, 4-7 in hi, reduced
// as ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)). The integer
// reductions (q8_0 / q4_0 block dots) are exact, so their order is free.
#ifndef SLM_KERNELS_SIMD128_VEC_H_
#define SLM_KERNELS_SIMD128_VEC_H_

#include <wasm_simd128.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace slm::kernels::simd128 {

struct Acc8 {
  v128_t lo, hi;
};

inline Acc8 Zero8() { return {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)}; }

inline float Reduce8(Acc8 a) {
  const v128_t s = wasm_f32x4_add(a.lo, a.hi);
  const float s0 = wasm_f32x4_extract_lane(s, 0), s1 = wasm_f32x4_extract_lane(s, 1);
  const float s2 = wasm_f32x4_extract_lane(s, 2), s3 = wasm_f32x4_extract_lane(s, 3);
  return (s0 + s2) + (s1 + s3);
}

// The f16 at p (unaligned) as f32, exactly quant::Fp16ToF32.
inline float F16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return quant::Fp16ToF32(h);
}

inline v128_t Load(const void* p) { return wasm_v128_load(p); }

// The f16 scales of 4 blocks (at p[i], unaligned) as f32x4, exactly
// quant::Fp16ToF32: exponent and mantissa moved to f32 position and
// multiplied by 2^112 (exact for normal and subnormal halves: wasm floats
// keep subnormals), inf/NaN (exponent 31) get the f32 all-ones exponent with
// the mantissa kept, then the sign.
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

// [sum of v0's lanes, v1's, v2's, v3's] (i32x4, exact): a 4x4 transpose-add,
// 6 shuffles + 3 adds for 4 horizontal sums.
inline v128_t Sum4x4(v128_t v0, v128_t v1, v128_t v2, v128_t v3) {
  const v128_t a = wasm_i32x4_add(wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6),
                                  wasm_i32x4_shuffle(v0, v1, 1, 3, 5, 7));
  const v128_t b = wasm_i32x4_add(wasm_i32x4_shuffle(v2, v3, 0, 2, 4, 6),
                                  wasm_i32x4_shuffle(v2, v3, 1, 3, 5, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
}

// Lane i of an f32x4 (i need not be a constant).
inline float Lane(v128_t v, int i) {
  float f[4];
  wasm_v128_store(f, v);
  return f[i];
}

// The sum of v's 4 int32 lanes (exact).
inline int32_t HSum(v128_t v) {
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_i32x4_extract_lane(v, 0);
}

// acc += splat(s) * float(p) for the 8 lanes of one 32-value chunk.
inline void AddScaled(Acc8* acc, float s, v128_t p_lo, v128_t p_hi) {
  const v128_t vs = wasm_f32x4_splat(s);
  acc->lo = wasm_f32x4_add(acc->lo, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p_lo)));
  acc->hi = wasm_f32x4_add(acc->hi, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p_hi)));
}

// The 8 scales then the 8 mins of the Q4_K block at blk (ggml's 12-byte
// unpack, the values of quant::ScaleMinK4), as bytes.
inline void ScalesMinsQ4K(const uint8_t* blk, uint8_t sm[16]) {
  uint32_t u[4];
  std::memcpy(u, blk + 4, 12);
  constexpr uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
  u[3] = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
  const uint32_t m03 = u[1] & k1;
  u[1] = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
  u[2] = m03;
  u[0] &= k1;
  std::memcpy(sm, u, 16);
}

// kernels.h's q4_k float step for one (row, token) and super-block: lo / hi
// = the integer lanes L[0..3] / L[4..7], sm = ScalesMinsQ4K of blk, a = the
// token's ActQ8x256 block. acc += (d * act.d) * float(L); mins += (dmin *
// act.d) * float(M), M = sum_c m[c] * bsums[c] (exact int32).
inline void StepQ4K(Acc8* acc, float* mins, const uint8_t* blk, const uint8_t* sm, const uint8_t* a,
                    v128_t lo, v128_t hi) {
  float ad;
  std::memcpy(&ad, a, 4);  // ActQ8x256::d
  AddScaled(acc, F16(blk) * ad, lo, hi);
  uint8_t mm[16] = {};
  std::memcpy(mm, sm + 8, 8);
  const v128_t mv = wasm_u16x8_extend_low_u8x16(Load(mm));
  v128_t d = wasm_i32x4_dot_i16x8(mv, Load(a + 4));  // ActQ8x256::bsums
  d = wasm_i32x4_add(d, wasm_i32x4_shuffle(d, d, 2, 3, 0, 1));
  d = wasm_i32x4_add(d, wasm_i32x4_shuffle(d, d, 1, 0, 3, 2));
  *mins = *mins + (F16(blk + 2) * ad) * static_cast<float>(wasm_i32x4_extract_lane(d, 0));
}

// A q4_k tile of R rows r + i * step x T tokens t .. t + T - 1 around an
// integer part: per super-block b, lanes(blk, sm, b, L) sets L[i][j] =
// {L[0..3], L[4..7]} (kernels.h, exact int32) of row i and token t + j, given
// blk[i] (row i's block) and sm[i] (its ScalesMinsQ4K). The float step
// (StepQ4K) and the stores are the same for both wasm tables.
template <int R, int T, typename Lanes>
void TileQ4KFrame(const Lanes& lanes, float* y, int64_t y_stride, const uint8_t* w,
                  int64_t row_bytes, const uint8_t* x, int64_t x_stride, int32_t in, int32_t r,
                  int32_t t, int32_t step) {
  Acc8 acc[R][T];
  float mins[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) {
      acc[i][j] = Zero8();
      mins[i][j] = 0.0f;
    }
  }
  for (int32_t b = 0; b < in / 256; ++b) {
    const uint8_t* blk[R];
    uint8_t sm[R][16];  // sc[0..7], m[0..7]
    for (int i = 0; i < R; ++i) {
      blk[i] = w + (r + i * step) * row_bytes + b * int64_t{sizeof(quant::BlockQ4_K)};
      ScalesMinsQ4K(blk[i], sm[i]);
    }
    v128_t L[R][T][2];
    lanes(blk, sm, b, L);
    for (int j = 0; j < T; ++j) {
      const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)};
      for (int i = 0; i < R; ++i) {
        StepQ4K(&acc[i][j], &mins[i][j], blk[i], sm[i], a, L[i][j][0], L[i][j][1]);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) {
      y[(t + j) * y_stride + r + i * step] = Reduce8(acc[i][j]) - mins[i][j];
    }
  }
}

// The q4_k / q6_k matmul driver of both wasm tables. Tiles::Run<R, T>(y,
// y_stride, w, row_bytes, x, x_stride, in, r, t, step) computes rows r + i *
// step (i < R) for tokens t .. t + T - 1. Decode takes kDecodeRows rows spread
// over the range (r0 + j + i * q, q = (r1 - r0) / kDecodeRows): address-ordered
// streams, which the hardware prefetcher follows better than adjacent rows
// read back and forth; prefill 2 rows x 2 tokens; leftover rows alone.
template <typename Tiles, int kDecodeRows>
void MatMulSuperBlocks(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes,
                       const uint8_t* x, int64_t x_stride, int32_t in, int32_t r0, int32_t r1,
                       int32_t n_tok) {
  int32_t r = r0;
  if (n_tok == 1) {
    const int32_t q = (r1 - r0) / kDecodeRows;
    for (int32_t j = 0; j < q; ++j) {
      Tiles::template Run<kDecodeRows, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r0 + j, 0, q);
    }
    r = r0 + kDecodeRows * q;
  } else {
    for (; r + 2 <= r1; r += 2) {
      int32_t t = 0;
      for (; t + 2 <= n_tok; t += 2) {
        Tiles::template Run<2, 2>(y, y_stride, w, row_bytes, x, x_stride, in, r, t, 1);
      }
      for (; t < n_tok; ++t) {
        Tiles::template Run<2, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t, 1);
      }
    }
  }
  for (; r < r1; ++r) {
    for (int32_t t = 0; t < n_tok; ++t) {
      Tiles::template Run<1, 1>(y, y_stride, w, row_bytes, x, x_stride, in, r, t, 1);
    }
  }
}

}  // namespace slm::kernels::simd128

#endif  // SLM_KERNELS_SIMD128_VEC_H_

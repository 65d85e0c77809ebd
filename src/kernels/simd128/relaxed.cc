// wasm relaxed-SIMD q8_0 / q4_0 / q4_k / q6_k matmuls (table "simd128r", slm-relaxed.wasm;
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
// (plain SIMD128) widens them exactly, and plain i32x4 adds and shuffles
// (Sum4x4) sum a block's lanes into its exact int32 dot, kernels.h's p, plus a
// per-token correction C. (The fused i32x4.relaxed_dot_i8x16_i7x16_add_s has
// the same semantics, but Node 20's V8 11.3, which runs the determinism test,
// returns 2 * dot without c for it: measured here, so it is not used. What it
// would save in Chromium, e.g. with a VNNI lowering, is not measured.) Every
// call below keeps b in 0..127:
//   q4_0: a = activation code, b = raw nibble n (0..15); w = n - 8, so
//         p = dot(a, n) + C with C = -8 * sum(a), per token and block.
//   q8_0: b = |a| (activation codes are -127..127, kernels.h), a' = w ^ s with
//         s = 0xFF where a < 0: for a < 0, (w ^ 0xFF) = -w - 1 (no overflow,
//         unlike -w for w = -128), so (w ^ s) * |a| = w * a - |a|;
//         p = dot(a', |a|) + C with C = the sum of |a| over the negative a.
//   q4_k: a = activation code, b = raw nibble (0..15): the scale sc[c] and
//         the mins come after, in exact int32 (TileQ4K).
//   q6_k: a = activation code, b = 6-bit code u (0..63), and 32 * (pair sums
//         of a) taken off in i16 (TileQ6K).
// The float step is contract 2's, acc = acc + s * float(p) with s =
// F16(w.d) * act.d (mul then add, no FMA), one float per output from +0,
// blocks ascending, vectorised across 4 rows (4-row tiles: one f32x4 per
// token) or across 4 tokens (the 1-row prefill tile).
//
// Layout: per token and 32-value block an aux record (|a|, sign mask for
// q8_0) and C, per 4-token group and block the 4 tokens' act.d and C as
// f32x4 / i32x4, in fixed buffers, so row lengths above kMaxIn use the
// simd128 kernels (same bits). Tiling: decode 4 rows x 1 token; prefill 4
// rows x 4 tokens (1 x 4 for the last rows) over row chunks of kRowChunk rows
// (aux rebuilt per chunk and 4-token group, so a chunk's weights stay in
// cache); wasm_lab --time, 32 tokens: q8_0 10% less time than 2 x 4, q4_0 the
// same. A decode tile's 4 rows are far apart (one per quarter of the row
// range), see RunRows.
#if defined(__wasm_relaxed_simd__)

#include <wasm_simd128.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "kernels/simd128/simd128.h"
#include "kernels/simd128/vec.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace slm::kernels::simd128r {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;

constexpr int32_t kMaxIn = 16384;  // values per row the aux buffer covers
constexpr int32_t kGroup = 4;      // tokens per prefill tile / aux group
constexpr int32_t kRowChunk = 64;  // prefill rows per aux rebuild
constexpr int kPrefillRows = 4;    // prefill tile rows (x kGroup tokens)

struct AuxQ8 {
  v128_t abs[2], sgn[2];  // values 0-15 / 16-31 of the block
};
struct AuxGroup {
  v128_t d, c;  // act.d (f32) and C (i32) of the group's 4 tokens
};
static_assert(sizeof(AuxQ8) == 64 && sizeof(AuxGroup) == 32);

// One aux buffer per thread (wasm modules here run one thread). g_c and
// g_group are written by whichever format's build ran last (q8_0 and q4_0
// share them: a build is always followed by its own tiles).
thread_local AuxQ8 g_aux_q8[kGroup][kMaxIn / 32];
thread_local int32_t g_c[kGroup][kMaxIn / 32];
thread_local AuxGroup g_group[kMaxIn / 32];

using simd128::Acc8;
using simd128::AddScaled;
using simd128::F16;
using simd128::F16x4;
using simd128::HSum;
using simd128::Lane;
using simd128::Load;
using simd128::Reduce8;
using simd128::Sum4x4;
using simd128::Zero8;

// Exact i16 pair sums of a * b, b in 0..127 (see the top), widened to 4
// int32 lanes (sums of 4 adjacent products).
inline v128_t Dot4(v128_t a, v128_t b) {
  return wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(a, b));
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

// After a build of nt == kGroup tokens: each block's 4 act.d and C.
void BuildGroup(const uint8_t* x, int64_t x_stride, int32_t t0, int32_t nb) {
  for (int32_t b = 0; b < nb; ++b) {
    float d[kGroup];
    for (int32_t j = 0; j < kGroup; ++j) std::memcpy(&d[j], Act(x, x_stride, t0 + j, b), 4);
    g_group[b].d = wasm_f32x4_make(d[0], d[1], d[2], d[3]);
    g_group[b].c = wasm_i32x4_make(g_c[0][b], g_c[1][b], g_c[2][b], g_c[3][b]);
  }
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
      }
      // |a| <= 127 (never -128), so abs & sgn is |a| on the negative lanes.
      g_c[j][b] = HSum(wasm_i32x4_add(Sum4U(wasm_v128_and(o.abs[0], o.sgn[0])),
                                      Sum4U(wasm_v128_and(o.abs[1], o.sgn[1]))));
    }
  }
  if (nt == kGroup) BuildGroup(x, x_stride, t0, nb);
}

void BuildAuxQ4(const uint8_t* x, int64_t x_stride, int32_t t0, int32_t nt, int32_t nb) {
  for (int32_t j = 0; j < nt; ++j) {
    for (int32_t b = 0; b < nb; ++b) {
      const uint8_t* a = Act(x, x_stride, t0 + j, b) + 4;
      g_c[j][b] = -8 * HSum(wasm_i32x4_add(Sum4S(Load(a)), Sum4S(Load(a + 16))));
    }
  }
  if (nt == kGroup) BuildGroup(x, x_stride, t0, nb);
}

// A format's integer block dot without C, as 4 int32 lanes summing to
// dot(a', b) (q8_0) or dot(a, n) (q4_0): Row holds one row's block, Tok
// one token's (aux slot j, activation block at act).
struct KQ8 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ8_0);
  struct Row {
    v128_t q0, q1;
  };
  struct Tok {
    v128_t abs0, abs1, sgn0, sgn1;
  };
  static Row LoadRow(const uint8_t* blk) { return {Load(blk + 2), Load(blk + 18)}; }
  static Tok LoadTok(int32_t j, int32_t b, const uint8_t*) {
    const AuxQ8& a = g_aux_q8[j][b];
    return {a.abs[0], a.abs[1], a.sgn[0], a.sgn[1]};
  }
  static v128_t Dot(const Row& w, const Tok& a) {
    return wasm_i32x4_add(Dot4(wasm_v128_xor(w.q0, a.sgn0), a.abs0),
                          Dot4(wasm_v128_xor(w.q1, a.sgn1), a.abs1));
  }
};
struct KQ4 {
  static constexpr int64_t kBlockBytes = sizeof(BlockQ4_0);
  struct Row {
    v128_t n0, n1;  // nibbles of values 0-15 / 16-31
  };
  struct Tok {
    v128_t a0, a1;
  };
  static Row LoadRow(const uint8_t* blk) {
    const v128_t q = Load(blk + 2);
    return {wasm_v128_and(q, wasm_i8x16_splat(0x0F)), wasm_u8x16_shr(q, 4)};
  }
  static Tok LoadTok(int32_t, int32_t, const uint8_t* act) {
    return {Load(act + 4), Load(act + 20)};
  }
  static v128_t Dot(const Row& w, const Tok& a) {
    return wasm_i32x4_add(Dot4(a.a0, w.n0), Dot4(a.a1, w.n1));
  }
};

// R rows r + i * step (i < R) x T tokens (tokens t0 + j, aux slot j). R == 4:
// per token one f32x4 over the 4 rows, their block dots reduced together
// (Sum4x4) plus splat(C); T == kGroup with R < 4: one f32x4 per row over the
// 4 tokens (g_group's act.d and C); otherwise one float per output. Every
// lane is acc = acc + s * float(p), mul then add.
template <typename K, int R, int T>
void Tile(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
          int64_t x_stride, int32_t nb, int32_t r, int32_t step, int32_t t0) {
  constexpr bool kByRows = R == 4, kByTokens = R < 4 && T == kGroup;
  const uint8_t* row[R];
  for (int i = 0; i < R; ++i) row[i] = w + (r + i * step) * row_bytes;
  v128_t acc[kByRows ? T : R];  // f32x4 accumulators (kByRows / kByTokens)
  float accs[R][T];             // one float per output (other shapes)
  for (v128_t& v : acc) v = wasm_f32x4_splat(0.0f);
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) accs[i][j] = 0.0f;
  }
  for (int32_t b = 0; b < nb; ++b) {
    typename K::Row wr[R];
    for (int i = 0; i < R; ++i) wr[i] = K::LoadRow(row[i] + b * K::kBlockBytes);
    v128_t d[R][T];
    for (int j = 0; j < T; ++j) {
      const typename K::Tok a = K::LoadTok(j, b, Act(x, x_stride, t0 + j, b));
      for (int i = 0; i < R; ++i) d[i][j] = K::Dot(wr[i], a);
    }
    if constexpr (kByRows) {
      const uint8_t* blk[4];
      for (int i = 0; i < 4; ++i) blk[i] = row[i] + b * K::kBlockBytes;
      const v128_t wd = F16x4(blk);
      for (int j = 0; j < T; ++j) {
        const v128_t p =
            wasm_i32x4_add(Sum4x4(d[0][j], d[1][j], d[2][j], d[3][j]), wasm_i32x4_splat(g_c[j][b]));
        // The 4 rows' s = F16(w.d) * act.d, one rounded product each.
        // (Forming all blocks' scales in a first pass, as contract 1's decode
        // tile did, takes 5-30% more time from DRAM for q8_0 and 0-15% for
        // q4_0 here: wasm_lab --time.)
        const v128_t s = wasm_f32x4_mul(wd, wasm_v128_load32_splat(Act(x, x_stride, t0 + j, b)));
        acc[j] = wasm_f32x4_add(acc[j], wasm_f32x4_mul(s, wasm_f32x4_convert_i32x4(p)));
      }
    } else if constexpr (kByTokens) {
      const AuxGroup& g = g_group[b];
      for (int i = 0; i < R; ++i) {
        const v128_t p = wasm_i32x4_add(Sum4x4(d[i][0], d[i][1], d[i][2], d[i][3]), g.c);
        const v128_t s = wasm_f32x4_mul(wasm_f32x4_splat(F16(row[i] + b * K::kBlockBytes)), g.d);
        acc[i] = wasm_f32x4_add(acc[i], wasm_f32x4_mul(s, wasm_f32x4_convert_i32x4(p)));
      }
    } else {
      for (int j = 0; j < T; ++j) {
        float ad;
        std::memcpy(&ad, Act(x, x_stride, t0 + j, b), 4);
        for (int i = 0; i < R; ++i) {
          const float s = F16(row[i] + b * K::kBlockBytes) * ad;
          accs[i][j] = accs[i][j] + s * static_cast<float>(HSum(d[i][j]) + g_c[j][b]);
        }
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) {
      float v = accs[i][j];
      if constexpr (kByRows) v = Lane(acc[j], i);
      if constexpr (kByTokens) v = Lane(acc[i], j);
      y[(t0 + j) * y_stride + r + i * step] = v;
    }
  }
}

using TileFn = void (*)(float*, int64_t, const uint8_t*, int64_t, const uint8_t*, int64_t, int32_t,
                        int32_t, int32_t, int32_t);
using BuildFn = void (*)(const uint8_t*, int64_t, int32_t, int32_t, int32_t);

struct Tiles {
  BuildFn build;
  TileFn r4t1, r1t1, rnt4, r1t4;  // rnt4: kPrefillRows rows x 4 tokens
  bool quarters;                  // decode tiles take one row from each quarter (RunRows)
};

// Rows [r0, r1) x tokens [t0, t0 + nt), nt = kGroup or 1, with the aux of
// those tokens built in slots 0..nt-1.
void RunRows(const Tiles& k, float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes,
             const uint8_t* x, int64_t x_stride, int32_t nb, int32_t r0, int32_t r1, int32_t t0,
             int32_t nt) {
  int32_t r = r0;
  if (nt == kGroup) {
    for (; r + kPrefillRows <= r1; r += kPrefillRows) {
      k.rnt4(y, y_stride, w, row_bytes, x, x_stride, nb, r, 1, t0);
    }
    for (; r < r1; ++r) k.r1t4(y, y_stride, w, row_bytes, x, x_stride, nb, r, 1, t0);
    return;
  }
  // One token (nt == 1): its aux is in slot 0. Decode streams the weights
  // once from DRAM, and wasm has no prefetch instruction. A tile of 4
  // adjacent q8_0 rows (816 bytes each at in = 768) reads 4 interleaved
  // streams inside the same 4 KiB pages, back and forth, which the hardware
  // prefetcher follows poorly; so a decode tile takes rows r0 + j + i * q
  // (q = a quarter of the rows, i < 4): 4 streams, each walking its quarter in
  // address order. wasm_lab --decode under node (contract 1's tiles; that
  // mode is gone with them), s110m-like shapes from DRAM: q8_0 1.05-1.65x the
  // adjacent-rows tile with a touch 20 KB ahead (which had been -20% time
  // over no touch), and touching ahead on top of the quarters is slower; q4_0
  // 1.3-1.45x adjacent rows. The rows' results are the same bits (each row is
  // computed alone).
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

const Tiles kTilesQ8 = {BuildAuxQ8,           Tile<KQ8, 4, 1>,
                        Tile<KQ8, 1, 1>,      Tile<KQ8, kPrefillRows, kGroup>,
                        Tile<KQ8, 1, kGroup>, true};
const Tiles kTilesQ4 = {BuildAuxQ4,           Tile<KQ4, 4, 1>,
                        Tile<KQ4, 1, 1>,      Tile<KQ4, kPrefillRows, kGroup>,
                        Tile<KQ4, 1, kGroup>, true};

// ---- q4_k --------------------------------------------------------------------

// R rows x T tokens of q4_k. Per 16 values of a row and a token, one relaxed
// dot of the activation codes (a, signed) by the raw nibbles (b, 0..15: exact
// i16 pair sums, see the top) and one i32x4.dot_i16x8_s of those pairs by
// splat(sc[c]) give sc[c] * (the sum of 4 adjacent products) in lane l:
// kernels.h's L[l] contribution, accumulated exactly in int32 over the
// super-block (|L| <= 8 * 63 * 4 * 15 * 127 < 2^22). The float step is
// simd128's (TileQ4KFrame, vec.h).
template <int R, int T>
void TileQ4K(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
             int64_t x_stride, int32_t in, int32_t r, int32_t t, int32_t step = 1) {
  const v128_t m4 = wasm_i8x16_splat(0x0F);
  auto lanes = [&](const uint8_t* const* blk, const uint8_t(*sm)[16], int32_t b, v128_t(*L)[T][2]) {
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < T; ++j) L[i][j][0] = L[i][j][1] = wasm_i32x4_splat(0);
    }
    // Code bytes 32k..32k+31: low nibbles are chunk 2k, high nibbles chunk 2k + 1.
    for (int k = 0; k < 4; ++k) {
      v128_t n[R][4];  // chunk 2k values 0-15, 16-31, chunk 2k + 1 values 0-15, 16-31
      v128_t sc[R][2];
      for (int i = 0; i < R; ++i) {
        const v128_t q0 = Load(blk[i] + 16 + 32 * k), q1 = Load(blk[i] + 32 + 32 * k);
        n[i][0] = wasm_v128_and(q0, m4);
        n[i][1] = wasm_v128_and(q1, m4);
        n[i][2] = wasm_u8x16_shr(q0, 4);
        n[i][3] = wasm_u8x16_shr(q1, 4);
        sc[i][0] = wasm_i16x8_splat(sm[i][2 * k]);
        sc[i][1] = wasm_i16x8_splat(sm[i][2 * k + 1]);
      }
      for (int j = 0; j < T; ++j) {
        const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)} + 20 + 64 * k;
        const v128_t a0 = Load(a), a1 = Load(a + 16), a2 = Load(a + 32), a3 = Load(a + 48);
        for (int i = 0; i < R; ++i) {
          const v128_t lo = wasm_i32x4_add(
              wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(a0, n[i][0]), sc[i][0]),
              wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(a2, n[i][2]), sc[i][1]));
          const v128_t hi = wasm_i32x4_add(
              wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(a1, n[i][1]), sc[i][0]),
              wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(a3, n[i][3]), sc[i][1]));
          L[i][j][0] = wasm_i32x4_add(L[i][j][0], lo);
          L[i][j][1] = wasm_i32x4_add(L[i][j][1], hi);
        }
      }
    }
  };
  simd128::TileQ4KFrame<R, T>(lanes, y, y_stride, w, row_bytes, x, x_stride, in, r, t, step);
}

// ---- q6_k --------------------------------------------------------------------

// R rows r + i * step x T tokens of q6_k. Per 16 values of a row and a token:
// the relaxed dot of the activation codes by the 6-bit codes u (0..63: exact
// i16 pairs), minus 32 * the activations' pair sums (so each i16 lane is the
// exact pair sum of (u - 32) * a, |.| <= 2 * 32 * 127), then
// i32x4.dot_i16x8_s by splat(sc) gives sc * (the sum of 4 products) in lane
// l: kernels.h's L[l] contribution, exact in int32 (|L| < 2^25). The float
// step is simd128's: acc = acc + (d * act.d) * float(L).
template <int R, int T>
void TileQ6K(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes, const uint8_t* x,
             int64_t x_stride, int32_t in, int32_t r, int32_t t, int32_t step = 1) {
  Acc8 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) acc[i][j] = Zero8();
  }
  const v128_t m4 = wasm_i8x16_splat(0x0F), m2 = wasm_i8x16_splat(3);
  for (int32_t b = 0; b < in / 256; ++b) {
    const uint8_t* blk[R];
    for (int i = 0; i < R; ++i) {
      blk[i] = w + (r + i * step) * row_bytes + b * int64_t{sizeof(BlockQ6_K)};
    }
    v128_t lanes[R][T][2];  // L[0..3], L[4..7]
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < T; ++j) lanes[i][j][0] = lanes[i][j][1] = wasm_i32x4_splat(0);
    }
    for (int h = 0; h < 2; ++h) {             // values 128h .. 128h + 127
      for (int half = 0; half < 2; ++half) {  // values 0-15 / 16-31 of chunks 4h .. 4h + 3
        v128_t av[T][4], a32[T][4];
        for (int j = 0; j < T; ++j) {
          const uint8_t* a = x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)} + 20;
          for (int k = 0; k < 4; ++k) {
            av[j][k] = Load(a + 32 * (4 * h + k) + 16 * half);
            a32[j][k] = wasm_i16x8_shl(wasm_i16x8_extadd_pairwise_i8x16(av[j][k]), 5);
          }
        }
        for (int i = 0; i < R; ++i) {
          const uint8_t* ql = blk[i] + 64 * h + 16 * half;
          const v128_t l0 = Load(ql), l1 = Load(ql + 32);
          const v128_t vh = Load(blk[i] + offsetof(BlockQ6_K, qh) + 32 * h + 16 * half);
          const v128_t q[4] = {
              wasm_v128_or(wasm_v128_and(l0, m4), wasm_i8x16_shl(wasm_v128_and(vh, m2), 4)),
              wasm_v128_or(wasm_v128_and(l1, m4),
                           wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(vh, 2), m2), 4)),
              wasm_v128_or(wasm_u8x16_shr(l0, 4),
                           wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(vh, 4), m2), 4)),
              wasm_v128_or(wasm_u8x16_shr(l1, 4), wasm_i8x16_shl(wasm_u8x16_shr(vh, 6), 4))};
          const int8_t* sc = reinterpret_cast<const int8_t*>(blk[i] + offsetof(BlockQ6_K, scales));
          for (int k = 0; k < 4; ++k) {
            const v128_t s = wasm_i16x8_splat(sc[2 * (4 * h + k) + half]);
            for (int j = 0; j < T; ++j) {
              const v128_t p16 =
                  wasm_i16x8_sub(wasm_i16x8_relaxed_dot_i8x16_i7x16(av[j][k], q[k]), a32[j][k]);
              lanes[i][j][half] = wasm_i32x4_add(lanes[i][j][half], wasm_i32x4_dot_i16x8(p16, s));
            }
          }
        }
      }
    }
    for (int j = 0; j < T; ++j) {
      float ad;
      std::memcpy(&ad, x + (t + j) * x_stride + b * int64_t{sizeof(ActQ8x256)}, 4);
      for (int i = 0; i < R; ++i) {
        AddScaled(&acc[i][j], F16(blk[i] + offsetof(BlockQ6_K, d)) * ad, lanes[i][j][0],
                  lanes[i][j][1]);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) y[(t + j) * y_stride + r + i * step] = Reduce8(acc[i][j]);
  }
}

struct TilesQ4K {
  template <int R, int T, typename... Args>
  static void Run(Args... args) {
    TileQ4K<R, T>(args...);
  }
};
struct TilesQ6K {
  template <int R, int T, typename... Args>
  static void Run(Args... args) {
    TileQ6K<R, T>(args...);
  }
};

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

// Decode tiles of 4 rows a quarter apart (wasm_lab --time from DRAM: q4_k
// 7.6-8.0 GB/s against 5.5-5.8 for 2 adjacent rows; q6_k, compute-bound, 6.4-6.5
// against 6.3-6.4 for 2 rows half apart).
void MatMulQ4_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  simd128::MatMulSuperBlocks<TilesQ4K, 4>(y, y_stride, w,
                                          int64_t{in} / 256 * int64_t{sizeof(BlockQ4_K)}, x,
                                          x_stride, in, r0, r1, n_tok);
}

void MatMulQ6_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  simd128::MatMulSuperBlocks<TilesQ6K, 4>(y, y_stride, w,
                                          int64_t{in} / 256 * int64_t{sizeof(BlockQ6_K)}, x,
                                          x_stride, in, r0, r1, n_tok);
}

}  // namespace slm::kernels::simd128r

#endif  // __wasm_relaxed_simd__

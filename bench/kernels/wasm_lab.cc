// Kernel lab for the wasm tables (simd128 in slm.wasm, simd128r in
// slm-relaxed.wasm): each quantized matmul of every table of the build
// validated bit for bit against scalar (quantizer-made rows and random-byte
// rows with every code, q8_0's -128 included; tails and odd row ranges), then
// timed (wall clock, median of 5 interleaved rounds) on decode (1 token) and
// prefill (32 tokens) shapes, in = 768 and 2048.
// Build (see bench/kernels/build.sh) against a wasm libslm.a / libslm_relaxed.a
// and run under node:wasi:
//   node [--experimental-wasm-relaxed-simd] tests/wasm/run.mjs wasm_lab.wasm /tmp [--time [FORMAT]]
// With -mrelaxed-simd and libslm_relaxed.a, `--decode [q4_0]` instead checks
// and times q8_0 (or q4_0) decode tile variants against simd128r (DecodeLab):
//   clang++-19 --target=wasm32-wasi --sysroot=/usr -msimd128 -mrelaxed-simd -O3 -std=c++20 \
//     -fno-exceptions -ffp-contract=off -Isrc -Iinclude bench/kernels/wasm_lab.cc \
//     WASM_BUILD/web/libslm_relaxed.a -fuse-ld=lld -o wasm_lab.wasm
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../../tests/wasm/tile_cases.h"

using namespace slm;
using slm::tiles::Case;
using slm::tiles::Make;

#if defined(__wasm_relaxed_simd__)
// q8_0 decode variants of simd128r's tile (relaxed.cc, same exactness
// argument: b = |a| in 0..127, a' = w ^ sign(a), c = sum4 of |a| over the
// negative lanes; same float step and 8-lane reduction), for --decode:
// R rows per tile, touch-ahead distance D bytes (0: none), touches as one
// burst per tile (kSpread false, relaxed.cc's) or one per row every 2 blocks
// inside the block loop (kSpread true).
#include <wasm_simd128.h>

#include "quant/fp16.h"

namespace lab {

struct AuxQ8 {
  v128_t abs[2], sgn[2], c[2];
};
AuxQ8 g_aux[1024];
volatile uint32_t g_sink;

struct Acc8 {
  v128_t lo, hi;
};

inline float Reduce8(Acc8 a) {
  const v128_t s = wasm_f32x4_add(a.lo, a.hi);
  const float s0 = wasm_f32x4_extract_lane(s, 0), s1 = wasm_f32x4_extract_lane(s, 1);
  const float s2 = wasm_f32x4_extract_lane(s, 2), s3 = wasm_f32x4_extract_lane(s, 3);
  return (s0 + s2) + (s1 + s3);
}

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

inline v128_t Dot4(v128_t a, v128_t b, v128_t c) {
  return wasm_i32x4_add(c,
                        wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(a, b)));
}

void BuildAux(const uint8_t* x, int32_t nb) {
  for (int32_t b = 0; b < nb; ++b) {
    const uint8_t* a = x + b * 36 + 4;
    for (int h = 0; h < 2; ++h) {
      const v128_t v = wasm_v128_load(a + 16 * h);
      g_aux[b].abs[h] = wasm_i8x16_abs(v);
      g_aux[b].sgn[h] = wasm_i8x16_shr(v, 7);
      g_aux[b].c[h] = wasm_u32x4_extadd_pairwise_u16x8(
          wasm_u16x8_extadd_pairwise_u8x16(wasm_v128_and(g_aux[b].abs[h], g_aux[b].sgn[h])));
    }
  }
}

template <int R, int D, bool kSpread>
void Tile(float* y, const uint8_t* w, int64_t row_bytes, const uint8_t* x, int32_t nb, int32_t r,
          const uint8_t*, uint32_t* sink) {
  Acc8 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)};
  uint32_t touched = 0;
  for (int32_t b = 0; b < nb; ++b) {
    const uint8_t* blk[R];
    for (int i = 0; i < R; ++i) blk[i] = w + (r + i) * row_bytes + b * int64_t{34};
    if constexpr (kSpread && D > 0) {
      if ((b & 1) == 0) {
        for (int i = 0; i < R; ++i) touched += blk[i][D];
      }
    }
    float ad;
    std::memcpy(&ad, x + b * 36, 4);
    v128_t vs[R];
    if constexpr (R % 4 == 0) {
      for (int g = 0; g < R; g += 4) {
        const v128_t s = wasm_f32x4_mul(F16x4(blk + g), wasm_f32x4_splat(ad));
        vs[g + 0] = wasm_i32x4_shuffle(s, s, 0, 0, 0, 0);
        vs[g + 1] = wasm_i32x4_shuffle(s, s, 1, 1, 1, 1);
        vs[g + 2] = wasm_i32x4_shuffle(s, s, 2, 2, 2, 2);
        vs[g + 3] = wasm_i32x4_shuffle(s, s, 3, 3, 3, 3);
      }
    } else {
      for (int i = 0; i < R; ++i) {
        uint16_t h;
        std::memcpy(&h, blk[i], 2);
        vs[i] = wasm_f32x4_splat(quant::Fp16ToF32(h) * ad);
      }
    }
    const AuxQ8& a = g_aux[b];
    for (int i = 0; i < R; ++i) {
      const v128_t p0 = Dot4(wasm_v128_xor(wasm_v128_load(blk[i] + 2), a.sgn[0]), a.abs[0], a.c[0]);
      const v128_t p1 =
          Dot4(wasm_v128_xor(wasm_v128_load(blk[i] + 18), a.sgn[1]), a.abs[1], a.c[1]);
      acc[i].lo = wasm_f32x4_add(acc[i].lo, wasm_f32x4_mul(vs[i], wasm_f32x4_convert_i32x4(p0)));
      acc[i].hi = wasm_f32x4_add(acc[i].hi, wasm_f32x4_mul(vs[i], wasm_f32x4_convert_i32x4(p1)));
    }
  }
  for (int i = 0; i < R; ++i) y[r + i] = Reduce8(acc[i]);
  *sink += touched;
}

// Scales first: the tile's nb x 4 products F16(w) * ad in a buffer (which
// also reads every line of the 4 rows, its own touch), then the products.
thread_local v128_t g_scales[2048];
template <int D>
void TilePre(float* y, const uint8_t* w, int64_t row_bytes, const uint8_t* x, int32_t nb,
             int32_t r) {
  for (int32_t b = 0; b < nb; ++b) {
    const uint8_t* blk[4];
    for (int i = 0; i < 4; ++i) blk[i] = w + (r + i) * row_bytes + b * int64_t{34};
    float ad;
    std::memcpy(&ad, x + b * 36, 4);
    g_scales[b] = wasm_f32x4_mul(F16x4(blk), wasm_f32x4_splat(ad));
  }
  Acc8 acc[4];
  for (int i = 0; i < 4; ++i) acc[i] = {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)};
  for (int32_t b = 0; b < nb; ++b) {
    const AuxQ8& a = g_aux[b];
    const float* sc = reinterpret_cast<const float*>(&g_scales[b]);
    for (int i = 0; i < 4; ++i) {
      const uint8_t* blk = w + (r + i) * row_bytes + b * int64_t{34};
      const v128_t vs = wasm_v128_load32_splat(sc + i);
      const v128_t p0 = Dot4(wasm_v128_xor(wasm_v128_load(blk + 2), a.sgn[0]), a.abs[0], a.c[0]);
      const v128_t p1 = Dot4(wasm_v128_xor(wasm_v128_load(blk + 18), a.sgn[1]), a.abs[1], a.c[1]);
      acc[i].lo = wasm_f32x4_add(acc[i].lo, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p0)));
      acc[i].hi = wasm_f32x4_add(acc[i].hi, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p1)));
    }
  }
  for (int i = 0; i < 4; ++i) y[r + i] = Reduce8(acc[i]);
}

template <int D>
void DecodePre(float* y, int64_t, const uint8_t* w, const uint8_t* x, int64_t, int32_t in,
               int32_t r0, int32_t r1, int32_t) {
  const int32_t nb = in / 32;
  const int64_t row_bytes = int64_t{nb} * 34;
  BuildAux(x, nb);
  const uint8_t* end = w + int64_t{r1} * row_bytes;
  uint32_t sink = 0;
  int32_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    if constexpr (D > 0) {
      const uint8_t* ahead = w + int64_t{r} * row_bytes + D;
      for (const uint8_t* p = ahead; p < ahead + 4 * row_bytes && p < end; p += 64) sink += *p;
    }
    TilePre<0>(y, w, row_bytes, x, nb, r);
  }
  for (; r < r1; ++r) Tile<1, 0, false>(y, w, row_bytes, x, nb, r, end - 1, &sink);
  g_sink = g_sink + sink;
}

// Rows as 4 far-apart streams: tile j is rows q0 + j, q0 + Q + j, q0 + 2Q + j,
// q0 + 3Q + j, so each of the 4 rows of a tile walks its own quarter of the
// matrix in address order (the hardware prefetcher sees 4 monotonic streams,
// not 4 interleaved rows 816 bytes apart inside the same pages).
template <int D, int R>
void TileRows(float* y, const uint8_t* w, int64_t row_bytes, const uint8_t* x, int32_t nb,
              const int32_t rows[R], uint32_t* sink) {
  const uint8_t* row[R];
  for (int i = 0; i < R; ++i) row[i] = w + rows[i] * row_bytes;
  if constexpr (D > 0) {
    uint32_t t = 0;
    for (int i = 0; i < R; ++i) {
      for (int64_t o = 0; o < row_bytes; o += 64) t += row[i][D + o];
    }
    *sink += t;
  }
  for (int32_t b = 0; b < nb; ++b) {
    const uint8_t* blk[R];
    for (int i = 0; i < R; ++i) blk[i] = row[i] + b * int64_t{34};
    float ad;
    std::memcpy(&ad, x + b * 36, 4);
    for (int g = 0; g < R; g += 4) {
      g_scales[b * (R / 4) + g / 4] = wasm_f32x4_mul(F16x4(blk + g), wasm_f32x4_splat(ad));
    }
  }
  Acc8 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)};
  for (int32_t b = 0; b < nb; ++b) {
    const AuxQ8& a = g_aux[b];
    const float* sc = reinterpret_cast<const float*>(&g_scales[b * (R / 4)]);
    for (int i = 0; i < R; ++i) {
      const uint8_t* blk = row[i] + b * int64_t{34};
      const v128_t vs = wasm_v128_load32_splat(sc + i);
      const v128_t p0 = Dot4(wasm_v128_xor(wasm_v128_load(blk + 2), a.sgn[0]), a.abs[0], a.c[0]);
      const v128_t p1 = Dot4(wasm_v128_xor(wasm_v128_load(blk + 18), a.sgn[1]), a.abs[1], a.c[1]);
      acc[i].lo = wasm_f32x4_add(acc[i].lo, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p0)));
      acc[i].hi = wasm_f32x4_add(acc[i].hi, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p1)));
    }
  }
  for (int i = 0; i < R; ++i) y[rows[i]] = Reduce8(acc[i]);
}

template <int D, int R = 4>
void DecodeQuad(float* y, int64_t, const uint8_t* w, const uint8_t* x, int64_t, int32_t in,
                int32_t r0, int32_t r1, int32_t) {
  const int32_t nb = in / 32;
  const int64_t row_bytes = int64_t{nb} * 34;
  BuildAux(x, nb);
  const uint8_t* end = w + int64_t{r1} * row_bytes;
  uint32_t sink = 0;
  const int32_t q = (r1 - r0) / R;
  // Touch D bytes ahead in each stream while that stays inside its quarter.
  const int32_t ahead_rows = static_cast<int32_t>((D + row_bytes - 1) / row_bytes) + 1;
  for (int32_t j = 0; j < q; ++j) {
    int32_t rows[R];
    for (int i = 0; i < R; ++i) rows[i] = r0 + i * q + j;
    if (j + ahead_rows < q) {
      TileRows<D, R>(y, w, row_bytes, x, nb, rows, &sink);
    } else {
      TileRows<0, R>(y, w, row_bytes, x, nb, rows, &sink);
    }
  }
  for (int32_t r = r0 + R * q; r < r1; ++r)
    Tile<1, 0, false>(y, w, row_bytes, x, nb, r, end - 1, &sink);
  g_sink = g_sink + sink;
}

// A MatMulFn for n_tok == 1 (the lab calls it only so).
template <int R, int D, bool kSpread>
void Decode(float* y, int64_t, const uint8_t* w, const uint8_t* x, int64_t, int32_t in, int32_t r0,
            int32_t r1, int32_t) {
  const int32_t nb = in / 32;
  const int64_t row_bytes = int64_t{nb} * 34;
  BuildAux(x, nb);
  const uint8_t* end = w + int64_t{r1} * row_bytes;
  uint32_t sink = 0;
  int32_t r = r0;
  if constexpr (kSpread) {
    // Spread touches read blk + D unclamped: only where that is inside [w, end).
    for (; r + R <= r1 && w + (r + R) * row_bytes + D <= end; r += R) {
      Tile<R, D, true>(y, w, row_bytes, x, nb, r, end - 1, &sink);
    }
  }
  for (; r + R <= r1; r += R) {
    if constexpr (!kSpread && D > 0) {
      const uint8_t* ahead = w + int64_t{r} * row_bytes + D;
      for (const uint8_t* p = ahead; p < ahead + R * row_bytes && p < end; p += 64) sink += *p;
    }
    Tile<R, kSpread ? 0 : D, false>(y, w, row_bytes, x, nb, r, end - 1, &sink);
  }
  for (; r < r1; ++r) Tile<1, 0, false>(y, w, row_bytes, x, nb, r, end - 1, &sink);
  g_sink = g_sink + sink;
}

// q4_0 decode as relaxed.cc's 4 x 1 tile (b = raw nibble, c = -8 * sum4(a)),
// rows adjacent (step 1) or one from each quarter (kQuarters).
struct AuxQ4 {
  v128_t c[2];
};
AuxQ4 g_aux4[1024];

template <bool kQuarters>
void DecodeQ4(float* y, int64_t, const uint8_t* w, const uint8_t* x, int64_t, int32_t in,
              int32_t r0, int32_t r1, int32_t) {
  const int32_t nb = in / 32;
  const int64_t row_bytes = int64_t{nb} * 18;
  for (int32_t b = 0; b < nb; ++b) {
    for (int h = 0; h < 2; ++h) {
      const v128_t v = wasm_v128_load(x + b * 36 + 4 + 16 * h);
      g_aux4[b].c[h] = wasm_i32x4_neg(
          wasm_i32x4_shl(wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(v)), 3));
    }
  }
  const v128_t m4 = wasm_i8x16_splat(0x0F);
  auto tile = [&](int32_t r, int32_t step, int R) {
    Acc8 acc[4];
    for (int i = 0; i < 4; ++i) acc[i] = {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)};
    for (int32_t b = 0; b < nb; ++b) {
      const uint8_t* a = x + b * 36;
      float ad;
      std::memcpy(&ad, a, 4);
      const v128_t a0 = wasm_v128_load(a + 4), a1 = wasm_v128_load(a + 20);
      for (int i = 0; i < R; ++i) {
        const uint8_t* blk = w + (r + i * step) * row_bytes + b * int64_t{18};
        uint16_t h;
        std::memcpy(&h, blk, 2);
        const v128_t vs = wasm_f32x4_splat(quant::Fp16ToF32(h) * ad);
        const v128_t q = wasm_v128_load(blk + 2);
        const v128_t p0 = Dot4(a0, wasm_v128_and(q, m4), g_aux4[b].c[0]);
        const v128_t p1 = Dot4(a1, wasm_u8x16_shr(q, 4), g_aux4[b].c[1]);
        acc[i].lo = wasm_f32x4_add(acc[i].lo, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p0)));
        acc[i].hi = wasm_f32x4_add(acc[i].hi, wasm_f32x4_mul(vs, wasm_f32x4_convert_i32x4(p1)));
      }
    }
    for (int i = 0; i < R; ++i) y[r + i * step] = Reduce8(acc[i]);
  };
  int32_t r = r0;
  if constexpr (kQuarters) {
    const int32_t q = (r1 - r0) / 4;
    for (int32_t j = 0; j < q; ++j) tile(r0 + j, q, 4);
    r = r0 + 4 * q;
  }
  for (; r + 4 <= r1; r += 4) tile(r, 1, 4);
  for (; r < r1; ++r) tile(r, 1, 1);
}

struct Variant {
  const char* name;
  MatMulFn fn;
};
const Variant kVariantsQ4[] = {
    {"q4 adjacent", DecodeQ4<false>},
    {"q4 quarters", DecodeQ4<true>},
};
const Variant kVariants[] = {
    {"r4 burst20K", Decode<4, 20480, false>},
    {"r4 none", Decode<4, 0, false>},
    {"r8 burst20K", Decode<8, 20480, false>},
    {"pre4 burst20K", DecodePre<20480>},
    {"pre4 none", DecodePre<0>},
    {"quad none", DecodeQuad<0>},
    {"oct none", DecodeQuad<0, 8>},
    {"quad ahead10K", DecodeQuad<10240>},
};

}  // namespace lab

// --decode: the variants above checked against scalar bit for bit, then timed
// on s110m-like shapes (rows x in: 2048 x 768, 768 x 2048, 32000 x 768), each
// call on the next window of a ~100 MB buffer so its weights come from DRAM.
int DecodeLab(const KernelTable& scalar, const KernelTable& relaxed, DType t,
              const lab::Variant* variants, int n_variants) {
  WeightFormat f;
  WeightFormatOf(t, &f);
  const int32_t block_bytes = t == DType::kQ8_0 ? 34 : 18;
  int bad = 0;
  for (bool random : {false, true}) {
    for (auto [rows, in] : {std::pair{37, 768}, {64, 2048}}) {
      const Case c = Make(t, rows, in, 1, random, 7);
      for (int k = 0; k < n_variants; ++k) {
        const lab::Variant& v = variants[k];
        if (!tiles::Same(v.fn, scalar.matmul[static_cast<int>(f)], c, rows, in, 1)) {
          std::printf("%s: NOT bit-identical (rows %d in %d random %d)\n", v.name, rows, in,
                      random);
          ++bad;
        }
      }
    }
  }
  std::printf("decode variants checked against scalar: %d bad\n", bad);
  const MatMulFn cur = relaxed.matmul[static_cast<int>(f)];
  const int kN = n_variants;
  // 256 x 768 (209 KB, one window): the same kernels from cache, their compute alone.
  for (auto [rows, in] : {std::pair{256, 768}, {2048, 768}, {768, 2048}, {32000, 768}}) {
    const int32_t big = static_cast<int32_t>(int64_t{100} << 20) / (in / 32 * block_bytes);
    const int32_t windows = rows == 256 ? 1 : big / rows;
    const Case c = Make(t, windows * rows, in, 1, false, 3);
    std::vector<float> y(windows * rows);
    std::vector<std::vector<double>> times(kN + 1);
    int win = 0;
    for (int round = 0; round < 7; ++round) {
      for (int k = 0; k <= kN; ++k) {
        const MatMulFn fn = k == kN ? cur : variants[k].fn;
        const auto t0 = std::chrono::steady_clock::now();
        int reps = 0;
        double s = 0;
        do {
          const int32_t r0 = (win++ % windows) * rows;
          fn(y.data(), 1, c.w.data(), c.act.data(), c.stride, in, r0, r0 + rows, 1);
          ++reps;
          s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        } while (s < 0.1);
        times[k].push_back(s / reps);
      }
    }
    std::printf("%s decode rows %5d in %5d (GB/s of weights, median of 7):\n", DTypeName(t), rows,
                in);
    for (int k = 0; k <= kN; ++k) {
      std::sort(times[k].begin(), times[k].end());
      std::printf("  %-14s %8.1f us %5.2f GB/s\n", k == kN ? "simd128r" : variants[k].name,
                  times[k][3] * 1e6, rows * (in / 32.0 * block_bytes) / times[k][3] / 1e9);
    }
  }
  return bad;
}
#endif  // __wasm_relaxed_simd__

int main(int argc, char** argv) {
  const bool time = argc > 1 && std::string(argv[1]) == "--time";
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
#if defined(__wasm_relaxed_simd__)
  if (argc > 1 && std::string(argv[1]) == "--decode") {
    // --decode [q4_0]: the q8_0 variants, or the q4_0 ones.
    const bool q4 = argc > 2 && std::string(argv[2]) == "q4_0";
    const int bad =
        q4 ? DecodeLab(*FindKernels("scalar"), *FindKernels("simd128r"), DType::kQ4_0,
                       lab::kVariantsQ4, 2)
           : DecodeLab(*FindKernels("scalar"), *FindKernels("simd128r"), DType::kQ8_0,
                       lab::kVariants, sizeof(lab::kVariants) / sizeof(lab::kVariants[0]));
    return bad == 0 ? 0 : 1;
  }
#endif
  int bad = 0;
  const DType types[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K};
  for (DType t : types) {
    for (int ti = 1; ti < n_tables; ++ti) {
      int n = 0, ok = 0;
      tiles::CheckFormat(*tables[ti], t, &ok, &n);
      std::printf("%-8s %-5s %d/%d shapes bit-identical to scalar\n", tables[ti]->name,
                  DTypeName(t), ok, n);
      bad += n - ok;
    }
  }
  if (!time) return bad == 0 ? 0 : 1;
  // Timing: every table but scalar, interleaved rounds, median (argv[2]:
  // only this format, e.g. q8_0).
  for (DType t : types) {
    if (argc > 2 && std::string(argv[2]) != DTypeName(t)) continue;
    WeightFormat f;
    WeightFormatOf(t, &f);
    for (auto [rows, in, n_tok] :
         {std::tuple{2048, 768, 1}, {768, 2048, 1}, {1024, 768, 32}, {131072, 768, 1}}) {
      const Case c = Make(t, rows, in, n_tok, false, 1);
      std::vector<float> got(rows * n_tok);
      std::vector<double> times[4];
      for (int round = 0; round < 5; ++round) {
        for (int k = 1; k < n_tables; ++k) {
          const MatMulFn fn = tables[k]->matmul[static_cast<int>(f)];
          const auto t0 = std::chrono::steady_clock::now();
          int reps = 0;
          double s = 0;
          do {
            fn(got.data(), rows, c.w.data(), c.act.data(), c.stride, in, 0, rows, n_tok);
            ++reps;
            s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          } while (s < 0.05);
          times[k].push_back(s / reps);
        }
      }
      std::printf("%-5s rows %5d in %5d n_tok %2d:", DTypeName(t), rows, in, n_tok);
      for (int k = 1; k < n_tables; ++k) {
        std::sort(times[k].begin(), times[k].end());
        const double s = times[k][2];
        std::printf("  %s %8.1f us (%5.1f Gweights/s)", tables[k]->name, s * 1e6,
                    1.0 * rows * in * n_tok / s / 1e9);
      }
      std::printf("\n");
    }
  }
  return bad == 0 ? 0 : 1;
}

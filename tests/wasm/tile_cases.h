// Kernel-level cases shared by the wasm determinism program
// (tests/wasm/determinism_main.cc) and the wasm kernel lab
// (bench/kernels/wasm_lab.cc): quantized matmul inputs (quantizer-made rows,
// or random bytes with every code, q8_0's -128 included, and any finite f16
// scale) and a bit-for-bit comparison of one table's matmul with scalar's,
// also on an odd row range. Header-only so the wasm programs need nothing but
// the library.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "base/prng.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

namespace slm::tiles {

struct Case {
  std::vector<uint8_t> w, act;
  int64_t stride;
};

// rows x in weights of type t (quantizer rows, or random bytes with a finite
// f16 scale per block when `random_bytes`) and n_tok quantized activations.
inline Case Make(DType t, int32_t rows, int32_t in, int32_t n_tok, bool random_bytes,
                 uint64_t seed) {
  WeightFormat f;
  WeightFormatOf(t, &f);
  Prng p(seed);
  uint64_t rb = 0;
  DTypeBytes(t, static_cast<uint64_t>(in), &rb);
  Case c;
  c.w.resize(rows * rb);
  std::vector<float> v(in);
  for (int32_t r = 0; r < rows; ++r) {
    if (random_bytes) {
      for (uint64_t i = 0; i < rb; ++i) c.w[r * rb + i] = static_cast<uint8_t>(p.Next() >> 24);
      // Scales: a random finite f16 at each block's start (q8_0/q4_0).
      if (t == DType::kQ8_0 || t == DType::kQ4_0) {
        const uint64_t bb = t == DType::kQ8_0 ? 34 : 18;
        for (uint64_t b = 0; b < rb / bb; ++b) {
          // Any finite half (normal, subnormal, zero; either sign): exponent 31 cleared to 15.
          uint16_t h = static_cast<uint16_t>(p.Next() >> 48);
          if ((h & 0x7c00) == 0x7c00) h = static_cast<uint16_t>(h & ~0x4000);
          std::memcpy(&c.w[r * rb + b * bb], &h, 2);
        }
      }
    } else if (r < 16) {
      for (float& x : v) x = p.NextFloat() - 0.5f;
      quant::QuantizeRow(t, v, {c.w.data() + r * rb, static_cast<size_t>(rb)});
    } else {
      std::memcpy(c.w.data() + r * rb, c.w.data() + (r % 16) * rb, rb);
    }
  }
  const ActFormat a = ActFormatOf(f);
  c.stride = ActBytes(a, in);
  c.act.resize(n_tok * c.stride);
  for (int32_t k = 0; k < n_tok; ++k) {
    for (int32_t i = 0; i < in; ++i) {
      // Every 9th value the block's extreme (+-127 after quantization).
      v[i] = i % 9 == 0 ? (i % 2 ? 4.0f : -4.0f) : p.NextFloat() - 0.5f;
    }
    if (a == ActFormat::kQ8x32)
      ScalarKernels().quantize_q8x32(v.data(), c.act.data() + k * c.stride, in);
    if (a == ActFormat::kQ8x256)
      ScalarKernels().quantize_q8x256(v.data(), c.act.data() + k * c.stride, in);
  }
  return c;
}

// True if `fn` gives scalar's bits on rows [0, rows) and on [3, rows - 4).
inline bool Same(MatMulFn fn, MatMulFn ref, const Case& c, int32_t rows, int32_t in,
                 int32_t n_tok) {
  std::vector<float> want(rows * n_tok), got(want.size());
  ref(want.data(), rows, c.w.data(), c.act.data(), c.stride, in, 0, rows, n_tok);
  fn(got.data(), rows, c.w.data(), c.act.data(), c.stride, in, 0, rows, n_tok);
  bool same = std::memcmp(got.data(), want.data(), want.size() * 4) == 0;
  if (rows > 8) {
    std::vector<float> part(want.size(), -5.0f);
    fn(part.data(), rows, c.w.data(), c.act.data(), c.stride, in, 3, rows - 4, n_tok);
    for (int32_t k = 0; k < n_tok; ++k) {
      for (int32_t r = 0; r < rows; ++r) {
        const float expect = r >= 3 && r < rows - 4 ? want[k * rows + r] : -5.0f;
        same = same && std::memcmp(&part[k * rows + r], &expect, 4) == 0;
      }
    }
  }
  return same;
}

// Every table of this build against scalar for one format on a grid of
// shapes (row lengths 1, 2, 24 blocks and 3072 values; 1-70 rows; 1-9
// tokens; quantized and, for q8_0/q4_0, random-byte rows). Returns the
// number of bit-identical shapes in *ok out of *n.
inline void CheckFormat(const KernelTable& table, DType t, int* ok, int* n) {
  WeightFormat f;
  WeightFormatOf(t, &f);
  const int32_t blk = ActFormatOf(f) == ActFormat::kQ8x256 ? 256 : 32;
  *ok = *n = 0;
  for (int32_t in : {blk, 2 * blk, 768, 4 * 768}) {
    for (int32_t rows : {1, 3, 4, 5, 37, 70}) {
      for (int32_t n_tok : {1, 2, 4, 5, 9}) {
        for (bool rnd : {false, true}) {
          if (rnd && blk == 256) continue;  // random k-quant scales: NaN/inf
          const Case c = Make(t, rows, in, n_tok, rnd, 7 + rows * 13 + n_tok + in);
          ++*n;
          *ok += Same(table.matmul[static_cast<int>(f)],
                      ScalarKernels().matmul[static_cast<int>(f)], c, rows, in, n_tok);
        }
      }
    }
  }
}

}  // namespace slm::tiles

// Kernel lab for the wasm tables (simd128 in slm.wasm, simd128r in
// slm-relaxed.wasm): each quantized matmul of every table of the build
// validated bit for bit against scalar (quantizer-made rows and random-byte
// rows with every code, q8_0's -128 included; tails and odd row ranges), then
// timed (wall clock, median of 5 interleaved rounds) on decode (1 token) and
// prefill (32 tokens) shapes, in = 768 and 2048.
// Build (see bench/kernels/build.sh) against a wasm libslm.a / libslm_relaxed.a
// and run under node:wasi:
//   node [--experimental-wasm-relaxed-simd] tests/wasm/run.mjs wasm_lab.wasm /tmp [--time]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/prng.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

using namespace slm;

namespace {

struct Case {
  std::vector<uint8_t> w, act;
  int64_t stride;
};

// rows x in weights of type t (quantizer rows, or random bytes with a finite
// f16 scale per block when `random_bytes`) and n_tok quantized activations.
Case Make(DType t, int32_t rows, int32_t in, int32_t n_tok, bool random_bytes, uint64_t seed) {
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
      // Scales: a random finite f16 of moderate size at each block's start (q8_0/q4_0).
      if (t == DType::kQ8_0 || t == DType::kQ4_0) {
        const uint64_t bb = t == DType::kQ8_0 ? 34 : 18;
        for (uint64_t b = 0; b < rb / bb; ++b) {
          const uint16_t h = static_cast<uint16_t>(0x2000 + (p.Next() >> 40) % 0x2000) |
                             static_cast<uint16_t>((p.Next() >> 20) & 0x8000);
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
bool Same(MatMulFn fn, MatMulFn ref, const Case& c, int32_t rows, int32_t in, int32_t n_tok) {
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

}  // namespace

int main(int argc, char** argv) {
  const bool time = argc > 1 && std::string(argv[1]) == "--time";
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  int bad = 0;
  const DType types[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K};
  for (DType t : types) {
    WeightFormat f;
    WeightFormatOf(t, &f);
    const int32_t blk = ActFormatOf(f) == ActFormat::kQ8x256 ? 256 : 32;
    for (int ti = 1; ti < n_tables; ++ti) {
      int n = 0, ok = 0;
      for (int32_t in : {blk, 2 * blk, 768, 4 * 768}) {
        for (int32_t rows : {1, 3, 4, 5, 37, 70}) {
          for (int32_t n_tok : {1, 2, 4, 5, 9}) {
            for (bool rnd : {false, true}) {
              if (rnd && blk == 256) continue;  // random k-quant scales: NaN/inf
              const Case c = Make(t, rows, in, n_tok, rnd, 7 + rows * 13 + n_tok + in);
              const bool s = Same(tables[ti]->matmul[static_cast<int>(f)],
                                  ScalarKernels().matmul[static_cast<int>(f)], c, rows, in, n_tok);
              ++n;
              ok += s;
              if (!s && n - ok <= 3) {
                std::printf("  DIFF %s %s in %d rows %d n_tok %d %s\n", tables[ti]->name,
                            DTypeName(t), in, rows, n_tok, rnd ? "random bytes" : "quantized");
              }
            }
          }
        }
      }
      std::printf("%-8s %-5s %d/%d shapes bit-identical to scalar\n", tables[ti]->name,
                  DTypeName(t), ok, n);
      bad += n - ok;
    }
  }
  if (!time) return bad == 0 ? 0 : 1;
  // Timing: every table but scalar, interleaved rounds, median.
  for (DType t : types) {
    WeightFormat f;
    WeightFormatOf(t, &f);
    for (auto [rows, in, n_tok] : {std::tuple{2048, 768, 1}, {768, 2048, 1}, {1024, 768, 32}}) {
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

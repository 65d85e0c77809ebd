// Kernel lab for the wasm SIMD128 table: each quantized matmul validated bit
// for bit against scalar, then timed (wall clock, median of interleaved
// rounds) on decode (1 token) and prefill (32 tokens) shapes, in = 768.
// Build (see bench/kernels/build.sh) against a wasm libslm.a and run under
// node:wasi:  node tests/wasm/run.mjs build/.../wasm_lab.wasm /tmp
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/prng.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

using namespace slm;

int main() {
  const int32_t in = 768;
  const KernelTable* simd = FindKernels("simd128");
  if (simd == nullptr) return 3;
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K}) {
    WeightFormat f;
    WeightFormatOf(t, &f);
    for (auto [rows, n_tok] : {std::pair{37, 5}, {37, 1}, {2048, 1}, {1024, 32}}) {
      Prng p(1);
      uint64_t rb = 0;
      DTypeBytes(t, static_cast<uint64_t>(in), &rb);
      std::vector<uint8_t> w(rows * rb);
      std::vector<float> v(in);
      for (int32_t r = 0; r < rows; ++r) {
        if (r < 16) {
          for (float& x : v) x = p.NextFloat() - 0.5f;
          quant::QuantizeRow(t, v, {w.data() + r * rb, static_cast<size_t>(rb)});
        } else {
          std::memcpy(w.data() + r * rb, w.data() + (r % 16) * rb, rb);
        }
      }
      const ActFormat a = ActFormatOf(f);
      const int64_t stride = ActBytes(a, in);
      std::vector<uint8_t> act(n_tok * stride);
      for (int32_t k = 0; k < n_tok; ++k) {
        for (float& x : v) x = p.NextFloat() - 0.5f;
        if (a == ActFormat::kQ8x32)
          ScalarKernels().quantize_q8x32(v.data(), act.data() + k * stride, in);
        if (a == ActFormat::kQ8x256)
          ScalarKernels().quantize_q8x256(v.data(), act.data() + k * stride, in);
      }
      std::vector<float> want(rows * n_tok), got(want.size());
      const MatMulFn fns[2] = {ScalarKernels().matmul[static_cast<int>(f)],
                               simd->matmul[static_cast<int>(f)]};
      fns[0](want.data(), rows, w.data(), act.data(), stride, in, 0, rows, n_tok);
      fns[1](got.data(), rows, w.data(), act.data(), stride, in, 0, rows, n_tok);
      bool same = std::memcmp(got.data(), want.data(), want.size() * 4) == 0;
      // An odd row range writes exactly the same values.
      std::vector<float> part(want.size(), -5.0f);
      fns[1](part.data(), rows, w.data(), act.data(), stride, in, 3, rows - 4, n_tok);
      for (int32_t k = 0; k < n_tok; ++k) {
        for (int32_t r = 3; r < rows - 4; ++r)
          same = same && part[k * rows + r] == want[k * rows + r];
      }
      if (rows < 100) {
        std::printf("%-5s rows %5d n_tok %2d: %s (tails)\n", DTypeName(t), rows, n_tok,
                    same ? "ok" : "DIFF");
        continue;
      }
      std::vector<double> times[2];
      for (int round = 0; round < 5; ++round) {
        for (int k = 0; k < 2; ++k) {
          const auto t0 = std::chrono::steady_clock::now();
          int reps = 0;
          double s = 0;
          do {
            fns[k](got.data(), rows, w.data(), act.data(), stride, in, 0, rows, n_tok);
            ++reps;
            s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          } while (s < 0.05);
          times[k].push_back(s / reps);
        }
      }
      for (auto& x : times) std::sort(x.begin(), x.end());
      const double sc = times[0][2], sd = times[1][2];
      std::printf(
          "%-5s rows %5d n_tok %2d: %s scalar %8.1f us, simd128 %8.1f us (%5.1f Gop/s, x%.1f)\n",
          DTypeName(t), rows, n_tok, same ? "ok  " : "DIFF", sc * 1e6, sd * 1e6,
          2.0 * rows * in * n_tok / sd / 1e9, sc / sd);
    }
  }
  return 0;
}

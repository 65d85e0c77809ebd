// Kernel lab for the wasm tables (simd128 in slm.wasm, simd128r in
// slm-relaxed.wasm): each quantized matmul of every table of the build
// validated bit for bit against scalar (quantizer-made rows and random-byte
// rows with every code, q8_0's -128 included; tails and odd row ranges), then
// timed (wall clock, median of 5 interleaved rounds) on decode (1 token) and
// prefill (32 tokens) shapes, in = 768 and 2048.
// Build (see bench/kernels/build.sh) against a wasm libslm.a / libslm_relaxed.a
// and run under node:wasi:
//   node [--experimental-wasm-relaxed-simd] tests/wasm/run.mjs wasm_lab.wasm /tmp [--time [FORMAT]]
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

int main(int argc, char** argv) {
  const bool time = argc > 1 && std::string(argv[1]) == "--time";
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
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

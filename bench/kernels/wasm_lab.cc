// Kernel lab for the wasm tables (simd128 in slm.wasm, simd128r in
// slm-relaxed.wasm): each quantized matmul of every table of the build
// validated bit for bit against scalar (quantizer-made rows and random-byte
// rows with every code, q8_0's -128 included; tails and odd row ranges), then
// timed (wall clock, best and median of 9 interleaved rounds: the best is the
// figure to compare on a shared machine) on decode (1 token, weights from
// DRAM) and prefill (32 tokens) shapes, in = 768 and 2048.
// Build (see bench/kernels/build.sh) against a wasm libslm.a, or with
// -mrelaxed-simd against libslm_relaxed.a for the simd128r table too:
//   clang++-19 --target=wasm32-wasi --sysroot=/usr -msimd128 -mrelaxed-simd -O3 -std=c++20 \
//     -fno-exceptions -ffp-contract=off -Isrc -Iinclude bench/kernels/wasm_lab.cc \
//     WASM_BUILD/web/libslm_relaxed.a -fuse-ld=lld -o wasm_lab.wasm
// and run under node:wasi:
//   node [--experimental-wasm-relaxed-simd] tests/wasm/run.mjs wasm_lab.wasm /tmp [--time [FORMAT]]
// (The --decode mode and its contract-1 q8_0 / q4_0 decode tile variants,
// which chose relaxed.cc's row order, are in git history before contract 2.)
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
  // Timing: every table but scalar, interleaved rounds (argv[2]: only this
  // format, e.g. q8_0). Decode shapes (1 token) are s110m's
  // (rows x in: 2048 x 768, 768 x 2048, 32000 x 768), each call on the next
  // window of a ~100 MB buffer so the weights come from DRAM as in a real
  // decode step; 256 x 768 (one window, ~200 KB) is the compute from cache.
  // Prefill (32 tokens) reuses one window: it is compute-bound.
  for (DType t : types) {
    if (argc > 2 && std::string(argv[2]) != DTypeName(t)) continue;
    WeightFormat f;
    WeightFormatOf(t, &f);
    uint64_t row_bytes = 0;
    for (auto [rows, in, n_tok] : {std::tuple{256, 768, 1},
                                   {2048, 768, 1},
                                   {768, 2048, 1},
                                   {32000, 768, 1},
                                   {1024, 768, 32},
                                   {768, 2048, 32}}) {
      DTypeBytes(t, static_cast<uint64_t>(in), &row_bytes);
      const int32_t big = static_cast<int32_t>((uint64_t{100} << 20) / (rows * row_bytes));
      const int32_t windows = n_tok > 1 || rows == 256 ? 1 : std::max(1, big);
      const Case c = Make(t, windows * rows, in, n_tok, false, 1);
      std::vector<float> got(rows * n_tok);
      std::vector<double> times[4];
      int win = 0;
      for (int round = 0; round < 9; ++round) {
        for (int k = 1; k < n_tables; ++k) {
          const MatMulFn fn = tables[k]->matmul[static_cast<int>(f)];
          const auto t0 = std::chrono::steady_clock::now();
          int reps = 0;
          double s = 0;
          do {
            const uint8_t* w = c.w.data() + (win++ % windows) * rows * row_bytes;
            fn(got.data(), rows, w, c.act.data(), c.stride, in, 0, rows, n_tok);
            ++reps;
            s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          } while (s < 0.05);
          times[k].push_back(s / reps);
        }
      }
      std::printf("%-5s rows %5d in %5d n_tok %2d%s:", DTypeName(t), rows, in, n_tok,
                  windows > 1 ? " DRAM" : "     ");
      for (int k = 1; k < n_tables; ++k) {
        std::sort(times[k].begin(), times[k].end());
        const double s = times[k][0];
        std::printf("  %s %8.1f us (%5.2f GB/s, median %8.1f)", tables[k]->name, s * 1e6,
                    1.0 * rows * row_bytes / s / 1e9, times[k][4] * 1e6);
      }
      std::printf("\n");
    }
  }
  return bad == 0 ? 0 : 1;
}

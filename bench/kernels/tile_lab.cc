// Lab for the AVX-512 q8_0 / q4_0 prefill and batch tiles (src/kernels/avx512/matmul.cc):
// the table entry ("now", MatMulQI 2 x 8 since run 4) against the previous tile ("old 2x8",
// MatMulQ: start values and one Reduce8 per output inside every tile) and other shapes of
// the MatMulQI tile, which
//   (a) computes the activation-only start value -k * (a[4l] + .. + a[4l+3]) once per
//       (token, block) into a stack buffer instead of once per row tile, and
//   (b) reduces 8 two-row accumulators at once (kernels.h's Reduce8 tree, lane-parallel
//       with shuffles) instead of one Reduce8 per output.
// Every variant is validated bit for bit against the scalar reference first, then timed
// interleaved, median of process CPU time per call.
//   tile_lab [--rounds 9] [--type q8_0|q4_0]
// Built by bench/kernels/build.sh with the AVX-512 flags (it includes the kernel source).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "../../src/kernels/avx512/matmul.cc"
#include "base/prng.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

using namespace slm;

namespace {

struct Buffers {
  std::vector<uint8_t> w, act;
  int64_t act_stride;
};

Buffers Make(DType t, int32_t rows, int32_t in, int32_t n_tok) {
  Prng p(1);
  Buffers b;
  uint64_t rb = 0;
  DTypeBytes(t, static_cast<uint64_t>(in), &rb);
  b.w.resize(rows * rb);
  std::vector<float> row(in), x(in);
  for (int32_t r = 0; r < rows; ++r) {
    if (r < 64) {
      for (float& v : row) v = p.NextFloat() - 0.5f;
      quant::QuantizeRow(t, row, {b.w.data() + r * rb, static_cast<size_t>(rb)});
    } else {
      std::memcpy(b.w.data() + r * rb, b.w.data() + (r % 64) * rb, rb);
    }
  }
  b.act_stride = ActBytes(ActFormat::kQ8x32, in);
  b.act.resize(n_tok * b.act_stride);
  for (int32_t tok = 0; tok < n_tok; ++tok) {
    for (float& v : x) v = p.NextFloat() - 0.5f;
    ScalarKernels().quantize_q8x32(x.data(), b.act.data() + tok * b.act_stride, in);
  }
  return b;
}

struct Variant {
  std::string name;
  MatMulFn fn;
};

double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

#define V(U, P, T) \
  Variant { #P "x" #T " init+red", kernels::avx512::MatMulQI < kernels::avx512::U, P, T> }

int main(int argc, char** argv) {
  int32_t rounds = 9;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--rounds") rounds = std::stoi(argv[i + 1]);
    if (std::string(argv[i]) == "--type") only = argv[i + 1];
  }
  struct Case {
    DType t;
    std::vector<Variant> v;
  };
  std::vector<Case> cases = {
      {DType::kQ8_0,
       {{"now", kernels::avx512::MatMulQ8_0},
        {"old 2x8", kernels::avx512::MatMulQ<kernels::avx512::UnpackQ8_0, 2, 8>},
        V(UnpackQ8_0, 3, 8),
        V(UnpackQ8_0, 1, 8),
        V(UnpackQ8_0, 4, 4),
        V(UnpackQ8_0, 2, 4)}},
      {DType::kQ4_0,
       {{"now", kernels::avx512::MatMulQ4_0},
        {"old 2x8", kernels::avx512::MatMulQ<kernels::avx512::UnpackQ4_0, 2, 8>},
        V(UnpackQ4_0, 3, 8),
        V(UnpackQ4_0, 1, 8),
        V(UnpackQ4_0, 4, 4),
        V(UnpackQ4_0, 2, 4)}},
  };
  // (rows, in, tokens): stories15M LM head and FFN in a batch of 8; s110m prefill shapes.
  const int32_t shapes[][3] = {
      {32000, 288, 8}, {768, 288, 8}, {2048, 768, 32}, {768, 2048, 32}, {2048, 768, 13}};
  for (const Case& c : cases) {
    if (!only.empty() && only != DTypeName(c.t)) continue;
    WeightFormat f;
    WeightFormatOf(c.t, &f);
    for (const auto& s : shapes) {
      const int32_t rows = s[0], in = s[1], n_tok = s[2];
      Buffers b = Make(c.t, rows, in, n_tok);
      std::vector<float> want(static_cast<size_t>(rows) * n_tok), got(want.size());
      ScalarKernels().matmul[static_cast<int>(f)](want.data(), rows, b.w.data(), b.act.data(),
                                                  b.act_stride, in, 0, rows, n_tok);
      for (const Variant& v : c.v) {
        for (auto [r0, r1] : {std::pair{0, rows}, {3, rows - 5}}) {
          std::fill(got.begin(), got.end(), -1.0f);
          std::vector<float> exp(want.size(), -1.0f);
          for (int32_t t = 0; t < n_tok; ++t)
            for (int32_t r = r0; r < r1; ++r) exp[t * rows + r] = want[t * rows + r];
          v.fn(got.data(), rows, b.w.data(), b.act.data(), b.act_stride, in, r0, r1, n_tok);
          if (std::memcmp(got.data(), exp.data(), exp.size() * 4) != 0) {
            std::printf("%s %s rows %d in %d n_tok %d [%d,%d): DIFF from scalar\n", DTypeName(c.t),
                        v.name.c_str(), rows, in, n_tok, r0, r1);
            return 1;
          }
        }
      }
      std::vector<std::vector<double>> times(c.v.size());
      for (int round = 0; round < rounds; ++round) {
        for (size_t vi = 0; vi < c.v.size(); ++vi) {
          int reps = 0;
          const double t0 = CpuSeconds();
          double sec = 0;
          do {
            c.v[vi].fn(got.data(), rows, b.w.data(), b.act.data(), b.act_stride, in, 0, rows,
                       n_tok);
            ++reps;
            sec = CpuSeconds() - t0;
          } while (sec < 0.02);
          times[vi].push_back(sec / reps);
        }
      }
      for (size_t vi = 0; vi < c.v.size(); ++vi) {
        std::sort(times[vi].begin(), times[vi].end());
        const double med = times[vi][times[vi].size() / 2];
        const double base = times[0][times[0].size() / 2];
        std::printf("%-5s %5d x %4d x %2d tok %-16s %9.1f us %6.1f Gop/s  x%.2f vs now\n",
                    DTypeName(c.t), rows, in, n_tok, c.v[vi].name.c_str(), med * 1e6,
                    2.0 * rows * in * n_tok / med / 1e9, base / med);
      }
      std::fflush(stdout);
    }
  }
  return 0;
}

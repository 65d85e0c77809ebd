// Kernel lab for the AVX-512 VNNI matmuls (src/kernels/avx512): every variant
// is validated bit for bit against the scalar reference, then timed against
// the AVX2 table in the same process, interleaved (A B A B ...), median of
// process CPU time per call (the machine is shared: ratios, not absolutes).
//   vnni_lab [--in 768] [--rounds 15]
// Built by bench/kernels/build.sh with the AVX-512 flags; includes the kernel
// source so the tile shapes (P row pairs x T tokens) can be varied here.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "../../src/kernels/avx512/matmul.cc"
#include "../../src/kernels/avx512/matmul_q8.cc"
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
  // Quantizing every row is slow for k-quants: quantize 64 rows, repeat them.
  for (int32_t r = 0; r < rows; ++r) {
    if (r < 64) {
      for (float& v : row) v = p.NextFloat() - 0.5f;
      quant::QuantizeRow(t, row, {b.w.data() + r * rb, static_cast<size_t>(rb)});
    } else {
      std::memcpy(b.w.data() + r * rb, b.w.data() + (r % 64) * rb, rb);
    }
  }
  WeightFormat f;
  WeightFormatOf(t, &f);
  const ActFormat a = ActFormatOf(f);
  b.act_stride = ActBytes(a, in);
  b.act.resize(n_tok * b.act_stride);
  for (int32_t tok = 0; tok < n_tok; ++tok) {
    for (float& v : x) v = p.NextFloat() - 0.5f;
    uint8_t* dst = b.act.data() + tok * b.act_stride;
    if (a == ActFormat::kF32) std::memcpy(dst, x.data(), in * 4);
    if (a == ActFormat::kQ8x32) ScalarKernels().quantize_q8x32(x.data(), dst, in);
    if (a == ActFormat::kQ8x256) ScalarKernels().quantize_q8x256(x.data(), dst, in);
  }
  return b;
}

struct Variant {
  std::string name;
  MatMulFn fn;
};

double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  int32_t in = 768, rounds = 15;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--in") in = std::stoi(argv[i + 1]);
    if (std::string(argv[i]) == "--rounds") rounds = std::stoi(argv[i + 1]);
    if (std::string(argv[i]) == "--type") only = argv[i + 1];
  }
  const KernelTable* avx2 = FindKernels("avx2");
  struct Case {
    DType t;
    std::vector<Variant> v;
  };
  std::vector<Case> cases = {
      // q8_0 / q4_0 (contract 2): the 16-row transposed tile, up to 8 tokens per call group.
      {DType::kQ8_0,
       {Variant{"q8_0 16 rows x 8", kernels::avx512::MatMulQ8<kernels::avx512::UnpackQ8_0>}}},
      {DType::kQ4_0,
       {Variant{"q4_0 16 rows x 8", kernels::avx512::MatMulQ8<kernels::avx512::UnpackQ4_0>}}},
      {DType::kQ4_K,
       {Variant{"q4_k 1x4", kernels::avx512::MatMulQ4KTiled<1, 4>},
        Variant{"q4_k 2x2", kernels::avx512::MatMulQ4KTiled<2, 2>},
        Variant{"q4_k 2x4", kernels::avx512::MatMulQ4KTiled<2, 4>},
        Variant{"q4_k 3x4", kernels::avx512::MatMulQ4KTiled<3, 4>},
        Variant{"q4_k 4x2", kernels::avx512::MatMulQ4KTiled<4, 2>},
        Variant{"q4_k 1x8", kernels::avx512::MatMulQ4KTiled<1, 8>},
        Variant{"q4_k 2x8", kernels::avx512::MatMulQ4KTiled<2, 8>}}},
      {DType::kQ6_K,
       {Variant{"q6_k 2x4", kernels::avx512::MatMulQ6KTiled<2, 4>},
        Variant{"q6_k 2x8", kernels::avx512::MatMulQ6KTiled<2, 8>},
        Variant{"q6_k 1x8", kernels::avx512::MatMulQ6KTiled<1, 8>}}},
  };
  for (const Case& c : cases) {
    if (!only.empty() && only != DTypeName(c.t)) continue;
    WeightFormat f;
    WeightFormatOf(c.t, &f);
    for (auto [rows, n_tok] : {std::pair{2048, 1}, {32000, 1}, {131072, 1}, {2048, 32}}) {
      Buffers b = Make(c.t, rows, in, n_tok);
      std::vector<float> want(static_cast<size_t>(rows) * n_tok), got(want.size());
      ScalarKernels().matmul[static_cast<int>(f)](want.data(), rows, b.w.data(), b.act.data(),
                                                  b.act_stride, in, 0, rows, n_tok);
      std::vector<Variant> all = {{"avx2 table", avx2->matmul[static_cast<int>(f)]}};
      for (const Variant& v : c.v) {
        if (n_tok == 1 && &v != &c.v[0] && c.t != DType::kQ4_K && c.t != DType::kQ6_K)
          continue;  // decode ignores T
        all.push_back(v);
      }
      std::vector<std::vector<double>> times(all.size());
      for (size_t vi = 0; vi < all.size(); ++vi) {
        std::fill(got.begin(), got.end(), -1.0f);
        all[vi].fn(got.data(), rows, b.w.data(), b.act.data(), b.act_stride, in, 0, rows, n_tok);
        if (std::memcmp(got.data(), want.data(), want.size() * 4) != 0) {
          std::printf("%s %s: DIFF from scalar\n", DTypeName(c.t), all[vi].name.c_str());
          return 1;
        }
      }
      for (int round = 0; round < rounds; ++round) {
        for (size_t vi = 0; vi < all.size(); ++vi) {
          int reps = 0;
          const double t0 = CpuSeconds();
          double s = 0;
          do {
            all[vi].fn(got.data(), rows, b.w.data(), b.act.data(), b.act_stride, in, 0, rows,
                       n_tok);
            ++reps;
            s = CpuSeconds() - t0;
          } while (s < 0.02);
          times[vi].push_back(s / reps);
        }
      }
      for (size_t vi = 0; vi < all.size(); ++vi) {
        std::sort(times[vi].begin(), times[vi].end());
        const double med = times[vi][times[vi].size() / 2];
        const double base = times[0][times[0].size() / 2];
        std::printf(
            "%-5s rows %6d n_tok %2d %-16s %9.1f us %6.1f GB/s %6.1f Gop/s  x%.2f vs avx2\n",
            DTypeName(c.t), rows, n_tok, all[vi].name.c_str(), med * 1e6, b.w.size() / med / 1e9,
            2.0 * rows * in * n_tok / med / 1e9, base / med);
      }
    }
  }
  return 0;
}

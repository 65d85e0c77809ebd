// Kernel lab (llm.c dev/ style): for each weight format, every kernel table
// this CPU runs is first validated bit for bit against the scalar reference,
// then timed on a cache-resident matrix (compute bound) and a DRAM-sized one
// (bandwidth bound), one token (decode) and 32 tokens (prefill).
//   matmul_lab [--rows 2048] [--in 768]
// Variants under study live here as extra tables/functions; only the winner
// moves to src/kernels/<isa>/ with its test.
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

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
    for (float& v : row) v = p.NextFloat() - 0.5f;
    quant::QuantizeRow(t, row, {b.w.data() + r * rb, static_cast<size_t>(rb)});
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

}  // namespace

int main(int argc, char** argv) {
  int32_t in = 768;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--in") in = std::stoi(argv[i + 1]);
  }
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  for (DType t :
       {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K}) {
    WeightFormat f;
    WeightFormatOf(t, &f);
    for (int32_t rows : {256, 32768}) {
      for (int32_t n_tok : {1, 32}) {
        Buffers b = Make(t, rows, in, n_tok);
        std::vector<float> want(static_cast<size_t>(rows) * n_tok), got(want.size());
        ScalarKernels().matmul[static_cast<int>(f)](want.data(), rows, b.w.data(), b.act.data(),
                                                    b.act_stride, in, 0, rows, n_tok);
        for (int ti = 0; ti < n_tables; ++ti) {
          const KernelTable& k = *tables[ti];
          const MatMulFn fn = k.matmul[static_cast<int>(f)];
          fn(got.data(), rows, b.w.data(), b.act.data(), b.act_stride, in, 0, rows, n_tok);
          const bool same = std::memcmp(got.data(), want.data(), want.size() * 4) == 0;
          int reps = 0;
          // Process CPU time, not wall time: the lab machine is shared, and
          // preemption would otherwise dominate.
          const std::clock_t t0 = std::clock();
          double s = 0;
          do {
            fn(got.data(), rows, b.w.data(), b.act.data(), b.act_stride, in, 0, rows, n_tok);
            ++reps;
            s = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
          } while (s < 0.3);
          const double per = s / reps;
          std::printf(
              "%-5s %-8s rows %6d n_tok %2d: %s %8.1f us  %6.1f GB/s weights  %7.1f Gop/s\n",
              DTypeName(t), k.name, rows, n_tok, same ? "ok  " : "DIFF", per * 1e6,
              b.w.size() / per / 1e9, 2.0 * rows * in * n_tok / per / 1e9);
        }
      }
    }
  }
  return 0;
}

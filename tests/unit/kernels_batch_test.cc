// The multi-token q8_0 / q4_0 / q4_k / q6_k products (prefill and DecodeBatch)
// against the scalar reference, bit for bit, on the token counts where the
// avx512 8-token groups split (7, 8, 9, 13, 16, 17, 32 tokens), row ranges
// that cut the 16-row q8_0 / q4_0 tiles and the 2-row k-quant tiles anywhere,
// and a row longer than the avx512 start-value buffer (in / 32 > 1024
// blocks), which takes the AVX2 kernel. Random bytes for codes, valid f16
// scales.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/prng.h"
#include "kernels/kernels.h"
#include "test_util.h"

namespace slm {
namespace {

// Activations from random floats through the scalar quantizer (valid blocks).
std::vector<uint8_t> RandomActs(ActFormat a, int32_t in, int32_t n_tok, Prng& p) {
  const int64_t stride = ActBytes(a, in);
  std::vector<uint8_t> x(static_cast<size_t>(stride) * n_tok);
  std::vector<float> v(in);
  for (int32_t t = 0; t < n_tok; ++t) {
    for (int32_t i = 0; i < in; ++i) {
      v[i] = (p.NextFloat() * 2.0f - 1.0f) * (i % 97 == 0 ? 30.0f : 1.0f);
    }
    uint8_t* dst = x.data() + t * stride;
    if (a == ActFormat::kQ8x32) {
      ScalarKernels().quantize_q8x32(v.data(), dst, in);
    } else {
      ScalarKernels().quantize_q8x256(v.data(), dst, in);
    }
  }
  return x;
}

void CheckFormat(WeightFormat f, std::initializer_list<int32_t> ins, int* checked) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  Prng p(static_cast<uint64_t>(f) + 21);
  const int32_t rows = 50;
  for (int32_t in : ins) {
    const std::vector<uint8_t> w = test::RandomQuantWeights(f, rows, in, p);
    for (int32_t n_tok : {2, 7, 8, 9, 13, 16, 17, 32}) {
      const std::vector<uint8_t> x = RandomActs(ActFormatOf(f), in, n_tok, p);
      const int64_t stride = ActBytes(ActFormatOf(f), in);
      for (auto [r0, r1] : {std::pair{0, rows}, {1, 47}, {5, 6}, {6, 18}}) {
        std::vector<float> want(static_cast<size_t>(rows) * n_tok, -5.0f);
        ScalarKernels().matmul[static_cast<int>(f)](want.data(), rows, w.data(), x.data(), stride,
                                                    in, r0, r1, n_tok);
        for (int ti = 0; ti < n_tables; ++ti) {
          std::vector<float> got(want.size(), -5.0f);
          tables[ti]->matmul[static_cast<int>(f)](got.data(), rows, w.data(), x.data(), stride, in,
                                                  r0, r1, n_tok);
          ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0)
              << tables[ti]->name << " format " << static_cast<int>(f) << " in " << in << " n_tok "
              << n_tok << " rows [" << r0 << ", " << r1 << ")";
          ++*checked;
        }
      }
    }
  }
}

TEST(KernelsBatch, Q8_0AndQ4_0MatchScalarOnBatchShapes) {
  int checked = 0;
  // 32: one block; 288: stories15M's dim; 32800: 1025 blocks, past the buffer.
  CheckFormat(WeightFormat::kQ8_0, {32, 288, 32800}, &checked);
  CheckFormat(WeightFormat::kQ4_0, {32, 288, 32800}, &checked);
  const KernelTable* tables[4];
  EXPECT_EQ(checked, 2 * 3 * 8 * 4 * AvailableKernelTables(tables, 4));
}

TEST(KernelsBatch, KQuantsMatchScalarOnBatchShapes) {
  int checked = 0;
  CheckFormat(WeightFormat::kQ4_K, {256, 768}, &checked);
  CheckFormat(WeightFormat::kQ6_K, {256, 768}, &checked);
  const KernelTable* tables[4];
  EXPECT_EQ(checked, 2 * 2 * 8 * 4 * AvailableKernelTables(tables, 4));
}

}  // namespace
}  // namespace slm

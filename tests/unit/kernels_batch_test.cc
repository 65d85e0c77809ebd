// The multi-token q8_0 / q4_0 / q4_k / q6_k products (prefill and DecodeBatch)
// against the scalar reference, bit for bit, on the token counts where the
// avx512 8-token groups split (7, 8, 9, 13, 16, 17, 32 tokens), row ranges
// that cut the 6-row tiles and the 8-output vector reductions anywhere, and a
// row longer than the avx512 start-value buffer (in / 32 > 256 blocks), which
// takes the fallback tile. Random bytes for codes, valid f16 scales.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/prng.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace slm {
namespace {

size_t BlockBytes(WeightFormat f) {
  switch (f) {
    case WeightFormat::kQ8_0:
      return sizeof(quant::BlockQ8_0);
    case WeightFormat::kQ4_0:
      return sizeof(quant::BlockQ4_0);
    case WeightFormat::kQ4_K:
      return sizeof(quant::BlockQ4_K);
    default:
      return sizeof(quant::BlockQ6_K);
  }
}

int32_t BlockValues(WeightFormat f) {
  return f == WeightFormat::kQ4_K || f == WeightFormat::kQ6_K ? 256 : 32;
}

std::vector<uint8_t> RandomWeights(WeightFormat f, int32_t rows, int32_t in, Prng& p) {
  const size_t bytes = BlockBytes(f);
  const size_t n_blocks = static_cast<size_t>(rows) * (in / BlockValues(f));
  std::vector<uint8_t> w(n_blocks * bytes);
  for (uint8_t& b : w) b = static_cast<uint8_t>(p.Next());
  for (size_t i = 0; i < n_blocks; ++i) {
    uint8_t* blk = w.data() + i * bytes;
    const uint16_t d = quant::F32ToFp16((p.NextFloat() * 2.0f - 1.0f) / 64.0f);
    const uint16_t d2 = quant::F32ToFp16((p.NextFloat() * 2.0f - 1.0f) / 64.0f);
    if (f == WeightFormat::kQ6_K) {
      std::memcpy(blk + offsetof(quant::BlockQ6_K, d), &d, 2);
    } else {
      std::memcpy(blk, &d, 2);
      if (f == WeightFormat::kQ4_K) std::memcpy(blk + 2, &d2, 2);
    }
  }
  return w;
}

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
    const std::vector<uint8_t> w = RandomWeights(f, rows, in, p);
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
  // 32: one block; 288: stories15M's dim; 8224: 257 blocks, past the buffer.
  CheckFormat(WeightFormat::kQ8_0, {32, 288, 8224}, &checked);
  CheckFormat(WeightFormat::kQ4_0, {32, 288, 8224}, &checked);
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

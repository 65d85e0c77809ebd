// The tiled quantized matmuls (avx2 and avx512 micro-kernels: 2-row zmm
// pairs, 8-row decode tiles, 4 x 4 prefill tiles, odd-row and odd-token
// remainders) against the scalar reference, bit for bit, on the shapes the
// runtime uses: decode (1 token) and prefill batches (up to 32 tokens), row
// ranges that start on odd rows. Blocks are random BYTES, not quantizer
// output, so every code (q8_0's -128 included), every 6-bit scale/min
// pattern and extreme activation codes (+-127) are exercised.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <tuple>
#include <vector>

#include "base/prng.h"
#include "kernels/kernels.h"
#include "test_util.h"

namespace slm {
namespace {

// n_tok activation vectors; one code in 8 is pinned to +-127.
std::vector<uint8_t> RandomActs(ActFormat a, int32_t in, int32_t n_tok, Prng& p) {
  const int64_t stride = ActBytes(a, in);
  std::vector<uint8_t> x(static_cast<size_t>(stride) * n_tok);
  auto code = [&p]() {
    const uint64_t r = p.Next();
    if (r % 8 == 0) return static_cast<int8_t>(r & 8 ? 127 : -127);
    return static_cast<int8_t>(static_cast<int32_t>(r % 255) - 127);
  };
  for (int32_t t = 0; t < n_tok; ++t) {
    uint8_t* v = x.data() + t * stride;
    if (a == ActFormat::kQ8x32) {
      for (int32_t b = 0; b < in / 32; ++b) {
        ActQ8x32 blk;
        blk.d = p.NextFloat() / 100.0f;
        for (int8_t& q : blk.qs) q = code();
        std::memcpy(v + b * sizeof blk, &blk, sizeof blk);
      }
    } else {
      for (int32_t b = 0; b < in / 256; ++b) {
        ActQ8x256 blk;
        blk.d = p.NextFloat() / 100.0f;
        for (int8_t& q : blk.qs) q = code();
        for (int c = 0; c < 8; ++c) {
          int32_t s = 0;
          for (int i = 0; i < 32; ++i) s += blk.qs[32 * c + i];
          blk.bsums[c] = static_cast<int16_t>(s);
        }
        std::memcpy(v + b * sizeof blk, &blk, sizeof blk);
      }
    }
  }
  return x;
}

TEST(KernelsTiles, QuantizedMatMulsMatchScalarOnDecodeAndPrefillShapes) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  Prng p(7);
  int checked = 0;
  for (WeightFormat f :
       {WeightFormat::kQ8_0, WeightFormat::kQ4_0, WeightFormat::kQ4_K, WeightFormat::kQ6_K}) {
    const int32_t in = f == WeightFormat::kQ4_K || f == WeightFormat::kQ6_K ? 512 : 160;
    const int32_t rows = 37;  // 4 eight-row tiles, 2 pairs, 1 odd row
    const std::vector<uint8_t> w = test::RandomQuantWeights(f, rows, in, p);
    for (int32_t n_tok : {1, 2, 5, 32}) {
      const std::vector<uint8_t> x = RandomActs(ActFormatOf(f), in, n_tok, p);
      const int64_t stride = ActBytes(ActFormatOf(f), in);
      for (auto [r0, r1] : {std::pair{0, rows}, {3, 30}, {1, 2}}) {
        std::vector<float> want(static_cast<size_t>(rows) * n_tok, -5.0f);
        ScalarKernels().matmul[static_cast<int>(f)](want.data(), rows, w.data(), x.data(), stride,
                                                    in, r0, r1, n_tok);
        for (int ti = 0; ti < n_tables; ++ti) {
          std::vector<float> got(want.size(), -5.0f);
          tables[ti]->matmul[static_cast<int>(f)](got.data(), rows, w.data(), x.data(), stride, in,
                                                  r0, r1, n_tok);
          ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0)
              << tables[ti]->name << " format " << static_cast<int>(f) << " n_tok " << n_tok
              << " rows [" << r0 << ", " << r1 << ")";
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 4 * 3 * n_tables);
}

// The vector activation quantizers against the scalar spec, byte for byte,
// on blocks with ties (x * id exactly k + 0.5), all-zero blocks, -0.0 and a
// wide range of magnitudes.
// The avx512 decode runs groups of 8 (q4_k, q6_k) or 16 (q8_0, q4_0) x step
// rows as tiles of rows g + o + j * step, step = ceil(4 KiB / row bytes): q4_k
// 4 for in = 2048 and 2 for 4096, q6_k 3, q8_0 2 (in 768: 5), q4_0 4 (in 768:
// 10; avx2 strides q4_0 only up to 4). Ranges with whole groups, groups after
// an odd start, and tails.
TEST(KernelsTiles, DecodeOverPageStridedTilesMatchesScalar) {
  Prng p(11);
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  // Rows of 432 bytes (q4_0 in 768: step 10) need 160 rows for one avx512 group.
  const std::tuple<WeightFormat, int32_t, int32_t> shapes[] = {
      {WeightFormat::kQ4_K, 2048, 83}, {WeightFormat::kQ4_K, 4096, 83},
      {WeightFormat::kQ6_K, 2048, 83}, {WeightFormat::kQ8_0, 2048, 83},
      {WeightFormat::kQ4_0, 2048, 83}, {WeightFormat::kQ4_0, 768, 203},
      {WeightFormat::kQ8_0, 768, 203}};
  for (auto [f, in, rows] : shapes) {
    const std::vector<uint8_t> w = test::RandomQuantWeights(f, rows, in, p);
    const std::vector<uint8_t> x = RandomActs(ActFormatOf(f), in, 1, p);
    const int64_t stride = ActBytes(ActFormatOf(f), in);
    for (auto [r0, r1] : {std::pair{0, rows}, {0, 64}, {5, rows - 5}, {32, 48}, {16, rows}}) {
      std::vector<float> want(rows, -5.0f), got(rows, -5.0f);
      ScalarKernels().matmul[static_cast<int>(f)](want.data(), rows, w.data(), x.data(), stride, in,
                                                  r0, r1, 1);
      for (int ti = 0; ti < n_tables; ++ti) {
        std::fill(got.begin(), got.end(), -5.0f);
        tables[ti]->matmul[static_cast<int>(f)](got.data(), rows, w.data(), x.data(), stride, in,
                                                r0, r1, 1);
        EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)))
            << tables[ti]->name << " format " << static_cast<int>(f) << " in " << in << " rows ["
            << r0 << ", " << r1 << ")";
      }
    }
  }
}

// Rows of no values (in = 0: a row step of 4 KiB / 0 bytes) give 0 in every
// table and format instead of dividing by zero.
TEST(KernelsTiles, EmptyRowsGiveZero) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  const uint8_t w[1] = {0}, x[1] = {0};
  for (int f = 0; f < static_cast<int>(WeightFormat::kCount); ++f) {
    for (int ti = 0; ti < n_tables; ++ti) {
      std::vector<float> y(70, -5.0f);
      tables[ti]->matmul[f](y.data(), 70, w, x, 0, 0, 0, 70, 1);
      for (float v : y) EXPECT_EQ(v, 0.0f) << tables[ti]->name << " format " << f;
    }
  }
}

TEST(KernelsTiles, ActivationQuantizersMatchScalarBytes) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  Prng p(11);
  const int32_t n = 1024;
  std::vector<std::vector<float>> inputs;
  for (int kind = 0; kind < 5; ++kind) {
    std::vector<float> x(n);
    for (int32_t i = 0; i < n; ++i) {
      const float r = p.NextFloat() * 2.0f - 1.0f;
      if (kind == 0) x[i] = r;
      if (kind == 1) x[i] = r * 1e-30f;                                   // tiny
      if (kind == 2) x[i] = r * 1e30f;                                    // huge
      if (kind == 3) x[i] = i % 32 == 0 ? 127.0f : (i % 7) - 3.5f;        // ties at id = 1
      if (kind == 4) x[i] = i < 256 ? (i % 2 ? 0.0f : -0.0f) : r * 3.0f;  // zero blocks
    }
    inputs.push_back(x);
  }
  for (const auto& x : inputs) {
    std::vector<uint8_t> want32(ActBytes(ActFormat::kQ8x32, n)),
        want256(ActBytes(ActFormat::kQ8x256, n));
    ScalarKernels().quantize_q8x32(x.data(), want32.data(), n);
    ScalarKernels().quantize_q8x256(x.data(), want256.data(), n);
    for (int ti = 0; ti < n_tables; ++ti) {
      std::vector<uint8_t> got32(want32.size()), got256(want256.size());
      tables[ti]->quantize_q8x32(x.data(), got32.data(), n);
      tables[ti]->quantize_q8x256(x.data(), got256.data(), n);
      EXPECT_EQ(got32, want32) << tables[ti]->name;
      EXPECT_EQ(got256, want256) << tables[ti]->name;
    }
  }
}

// SwiGLU's vector Exp against the scalar one, bit for bit: a dense sweep of
// gate values across every branch (Exp's +inf cut at 88.72, the 0 cut at
// -104, the subnormal two-step scaling near -87..-104, rounding ties of n),
// plus NaN, +-inf, +-0 and a ragged tail.
TEST(KernelsTiles, SwiGluMatchesScalarBitsAcrossExpRanges) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  std::vector<float> gate, up;
  for (float g = -120.0f; g <= 120.0f; g += 0.0137f) gate.push_back(g);
  for (float g : {88.72283935546875f, 88.7228469848632812f, -104.0f, -103.99999f, -87.33654f, -0.0f,
                  0.0f, 0.34657359f, -0.34657359f, 1e-30f, -1e-30f}) {
    gate.push_back(g);
  }
  gate.push_back(std::numeric_limits<float>::quiet_NaN());
  gate.push_back(std::numeric_limits<float>::infinity());
  gate.push_back(-std::numeric_limits<float>::infinity());
  gate.push_back(0.5f);  // odd length: a scalar tail
  Prng p(5);
  for (size_t i = 0; i < gate.size(); ++i) up.push_back(p.NextFloat() * 4.0f - 2.0f);
  std::vector<float> want = gate;
  ScalarKernels().swiglu(want.data(), up.data(), static_cast<int32_t>(want.size()));
  for (int ti = 0; ti < n_tables; ++ti) {
    std::vector<float> got = gate;
    tables[ti]->swiglu(got.data(), up.data(), static_cast<int32_t>(got.size()));
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(std::memcmp(&got[i], &want[i], 4), 0)
          << tables[ti]->name << " gate " << gate[i] << ": " << got[i] << " vs " << want[i];
    }
  }
}

#if defined(__x86_64__)
TEST(KernelsTiles, Avx512TableIsAvailableWhenTheCpuHasVnni) {
  const bool vnni = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx512f") &&
                    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  EXPECT_EQ(FindKernels("avx512") != nullptr, vnni);
  if (vnni && std::getenv("SLM_KERNELS") == nullptr) {
    EXPECT_STREQ(Kernels().name, "avx512");
  }
}
#endif

}  // namespace
}  // namespace slm

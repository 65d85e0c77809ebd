// Block formats (src/quant): layouts, f16/bf16 conversions, decoding of
// hand-built blocks against the formulas of ../shared/notes/anchors.md 4.1
// (written out independently here), quantize -> dequantize error within each
// format's budget, and bytes identical to a Python transcription of ggml's
// reference quantizers (tests/golden/quant_reference.py).
#include "quant/quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "model/tensor.h"
#include "quant/blocks.h"
#include "test_util.h"

namespace slm::quant {
namespace {

constexpr DType kBlockTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K};

uint32_t BlockSize(DType t) {
  DTypeInfo info;
  EXPECT_TRUE(GetDTypeInfo(static_cast<uint32_t>(t), &info));
  return info.block_size;
}

size_t Bytes(DType t, size_t n) {
  uint64_t b = 0;
  EXPECT_TRUE(DTypeBytes(t, n, &b));
  return static_cast<size_t>(b);
}

// Tiny deterministic generators (no <random>): a 64-bit LCG (Knuth's MMIX
// constants) and Box-Muller for N(0,1).
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : s_(seed) {}
  uint32_t NextU32() {
    s_ = s_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(s_ >> 32);
  }
  double Uniform() { return (NextU32() + 0.5) / 4294967296.0; }  // (0, 1)
  double Normal() {
    const double u1 = Uniform(), u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t s_;
};

std::vector<float> NormalRow(size_t n, uint64_t seed) {
  Lcg g(seed);
  std::vector<float> x(n);
  for (float& v : x) v = static_cast<float>(g.Normal());
  return x;
}

std::vector<float> CosRow(size_t n, double offset) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(0.1 + 2 * std::cos(i + offset));
  return x;
}

struct Err {
  double rmse_rel;  // RMSE / RMS(x)
  double abs_rel;   // max |x - y| / max |x|
};

Err Measure(const std::vector<float>& x, const std::vector<float>& y) {
  double se = 0, sx = 0, emax = 0, xmax = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double e = static_cast<double>(x[i]) - y[i];
    se += e * e;
    sx += static_cast<double>(x[i]) * x[i];
    emax = std::max(emax, std::fabs(e));
    xmax = std::max(xmax, std::fabs(static_cast<double>(x[i])));
  }
  return {std::sqrt(se / sx), emax / xmax};
}

std::vector<float> RoundTrip(DType t, const std::vector<float>& x,
                             std::vector<uint8_t>* q = nullptr) {
  std::vector<uint8_t> buf(Bytes(t, x.size()));
  EXPECT_EQ(QuantizeRow(t, x, buf), buf.size());
  std::vector<float> y(x.size());
  EXPECT_EQ(DequantizeRow(t, buf, y), buf.size());
  if (q) *q = std::move(buf);
  return y;
}

// A sanity floor per format: a quantizer that is suddenly "lossless" (e.g.
// writes f32, or a test that compares x with itself) is a bug too.
double RmseFloor(DType t) {
  switch (t) {
    case DType::kQ8_0:
      return 0.002;
    case DType::kQ4_0:
      return 0.05;
    case DType::kQ4_K:
      return 0.03;
    case DType::kQ6_K:
      return 0.006;
    default:
      return 0.0;
  }
}

// ---------------------------------------------------------------- layouts

TEST(QuantBlocks, SizesMatchGgml) {
  EXPECT_EQ(sizeof(BlockQ8_0), 34u);
  EXPECT_EQ(sizeof(BlockQ4_0), 18u);
  EXPECT_EQ(sizeof(BlockQ4_K), 144u);
  EXPECT_EQ(sizeof(BlockQ6_K), 210u);
  EXPECT_EQ(Bytes(DType::kQ8_0, 32), 34u);
  EXPECT_EQ(Bytes(DType::kQ4_0, 64), 36u);
  EXPECT_EQ(Bytes(DType::kQ4_K, 512), 288u);
  EXPECT_EQ(Bytes(DType::kQ6_K, 768), 630u);
  for (DType t : kBlockTypes) EXPECT_TRUE(IsSupported(t));
  EXPECT_TRUE(IsSupported(DType::kF16) && IsSupported(DType::kBF16) && IsSupported(DType::kF32));
}

// ---------------------------------------------------------------- f16 / bf16

TEST(QuantFp16, AllHalvesRoundTrip) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = Fp16ToF32(static_cast<uint16_t>(h));
    const bool is_nan = ((h & 0x7c00) == 0x7c00) && (h & 0x3ff);
    if (is_nan) {
      EXPECT_TRUE(std::isnan(f)) << h;
      EXPECT_EQ(F32ToFp16(f), (h & 0x8000) | 0x7e00) << h;  // quiet, sign kept
    } else {
      ASSERT_EQ(F32ToFp16(f), h) << "half 0x" << std::hex << h;
    }
  }
}

TEST(QuantFp16, KnownValues) {
  EXPECT_EQ(F32ToFp16(1.0f), 0x3c00);
  EXPECT_EQ(F32ToFp16(-2.0f), 0xc000);
  EXPECT_EQ(F32ToFp16(0.0f), 0x0000);
  EXPECT_EQ(F32ToFp16(-0.0f), 0x8000);
  EXPECT_EQ(F32ToFp16(65504.0f), 0x7bff);
  EXPECT_EQ(F32ToFp16(65519.99f), 0x7bff);
  EXPECT_EQ(F32ToFp16(65520.0f), 0x7c00);  // tie between 65504 and 2^16: even = inf
  EXPECT_EQ(F32ToFp16(INFINITY), 0x7c00);
  EXPECT_EQ(F32ToFp16(-INFINITY), 0xfc00);
  EXPECT_EQ(F32ToFp16(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(F32ToFp16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(F32ToFp16(std::ldexp(1.0f, -25)), 0x0000);  // tie: to even (0)
  EXPECT_EQ(F32ToFp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(F32ToFp16(std::ldexp(3.0f, -25)), 0x0002);         // 1.5 units: tie to even 2
  EXPECT_EQ(F32ToFp16(std::ldexp(5.0f, -25)), 0x0002);         // 2.5 units: tie to even 2
  EXPECT_EQ(F32ToFp16(std::ldexp(1023.5f, -24)), 0x0400);      // rounds up into normals
  EXPECT_EQ(F32ToFp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie, even
  EXPECT_EQ(F32ToFp16(1.0f + std::ldexp(3.0f, -11)), 0x3c02);  // tie, even
  EXPECT_EQ(F32ToFp16(1e-10f), 0x0000);
  EXPECT_EQ(F32ToFp16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(F32ToFp16(-1e-10f), 0x8000);
  EXPECT_EQ(F32ToFp16(NAN) & 0x7fff, 0x7e00);
  EXPECT_FLOAT_EQ(Fp16ToF32(0x3555), 0.333251953125f);
  EXPECT_EQ(Fp16ToF32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(Fp16ToF32(0x7c00), INFINITY);
  EXPECT_TRUE(std::signbit(Fp16ToF32(0x8000)));
}

// Every midpoint between adjacent halves rounds to the even one, and the
// floats just beside it round to the nearer one.
TEST(QuantFp16, MidpointsRoundToNearestEven) {
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const float lo = Fp16ToF32(static_cast<uint16_t>(h));
    const float hi = h + 1 == 0x7c00 ? 65536.0f : Fp16ToF32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(lo) + hi) / 2);  // exact
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : static_cast<uint16_t>(h);
    ASSERT_EQ(F32ToFp16(mid), even) << h;
    ASSERT_EQ(F32ToFp16(-mid), even | 0x8000) << h;
    ASSERT_EQ(F32ToFp16(std::nextafter(mid, 0.0f)), h) << h;
    ASSERT_EQ(F32ToFp16(std::nextafter(mid, INFINITY)), h + 1) << h;
  }
}

#if defined(__FLT16_MAX__) && (defined(__x86_64__) || defined(__aarch64__))
// The compiler's own _Float16 conversion is an independent implementation.
TEST(QuantFp16, MatchesCompilerFloat16OnSampledFloats) {
  for (uint64_t bits = 0; bits <= 0xffffffffull; bits += 997) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(bits));
    if (std::isnan(f)) continue;
    const _Float16 r = static_cast<_Float16>(f);
    ASSERT_EQ(F32ToFp16(f), std::bit_cast<uint16_t>(r)) << std::hex << bits;
  }
}
#endif

TEST(QuantBf16, AllValuesRoundTripAndRounding) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float f = Bf16ToF32(static_cast<uint16_t>(b));
    EXPECT_EQ(std::bit_cast<uint32_t>(f), b << 16);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(Bf16ToF32(F32ToBf16(f))));
    } else {
      ASSERT_EQ(F32ToBf16(f), b) << b;
    }
  }
  EXPECT_EQ(F32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(F32ToBf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(F32ToBf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie -> even
  EXPECT_EQ(F32ToBf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);
  EXPECT_EQ(F32ToBf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds to inf
  EXPECT_EQ(F32ToBf16(std::bit_cast<float>(0x00018000u)), 0x0002);  // subnormal kept
  EXPECT_EQ(F32ToBf16(std::bit_cast<float>(0x7f800001u)), 0x7fc0);  // sNaN -> qNaN
}

// ------------------------------------------------- decoding hand-built blocks

TEST(QuantDecode, Q8_0AllCodes) {
  for (uint16_t dh : {uint16_t{0x3c00}, uint16_t{0x2e66}, uint16_t{0x8001}}) {
    std::vector<uint8_t> blocks(8 * 34);
    for (int b = 0; b < 8; ++b) {
      std::memcpy(&blocks[b * 34], &dh, 2);
      for (int j = 0; j < 32; ++j) blocks[b * 34 + 2 + j] = static_cast<uint8_t>(b * 32 + j);
    }
    std::vector<float> y(256);
    DequantizeRow(DType::kQ8_0, blocks, y);
    for (int i = 0; i < 256; ++i) {
      EXPECT_EQ(y[i], static_cast<float>(static_cast<int8_t>(i)) * Fp16ToF32(dh)) << i;
    }
  }
}

TEST(QuantDecode, Q4_0AllBytes) {
  // 16 blocks cover all 256 byte values at every position j (rotated).
  const uint16_t dh = 0xb800;  // -0.5
  std::vector<uint8_t> blocks(16 * 18);
  for (int b = 0; b < 16; ++b) {
    std::memcpy(&blocks[b * 18], &dh, 2);
    for (int j = 0; j < 16; ++j) blocks[b * 18 + 2 + j] = static_cast<uint8_t>(16 * b + j + b);
  }
  std::vector<float> y(16 * 32);
  DequantizeRow(DType::kQ4_0, blocks, y);
  for (int b = 0; b < 16; ++b) {
    for (int j = 0; j < 16; ++j) {
      const uint8_t v = blocks[b * 18 + 2 + j];
      EXPECT_EQ(y[b * 32 + j], -0.5f * ((v & 15) - 8));
      EXPECT_EQ(y[b * 32 + 16 + j], -0.5f * ((v >> 4) - 8));
    }
  }
}

// anchors.md 4.1, written per output index: chunk c = i / 64 holds sub-blocks
// 2c (low nibbles) and 2c+1 (high nibbles) in qs[32c .. 32c+31].
float Q4KExpected(const uint8_t* blk, int i) {
  const float d = Fp16ToF32(static_cast<uint16_t>(blk[0] | blk[1] << 8));
  const float dmin = Fp16ToF32(static_cast<uint16_t>(blk[2] | blk[3] << 8));
  const uint8_t* s = blk + 4;
  const uint8_t* qs = blk + 16;
  const int c = i / 64, r = i % 64, j = 2 * c + (r >= 32 ? 1 : 0);
  const uint8_t byte = qs[32 * c + r % 32];
  const int q = r >= 32 ? byte >> 4 : byte & 15;
  int sc, m;
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
  return (d * static_cast<float>(sc)) * static_cast<float>(q) - dmin * static_cast<float>(m);
}

TEST(QuantDecode, Q4_KEveryScaleByteValue) {
  Lcg g(7);
  std::vector<uint8_t> blk(144);
  std::vector<float> y(256);
  for (int pos = 0; pos < 12; ++pos) {
    for (int v = 0; v < 256; ++v) {
      for (uint8_t& b : blk) b = static_cast<uint8_t>(g.NextU32() >> 24);
      const uint16_t d = 0x3000 | (g.NextU32() >> 22), dmin = 0x2000 | (g.NextU32() >> 22);
      std::memcpy(&blk[0], &d, 2);
      std::memcpy(&blk[2], &dmin, 2);
      blk[4 + pos] = static_cast<uint8_t>(v);
      DequantizeRow(DType::kQ4_K, blk, y);
      for (int i = 0; i < 256; ++i)
        ASSERT_EQ(y[i], Q4KExpected(blk.data(), i)) << pos << " " << v << " " << i;
    }
  }
  // The packer's inverse: every (sc, m) pair round-trips through ScaleMinK4.
  for (int j = 0; j < 8; ++j) {
    for (int sc = 0; sc < 64; ++sc) {
      for (int m = 0; m < 64; ++m) {
        uint8_t s[12] = {};
        if (j < 4) {
          s[j] = static_cast<uint8_t>(sc);
          s[j + 4] = static_cast<uint8_t>(m);
        } else {
          s[j + 4] = static_cast<uint8_t>((sc & 0xF) | ((m & 0xF) << 4));
          s[j - 4] = static_cast<uint8_t>((sc >> 4) << 6);
          s[j] = static_cast<uint8_t>((m >> 4) << 6);
        }
        uint8_t got_sc, got_m;
        ScaleMinK4(j, s, &got_sc, &got_m);
        ASSERT_EQ(got_sc, sc);
        ASSERT_EQ(got_m, m);
      }
    }
  }
}

// anchors.md 4.1 per output index: half h = i / 128; within it group
// g = (i % 128) / 32 and l = i % 32; ql byte ql[64h + l + 32(g & 1)], low
// nibble for g < 2; two high bits (qh[32h + l] >> 2g) & 3; scale
// sc[8h + l/16 + 2g].
float Q6KExpected(const uint8_t* blk, int i) {
  const uint8_t* ql = blk;
  const uint8_t* qh = blk + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
  const float d = Fp16ToF32(static_cast<uint16_t>(blk[208] | blk[209] << 8));
  const int h = i / 128, g = (i % 128) / 32, l = i % 32;
  const uint8_t lowbyte = ql[64 * h + l + 32 * (g & 1)];
  const int low = g < 2 ? lowbyte & 0xF : lowbyte >> 4;
  const int high = (qh[32 * h + l] >> (2 * g)) & 3;
  const int q = (low | (high << 4)) - 32;
  return (d * static_cast<float>(sc[8 * h + l / 16 + 2 * g])) * static_cast<float>(q);
}

TEST(QuantDecode, Q6_KByteValuesAgainstAnchorsFormula) {
  Lcg g(11);
  std::vector<uint8_t> blk(210);
  std::vector<float> y(256);
  // Every value of every scale byte and of every 5th ql/qh byte (the random
  // fill of the other bytes covers every position in every trial).
  for (int pos = 0; pos < 208; pos += (pos < 192 ? 5 : 1)) {
    for (int v = 0; v < 256; ++v) {
      for (uint8_t& b : blk) b = static_cast<uint8_t>(g.NextU32() >> 24);
      const uint16_t d = 0x2800 | (g.NextU32() >> 22) | (g.NextU32() & 0x8000);
      std::memcpy(&blk[208], &d, 2);
      blk[pos] = static_cast<uint8_t>(v);
      DequantizeRow(DType::kQ6_K, blk, y);
      for (int i = 0; i < 256; ++i)
        ASSERT_EQ(y[i], Q6KExpected(blk.data(), i)) << pos << " " << v << " " << i;
    }
  }
}

// ------------------------------------------------------ round-trip budgets

TEST(QuantRoundTrip, WithinBudgetAllSizes) {
  const size_t sizes32[] = {32, 64, 96, 256, 512, 4096, 32 * 3, 32 * 7, 32 * 129};
  const size_t sizes256[] = {256, 512, 768, 4096, 256 * 3, 256 * 5};
  for (DType t : kBlockTypes) {
    const ErrorBudget budget = BudgetFor(t);
    const bool k = BlockSize(t) == 256;
    double worst_rmse = 0, worst_abs = 0;
    for (size_t n : k ? std::span<const size_t>(sizes256) : std::span<const size_t>(sizes32)) {
      for (uint64_t seed = 1; seed <= 3; ++seed) {
        const std::vector<float> x = NormalRow(n, seed * 1000 + n);
        const Err e = Measure(x, RoundTrip(t, x));
        EXPECT_LE(e.rmse_rel, budget.max_rmse_rel) << DTypeName(t) << " n=" << n;
        EXPECT_LE(e.abs_rel, budget.max_abs_rel) << DTypeName(t) << " n=" << n;
        if (n >= 256) {
          EXPECT_GE(e.rmse_rel, RmseFloor(t)) << DTypeName(t) << " n=" << n;
        }
        worst_rmse = std::max(worst_rmse, e.rmse_rel);
        worst_abs = std::max(worst_abs, e.abs_rel);
      }
      const std::vector<float> c = CosRow(n, 0.25 * static_cast<double>(n % 7));
      const Err e = Measure(c, RoundTrip(t, c));
      EXPECT_LE(e.rmse_rel, budget.max_rmse_rel) << DTypeName(t) << " cos n=" << n;
      EXPECT_LE(e.abs_rel, budget.max_abs_rel) << DTypeName(t) << " cos n=" << n;
      EXPECT_GE(e.rmse_rel, RmseFloor(t) / 4) << DTypeName(t) << " cos n=" << n;
    }
    std::printf(
        "[ budget  ] %-5s worst rmse/rms %.5f (budget %.4f), max-abs/max %.5f (budget %.4f)\n",
        DTypeName(t), worst_rmse, budget.max_rmse_rel, worst_abs, budget.max_abs_rel);
  }
}

TEST(QuantRoundTrip, PlainTypes) {
  const std::vector<float> x = NormalRow(1000, 5);
  EXPECT_EQ(RoundTrip(DType::kF32, x), x);
  for (DType t : {DType::kF16, DType::kBF16}) {
    const Err e = Measure(x, RoundTrip(t, x));
    EXPECT_LE(e.rmse_rel, BudgetFor(t).max_rmse_rel) << DTypeName(t);
    EXPECT_LE(e.abs_rel, BudgetFor(t).max_abs_rel) << DTypeName(t);
    EXPECT_GT(e.rmse_rel, BudgetFor(t).max_rmse_rel / 10) << DTypeName(t);
  }
}

// The error-minimising searches must beat plain rounding (what the issue asks
// for: "they do not just round").
TEST(QuantRoundTrip, KQuantsBeatPlainRounding) {
  const std::vector<float> x = NormalRow(4096, 99);
  // Plain Q4_K-like: per 32, scale = (max - min) / 15, min = min(x), round.
  // Plain Q6_K-like: per 16, scale = amax / 32 (signed max -> -32), round.
  std::vector<float> p4(x.size()), p6(x.size());
  for (size_t b = 0; b < x.size(); b += 32) {
    float mn = x[b], mx = x[b];
    for (int i = 0; i < 32; ++i) mn = std::min(mn, x[b + i]), mx = std::max(mx, x[b + i]);
    mn = std::min(mn, 0.0f);
    const float s = (mx - mn) / 15;
    for (int i = 0; i < 32; ++i) p4[b + i] = mn + s * std::round((x[b + i] - mn) / s);
  }
  for (size_t b = 0; b < x.size(); b += 16) {
    float amax = 0, max = 0;
    for (int i = 0; i < 16; ++i) {
      if (std::fabs(x[b + i]) > amax) amax = std::fabs(x[b + i]), max = x[b + i];
    }
    const float s = -max / 32;
    for (int i = 0; i < 16; ++i)
      p6[b + i] = s * std::min(31.0f, std::max(-32.0f, std::round(x[b + i] / s)));
  }
  const double q4k = Measure(x, RoundTrip(DType::kQ4_K, x)).rmse_rel;
  const double q6k = Measure(x, RoundTrip(DType::kQ6_K, x)).rmse_rel;
  std::printf("[ search  ] q4_k %.5f vs plain %.5f; q6_k %.5f vs plain %.5f\n", q4k,
              Measure(x, p4).rmse_rel, q6k, Measure(x, p6).rmse_rel);
  EXPECT_LT(q4k, Measure(x, p4).rmse_rel);
  EXPECT_LT(q6k, Measure(x, p6).rmse_rel);
}

// ------------------------------------------------------------- special rows

TEST(QuantSpecialRows, AllZeroRows) {
  for (DType t : kBlockTypes) {
    const std::vector<float> x(BlockSize(t) * 3, 0.0f);
    const std::vector<float> y = RoundTrip(t, x);
    for (float v : y) ASSERT_EQ(v, 0.0f) << DTypeName(t);
  }
}

TEST(QuantSpecialRows, ConstantRows) {
  for (DType t : kBlockTypes) {
    // Magnitudes whose f16 scales stay normal (Q6_K's super-scale is about
    // amax / 4096, Q4_K's amax / 945: below 2^-14 they become f16 subnormals
    // and lose relative precision, a limit of ggml's formats, not a bug).
    for (float c : {0.3f, -1.25f, 3.0f, 200.0f}) {
      const std::vector<float> x(BlockSize(t) * 2, c);
      const std::vector<float> y = RoundTrip(t, x);
      // Only the f16 rounding of the scale(s) remains: <= 2^-11 relative,
      // twice for the k-quants (scale and min, or scale and super-scale).
      for (float v : y) ASSERT_NEAR(v, c, std::fabs(c) * 1.1e-3) << DTypeName(t) << " c=" << c;
    }
  }
}

TEST(QuantSpecialRows, OneHugeOutlier) {
  for (DType t : kBlockTypes) {
    const size_t bs = BlockSize(t);
    std::vector<float> x = NormalRow(bs * 4, 42);
    const size_t at = bs + 5;  // in the second block
    x[at] = 1000.0f;
    const std::vector<float> y = RoundTrip(t, x);
    // The outlier itself is kept to within its own block's precision.
    EXPECT_NEAR(y[at], 1000.0f, 1000.0 * BudgetFor(t).max_abs_rel) << DTypeName(t);
    // Other blocks do not notice it.
    std::vector<float> rest(x.begin(), x.end()), rest_y(y.begin(), y.end());
    rest.erase(rest.begin() + bs, rest.begin() + 2 * bs);
    rest_y.erase(rest_y.begin() + bs, rest_y.begin() + 2 * bs);
    const Err e = Measure(rest, rest_y);
    EXPECT_LE(e.rmse_rel, BudgetFor(t).max_rmse_rel) << DTypeName(t);
  }
}

// Blocks are independent, the output length is exact (nothing written past
// it), source and destination may be unaligned, and the result is repeatable.
TEST(QuantSpecialRows, TailsUnalignedAndRepeatable) {
  for (DType t : kBlockTypes) {
    const size_t bs = BlockSize(t), n = bs * 5, bytes = Bytes(t, n);
    const std::vector<float> x = NormalRow(n, 3);
    std::vector<uint8_t> whole(bytes);
    QuantizeRow(t, x, whole);
    std::vector<uint8_t> parts(bytes + 1 + 16, 0xA5);  // odd offset + sentinel
    size_t off = 1;
    for (size_t b = 0; b < 5; b += (b == 0 ? 1 : 2)) {  // 1 block, then 2, then 2
      const size_t nb = b == 0 ? 1 : 2;
      off += QuantizeRow(t, std::span(x).subspan(b * bs, nb * bs),
                         std::span(parts).subspan(off, parts.size() - off));
    }
    EXPECT_EQ(off, bytes + 1);
    EXPECT_TRUE(std::equal(whole.begin(), whole.end(), parts.begin() + 1)) << DTypeName(t);
    for (size_t i = bytes + 1; i < parts.size(); ++i) ASSERT_EQ(parts[i], 0xA5) << DTypeName(t);
    std::vector<float> y1(n), y2(n + 1);
    DequantizeRow(t, whole, y1);
    DequantizeRow(t, std::span<const uint8_t>(parts).subspan(1), std::span(y2).subspan(1));
    EXPECT_TRUE(std::equal(y1.begin(), y1.end(), y2.begin() + 1)) << DTypeName(t);
  }
}

// ----------------------------------------------- byte identity with ggml

struct Golden {
  std::vector<float> x;
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> sections;
};

bool LoadGolden(Golden* g) {
  std::ifstream f(test::SourceDir() + "/tests/golden/quant_reference.bin", std::ios::binary);
  if (!f) return false;
  const std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
  size_t p = 0;
  auto u32 = [&](uint32_t* v) {
    if (p + 4 > b.size()) return false;
    std::memcpy(v, &b[p], 4);
    p += 4;
    return true;
  };
  if (b.size() < 8 || std::memcmp(b.data(), "SLMQREF1", 8) != 0) return false;
  p = 8;
  uint32_t n, count;
  if (!u32(&n) || p + 4ull * n > b.size()) return false;
  g->x.resize(n);
  std::memcpy(g->x.data(), &b[p], 4ull * n);
  p += 4ull * n;
  if (!u32(&count)) return false;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t type, len;
    if (!u32(&type) || !u32(&len) || p + len > b.size()) return false;
    g->sections.emplace_back(type, std::vector<uint8_t>(b.begin() + p, b.begin() + p + len));
    p += len;
  }
  return p == b.size();
}

TEST(QuantGolden, BytesIdenticalToGgmlReference) {
  Golden g;
  ASSERT_TRUE(LoadGolden(&g)) << "tests/golden/quant_reference.bin missing or malformed; "
                                 "regenerate with /usr/bin/python3 tests/golden/quant_reference.py";
  ASSERT_EQ(g.sections.size(), 4u);
  for (const auto& [type, want] : g.sections) {
    const DType t = static_cast<DType>(type);
    std::vector<float> x = g.x;
    if (BlockSize(t) == 256) {
      // The k-quant rows omit the block whose scale overflows f16 (zeroed).
      for (size_t i = 12 * 256 + 224; i < 13 * 256; ++i) x[i] = 0.0f;
    }
    std::vector<uint8_t> got(Bytes(t, x.size()));
    QuantizeRow(t, x, got);
    ASSERT_EQ(got.size(), want.size()) << DTypeName(t);
    const size_t bb = got.size() / (x.size() / BlockSize(t));
    size_t mismatched = 0;
    for (size_t blk = 0; blk < got.size() / bb; ++blk) {
      if (std::memcmp(&got[blk * bb], &want[blk * bb], bb) != 0) {
        if (mismatched++ < 3) ADD_FAILURE() << DTypeName(t) << ": block " << blk << " differs";
      }
    }
    EXPECT_EQ(mismatched, 0u) << DTypeName(t);
    std::printf("[ golden  ] %-5s %zu blocks, %zu differ\n", DTypeName(t), got.size() / bb,
                mismatched);
  }
}

}  // namespace
}  // namespace slm::quant

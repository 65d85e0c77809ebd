// Every kernel table this build and CPU can run (scalar, avx2) against the
// scalar twin, bit for bit, for every weight format, with row counts, token
// counts and row lengths that exercise the tails; and the scalar quantized
// matmuls against a float64 product of the dequantized operands, with a named
// error budget per format (two-sided: a result that became exact is a change
// to explain too).
#include "kernels/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "base/prng.h"
#include "quant/quant.h"

namespace slm {
namespace {

std::vector<float> Random(size_t n, uint64_t seed, float scale = 1.0f) {
  Prng p(seed);
  std::vector<float> v(n);
  for (float& x : v) x = (p.NextFloat() * 2.0f - 1.0f) * scale;
  return v;
}

struct FormatCase {
  DType dtype;
  std::vector<int32_t> ins;  // row lengths to try
  double max_rel;            // budget: max |y - ref| / sum |w x| over rows (upper bound)
  double min_rel;            // and lower bound (quantization must show)
};

const std::vector<FormatCase>& Cases() {
  static const std::vector<FormatCase> k = {
      {DType::kF32, {1, 7, 8, 9, 63, 64, 100, 768}, 1e-6, 0.0},
      {DType::kF16, {1, 7, 8, 9, 63, 64, 100, 768}, 1e-6, 0.0},
      {DType::kBF16, {1, 7, 8, 9, 63, 64, 100, 768}, 1e-6, 0.0},
      // Against the dequantized weights only the activation rounding shows
      // (8-bit codes, per 32 or per 256 values): about 3e-4 of sum |w x|.
      {DType::kQ8_0, {32, 64, 96, 768}, 2e-3, 1e-5},
      {DType::kQ4_0, {32, 64, 96, 768}, 2e-3, 1e-5},
      {DType::kQ4_K, {256, 512, 768}, 2e-3, 1e-5},
      {DType::kQ6_K, {256, 512, 768}, 2e-3, 1e-5},
  };
  return k;
}

struct Operands {
  std::vector<uint8_t> w;    // rows x in, in dtype
  std::vector<float> w_deq;  // dequantized
  std::vector<float> x;      // n_tok x in
  std::vector<uint8_t> act;  // quantized activations (or f32 bytes)
  int64_t row_bytes, act_stride;
};

Operands Make(const KernelTable& k, DType t, int32_t rows, int32_t in, int32_t n_tok,
              uint64_t seed) {
  Operands o;
  uint64_t rb = 0;
  EXPECT_TRUE(DTypeBytes(t, static_cast<uint64_t>(in), &rb));
  o.row_bytes = static_cast<int64_t>(rb);
  auto wf = Random(static_cast<size_t>(rows) * in, seed, 0.5f);
  o.w.resize(rows * rb);
  o.w_deq.resize(wf.size());
  for (int32_t r = 0; r < rows; ++r) {
    quant::QuantizeRow(t, {wf.data() + r * in, static_cast<size_t>(in)}, {o.w.data() + r * rb, rb});
    quant::DequantizeRow(t, {o.w.data() + r * rb, rb},
                         {o.w_deq.data() + r * in, static_cast<size_t>(in)});
  }
  o.x = Random(static_cast<size_t>(n_tok) * in, seed + 1, 2.0f);
  WeightFormat f;
  EXPECT_TRUE(WeightFormatOf(t, &f));
  const ActFormat a = ActFormatOf(f);
  o.act_stride = ActBytes(a, in);
  o.act.resize(n_tok * o.act_stride);
  for (int32_t tok = 0; tok < n_tok; ++tok) {
    const float* xt = o.x.data() + tok * in;
    uint8_t* dst = o.act.data() + tok * o.act_stride;
    if (a == ActFormat::kF32) std::memcpy(dst, xt, in * 4);
    if (a == ActFormat::kQ8x32) k.quantize_q8x32(xt, dst, in);
    if (a == ActFormat::kQ8x256) k.quantize_q8x256(xt, dst, in);
  }
  return o;
}

std::vector<float> RunMatMul(const KernelTable& k, DType t, const Operands& o, int32_t rows,
                             int32_t in, int32_t n_tok, int32_t r0, int32_t r1) {
  WeightFormat f;
  WeightFormatOf(t, &f);
  std::vector<float> y(static_cast<size_t>(n_tok) * rows, -777.0f);
  k.matmul[static_cast<int>(f)](y.data(), rows, o.w.data(), o.act.data(), o.act_stride, in, r0, r1,
                                n_tok);
  return y;
}

TEST(KernelsAllIsas, MatMulsAreBitIdenticalToScalarForEveryFormat) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  for (const FormatCase& c : Cases()) {
    for (int32_t in : c.ins) {
      for (int32_t n_tok : {1, 3, 4, 9}) {
        const int32_t rows = 13;
        Operands o = Make(ScalarKernels(), c.dtype, rows, in, n_tok, 100 + in + n_tok);
        const auto want = RunMatMul(ScalarKernels(), c.dtype, o, rows, in, n_tok, 0, rows);
        for (int ti = 0; ti < n_tables; ++ti) {
          const KernelTable& k = *tables[ti];
          // Activations quantized by this table must be the same bytes.
          Operands ok = Make(k, c.dtype, rows, in, n_tok, 100 + in + n_tok);
          ASSERT_EQ(ok.act, o.act) << k.name << " " << DTypeName(c.dtype) << " in " << in;
          const auto got = RunMatMul(k, c.dtype, o, rows, in, n_tok, 0, rows);
          ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0)
              << k.name << " " << DTypeName(c.dtype) << " in " << in << " n_tok " << n_tok;
          // A row range writes exactly its rows, with the same values.
          const auto part = RunMatMul(k, c.dtype, o, rows, in, n_tok, 5, 11);
          for (int32_t tok = 0; tok < n_tok; ++tok) {
            for (int32_t r = 0; r < rows; ++r) {
              const float v = part[tok * rows + r];
              if (r >= 5 && r < 11) {
                EXPECT_EQ(std::memcmp(&v, &want[tok * rows + r], 4), 0);
              } else {
                EXPECT_EQ(v, -777.0f);
              }
            }
          }
        }
      }
    }
  }
}

TEST(KernelsAllIsas, ElementwiseKernelsAreBitIdenticalToScalar) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  const KernelTable& s = ScalarKernels();
  for (int ti = 0; ti < n_tables; ++ti) {
    const KernelTable& k = *tables[ti];
    for (int32_t n : {1, 5, 8, 13, 64, 100}) {
      auto a = Random(n, n, 3.0f), b = Random(n, n + 7, 3.0f);
      const float d0 = s.dot(a.data(), b.data(), n), d1 = k.dot(a.data(), b.data(), n);
      EXPECT_EQ(std::memcmp(&d0, &d1, 4), 0) << k.name << " dot n " << n;
      std::vector<float> o0(n), o1(n);
      s.rmsnorm(o0.data(), a.data(), b.data(), n, 1e-5f);
      k.rmsnorm(o1.data(), a.data(), b.data(), n, 1e-5f);
      EXPECT_EQ(o0, o1) << k.name << " rmsnorm n " << n;
    }
    // Attention with grouped heads and head_dim 12 (a tail) and 64.
    for (int32_t head_dim : {12, 64}) {
      const int32_t n_pos = 19, n_heads = 4, n_kv = 2, kv_dim = n_kv * head_dim;
      auto q = Random(n_heads * head_dim, 1), kc = Random(n_pos * kv_dim, 2),
           vc = Random(n_pos * kv_dim, 3);
      std::vector<float> o0(n_heads * head_dim), o1(o0.size()), sc(n_pos);
      const float* kp = kc.data();  // one page holding all positions
      const float* vp = vc.data();
      s.attention(o0.data(), q.data(), &kp, &vp, n_pos, sc.data(), n_pos, n_heads, n_kv, head_dim,
                  kv_dim);
      k.attention(o1.data(), q.data(), &kp, &vp, n_pos, sc.data(), n_pos, n_heads, n_kv, head_dim,
                  kv_dim);
      EXPECT_EQ(std::memcmp(o0.data(), o1.data(), o0.size() * 4), 0) << k.name;
    }
  }
}

// Scalar quantized products against float64 on the dequantized operands.
TEST(KernelsScalar, MatMulsAreWithinTheirErrorBudget) {
  for (const FormatCase& c : Cases()) {
    const int32_t rows = 8, n_tok = 2, in = c.ins.back();
    Operands o = Make(ScalarKernels(), c.dtype, rows, in, n_tok, 7);
    const auto y = RunMatMul(ScalarKernels(), c.dtype, o, rows, in, n_tok, 0, rows);
    double worst = 0;
    for (int32_t t = 0; t < n_tok; ++t) {
      for (int32_t r = 0; r < rows; ++r) {
        double ref = 0, norm = 0;
        for (int32_t i = 0; i < in; ++i) {
          ref += double(o.w_deq[r * in + i]) * o.x[t * in + i];
          norm += std::fabs(double(o.w_deq[r * in + i]) * o.x[t * in + i]);
        }
        worst = std::max(worst, std::fabs(y[t * rows + r] - ref) / norm);
      }
    }
    EXPECT_LE(worst, c.max_rel) << DTypeName(c.dtype);
    EXPECT_GE(worst, c.min_rel) << DTypeName(c.dtype);
  }
}

TEST(KernelsScalar, ActivationQuantizationRoundsHalfToEvenWithinOneCode) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // amax: id = 1
  x[1] = 2.5f;    // tie -> 2
  x[2] = -3.5f;   // tie -> -4
  x[3] = 1.49f;
  std::vector<uint8_t> q(sizeof(ActQ8x32));
  ScalarKernels().quantize_q8x32(x.data(), q.data(), 32);
  ActQ8x32 b;
  std::memcpy(&b, q.data(), sizeof b);
  EXPECT_EQ(b.d, 1.0f);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 2);
  EXPECT_EQ(b.qs[2], -4);
  EXPECT_EQ(b.qs[3], 1);
}

}  // namespace
}  // namespace slm

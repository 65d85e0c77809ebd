// The scalar kernel table is the specification later ISAs reproduce bit for
// bit: these tests pin the documented reduction order and formulas
// (kernels/kernels.h) and check each kernel against a float64 computation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "base/math.h"
#include "base/prng.h"
#include "kernels/kernels.h"

namespace slm {
namespace {

const KernelTable& K() { return ScalarKernels(); }

std::vector<float> Random(size_t n, uint64_t seed, float scale = 1.0f) {
  Prng p(seed);
  std::vector<float> v(n);
  for (float& x : v) x = (p.NextFloat() * 2.0f - 1.0f) * scale;
  return v;
}

// The documented 8-lane order, written out independently.
float SpecDot(const float* a, const float* b, int n) {
  float acc[8] = {};
  for (int i = 0; i < n; ++i) acc[i % 8] = acc[i % 8] + a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

bool SameBits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

TEST(Kernels, DotFollowsTheDocumentedEightLaneOrder) {
  for (int n : {1, 3, 7, 8, 9, 15, 16, 17, 64, 172, 1000}) {
    auto a = Random(n, n, 3.0f), b = Random(n, n + 1000, 3.0f);
    const float got = K().dot(a.data(), b.data(), n);
    EXPECT_TRUE(SameBits(got, SpecDot(a.data(), b.data(), n))) << "n " << n;
    double want = 0;
    for (int i = 0; i < n; ++i) want += double(a[i]) * b[i];
    EXPECT_NEAR(got, want, 1e-5 * n);
  }
  // Order matters: a left-to-right sum would give 0 here, the 8-lane order keeps the 1.
  std::vector<float> a = {1e8f, 1.0f, 0, 0, -1e8f, 0, 0, 0}, ones(8, 1.0f);
  EXPECT_EQ(K().dot(a.data(), ones.data(), 8), 1.0f);
}

TEST(Kernels, MatvecRowsAreDots) {
  const int out = 13, in = 29;
  auto w = Random(out * in, 1), x = Random(in, 2);
  std::vector<float> y(out);
  K().matvec(y.data(), w.data(), x.data(), out, in);
  for (int r = 0; r < out; ++r) EXPECT_TRUE(SameBits(y[r], SpecDot(&w[r * in], x.data(), in)));
}

TEST(Kernels, RmsNormFormula) {
  const int n = 37;
  auto x = Random(n, 3), w = Random(n, 4);
  std::vector<float> out(n);
  K().rmsnorm(out.data(), x.data(), w.data(), n, 1e-5f);
  const float inv = 1.0f / Sqrt(SpecDot(x.data(), x.data(), n) / n + 1e-5f);
  for (int i = 0; i < n; ++i) EXPECT_TRUE(SameBits(out[i], w[i] * (x[i] * inv)));
  K().rmsnorm(x.data(), x.data(), w.data(), n, 1e-5f);  // in place
  EXPECT_EQ(std::memcmp(x.data(), out.data(), n * 4), 0);
}

TEST(Kernels, SoftmaxAndSwiGlu) {
  auto x = Random(100, 5, 20.0f);
  std::vector<double> ref(x.begin(), x.end());
  K().softmax(x.data(), 100);
  double m = ref[0], z = 0, sum = 0;
  for (double v : ref) m = std::max(m, v);
  for (double v : ref) z += std::exp(v - m);
  for (int i = 0; i < 100; ++i) {
    EXPECT_NEAR(x[i], std::exp(ref[i] - m) / z, 1e-6);
    sum += x[i];
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
  auto g = Random(50, 6, 8.0f), u = Random(50, 7);
  auto g0 = g;
  K().swiglu(g.data(), u.data(), 50);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(SameBits(g[i], Silu(g0[i]) * u[i]));
}

TEST(Kernels, RopeStylesPairDifferentDimensions) {
  const int heads = 2, d = 8;
  auto v = Random(heads * d, 8);
  float c[4], s[4];
  for (int j = 0; j < 4; ++j) {
    c[j] = static_cast<float>(CosD(0.3 * (j + 1)));
    s[j] = static_cast<float>(SinD(0.3 * (j + 1)));
  }
  auto a = v, b = v;
  K().rope(a.data(), heads, d, c, s, RopeStyle::kInterleaved);
  K().rope(b.data(), heads, d, c, s, RopeStyle::kHalfSplit);
  for (int h = 0; h < heads; ++h) {
    const float* x = &v[h * d];
    for (int j = 0; j < 4; ++j) {
      EXPECT_TRUE(SameBits(a[h * d + 2 * j], x[2 * j] * c[j] - x[2 * j + 1] * s[j]));
      EXPECT_TRUE(SameBits(a[h * d + 2 * j + 1], x[2 * j] * s[j] + x[2 * j + 1] * c[j]));
      EXPECT_TRUE(SameBits(b[h * d + j], x[j] * c[j] - x[j + 4] * s[j]));
      EXPECT_TRUE(SameBits(b[h * d + j + 4], x[j] * s[j] + x[j + 4] * c[j]));
    }
  }
}

TEST(Kernels, GroupedQueryAttentionMatchesFloat64) {
  const int n_heads = 4, n_kv = 2, hd = 8, n_pos = 5, kv_dim = n_kv * hd;
  auto q = Random(n_heads * hd, 9), kc = Random(n_pos * kv_dim, 10),
       vc = Random(n_pos * kv_dim, 11);
  std::vector<float> out(n_heads * hd), scores(n_pos);
  const float* kp = kc.data();  // one page holding all positions
  const float* vp = vc.data();
  K().attention(out.data(), q.data(), &kp, &vp, n_pos, scores.data(), n_pos, n_heads, n_kv, hd,
                kv_dim);
  for (int h = 0; h < n_heads; ++h) {
    const int g = h / (n_heads / n_kv);
    std::vector<double> sc(n_pos);
    double m = -1e300, z = 0;
    for (int t = 0; t < n_pos; ++t) {
      double d = 0;
      for (int i = 0; i < hd; ++i) d += double(q[h * hd + i]) * kc[t * kv_dim + g * hd + i];
      sc[t] = d / std::sqrt(double(hd));
      m = std::max(m, sc[t]);
    }
    for (double& v : sc) z += (v = std::exp(v - m));
    for (int i = 0; i < hd; ++i) {
      double o = 0;
      for (int t = 0; t < n_pos; ++t) o += sc[t] / z * vc[t * kv_dim + g * hd + i];
      EXPECT_NEAR(out[h * hd + i], o, 1e-6) << h << " " << i;
    }
  }
}

}  // namespace
}  // namespace slm

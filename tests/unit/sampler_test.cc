// Sampler: greedy ties, validation, seeded replay, top-k / top-p limits and a
// distribution check by counts.
#include "sampler/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace slm {
namespace {

std::unique_ptr<Sampler> Make(int32_t vocab, SamplerConfig c) {
  auto s = Sampler::Create(vocab, c);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

const std::vector<float> kLogits = {0.5f, 2.0f, -1.0f, 1.9f, 0.0f, 2.0f, 1.0f, -3.0f};

TEST(Sampler, GreedyTiesGoToLowestId) {
  auto s = Make(8, {});
  EXPECT_EQ(s->Sample(kLogits), 1);
  std::vector<float> all_same(8, 0.25f);
  EXPECT_EQ(s->Sample(all_same), 0);
  std::vector<float> with_nan = {NAN, 1.0f, 3.0f, NAN, 3.0f};
  EXPECT_EQ(ArgMax(with_nan), 2);
}

// ArgMax keeps 8 running maxima: ties, NaN and -inf must still resolve as one
// left-to-right pass would, wherever they fall relative to the lanes and tail.
TEST(Sampler, ArgMaxMatchesOnePassOnEveryLaneAndTail) {
  auto one_pass = [](const std::vector<float>& l) {
    int32_t best = -1;
    for (size_t i = 0; i < l.size(); ++i) {
      if (l[i] != l[i]) continue;
      if (best < 0 || l[i] > l[best]) best = static_cast<int32_t>(i);
    }
    return best < 0 ? 0 : best;
  };
  int checked = 0;
  for (size_t n : {1, 7, 8, 9, 16, 23, 100}) {
    for (size_t hi = 0; hi < n; ++hi) {
      std::vector<float> l(n);
      for (size_t i = 0; i < n; ++i) l[i] = static_cast<float>((i * 7919) % 13) - 6.0f;
      l[hi] = 50.0f;
      if (hi + 9 < n) l[hi + 9] = 50.0f;  // a later tie in another lane
      if (hi > 0) l[hi - 1] = NAN;
      EXPECT_EQ(ArgMax(l), one_pass(l)) << "n " << n << " max at " << hi;
      ++checked;
    }
    EXPECT_EQ(ArgMax(std::vector<float>(n, -INFINITY)), 0);
    EXPECT_EQ(ArgMax(std::vector<float>(n, NAN)), 0);
    std::vector<float> signed_zero(n, -1.0f);
    signed_zero[n - 1] = 0.0f;
    if (n > 1) signed_zero[n / 2] = -0.0f;  // -0 == +0: the first one wins
    EXPECT_EQ(ArgMax(signed_zero), one_pass(signed_zero));
  }
  EXPECT_EQ(checked, 1 + 7 + 8 + 9 + 16 + 23 + 100);
}

TEST(Sampler, ConfigValidated) {
  EXPECT_FALSE(Sampler::Create(0, {}).ok());
  EXPECT_FALSE(Sampler::Create(8, {-0.5f, 0, 1, 0}).ok());
  EXPECT_FALSE(Sampler::Create(8, {INFINITY, 0, 1, 0}).ok());
  EXPECT_FALSE(Sampler::Create(8, {NAN, 0, 1, 0}).ok());
  EXPECT_FALSE(Sampler::Create(8, {1, -1, 1, 0}).ok());
  EXPECT_FALSE(Sampler::Create(8, {1, 0, 0, 0}).ok());
  EXPECT_FALSE(Sampler::Create(8, {1, 0, 1.5f, 0}).ok());
  auto bad = Sampler::Create(8, {1, 0, 0, 0});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("top_p"), std::string::npos);
  EXPECT_TRUE(Sampler::Create(8, {1, 3, 0.5f, 9}).ok());
}

std::vector<int32_t> Draw(Sampler& s, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.Sample(kLogits));
  return out;
}

TEST(Sampler, SeededReplayIsIdenticalAndSeedsDiffer) {
  SamplerConfig c{1.0f, 0, 1.0f, 1234};
  auto a = Make(8, c), b = Make(8, c);
  EXPECT_EQ(Draw(*a, 200), Draw(*b, 200));
  c.seed = 1235;
  auto d = Make(8, c);
  a->Reseed(1234);
  EXPECT_NE(Draw(*a, 200), Draw(*d, 200));
  // With top-k and top-p too.
  SamplerConfig c2{0.8f, 5, 0.9f, 77};
  auto e = Make(8, c2), f = Make(8, c2);
  EXPECT_EQ(Draw(*e, 200), Draw(*f, 200));
}

TEST(Sampler, TopK1AndTinyTopPAreGreedy) {
  auto k1 = Make(8, {1.5f, 1, 1.0f, 5});
  auto p0 = Make(8, {1.5f, 0, 1e-6f, 5});
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(k1->Sample(kLogits), 1);  // id 1 and 5 tie; the lower id ranks first
    EXPECT_EQ(p0->Sample(kLogits), 1);
  }
}

TEST(Sampler, TopKRestrictsSupport) {
  auto s = Make(8, {2.0f, 3, 1.0f, 11});
  for (int32_t id : Draw(*s, 2000)) EXPECT_TRUE(id == 1 || id == 5 || id == 3) << id;
}

TEST(Sampler, TopPKeepsTheSmallestPrefix) {
  // p = softmax([3, 2, 1, 0]) = 0.644, 0.237, 0.087, 0.032: top_p 0.85 keeps ids 0 and 1.
  std::vector<float> l = {3, 2, 1, 0};
  auto s = Make(4, {1.0f, 0, 0.85f, 3});
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 5000; ++i) ++counts[s->Sample(l)];
  EXPECT_EQ(counts[2] + counts[3], 0);
  EXPECT_GT(counts[1], 0);
}

TEST(Sampler, DistributionMatchesSoftmax) {
  std::vector<float> l = {1.0f, 0.0f, 2.0f, -1.0f};
  double z = 0;
  for (float v : l) z += std::exp(static_cast<double>(v));
  auto s = Make(4, {1.0f, 0, 1.0f, 2024});
  const int n = 200000;
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < n; ++i) ++counts[s->Sample(l)];
  for (int i = 0; i < 4; ++i) {
    const double p = std::exp(static_cast<double>(l[i])) / z;
    const double sigma = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(static_cast<double>(counts[i]) / n, p, 5 * sigma) << "id " << i;
  }
  // Temperature 0.5 sharpens: p ~ softmax(2 l).
  auto cold = Make(4, {0.5f, 0, 1.0f, 2024});
  int top = 0;
  for (int i = 0; i < 20000; ++i) top += cold->Sample(l) == 2;
  EXPECT_GT(top, 20000 * 0.8);
}

TEST(Sampler, AllNegativeInfinityFallsBackToArgMax) {
  std::vector<float> l(4, -INFINITY);
  auto s = Make(4, {1.0f, 0, 1.0f, 1});
  EXPECT_EQ(s->Sample(l), 0);
}

}  // namespace
}  // namespace slm

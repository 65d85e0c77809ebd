// Our own math (base/math.h) against the platform libm: the bounds stated in
// the header hold, and special values behave.
#include "base/math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace slm {
namespace {

TEST(Math, ExpFloatRelativeError) {
  double worst = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.0013f) {
    const double want = std::exp(static_cast<double>(x));
    const double rel = std::fabs(static_cast<double>(Exp(x)) - want) / want;
    worst = std::max(worst, rel);
  }
  EXPECT_LT(worst, 2e-7) << "worst relative error of Exp(float)";
}

TEST(Math, ExpFloatSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Exp(0.0f), 1.0f);
  EXPECT_EQ(Exp(100.0f), inf);
  EXPECT_EQ(Exp(inf), inf);
  EXPECT_EQ(Exp(-inf), 0.0f);
  EXPECT_EQ(Exp(-200.0f), 0.0f);
  EXPECT_TRUE(std::isnan(Exp(std::nanf(""))));
  // Subnormal results stay close to libm.
  const float sub = Exp(-100.0f);
  EXPECT_GT(sub, 0.0f);
  const float min_sub = std::numeric_limits<float>::denorm_min();
  EXPECT_NEAR(sub, static_cast<float>(std::exp(-100.0)), 2 * min_sub);
  // Monotonic across a range softmax uses.
  float prev = Exp(-30.0f);
  for (float x = -30.0f; x < 30.0f; x += 0.01f) {
    float e = Exp(x);
    ASSERT_GE(e, prev) << x;
    prev = e;
  }
}

TEST(Math, ExpDouble) {
  double worst = 0;
  for (double x = -700; x <= 700; x += 0.0917) {
    worst = std::max(worst, std::fabs(ExpD(x) - std::exp(x)) / std::exp(x));
  }
  EXPECT_LT(worst, 1e-15);
}

TEST(Math, LogDouble) {
  double worst = 0;
  for (double x = 1e-300; x < 1e300; x *= 1.37) {
    const double want = std::log(x);
    if (want != 0) worst = std::max(worst, std::fabs(LogD(x) - want) / std::fabs(want));
  }
  for (double x = 0.01; x < 100; x += 0.0137) {
    const double want = std::log(x);
    if (want != 0) worst = std::max(worst, std::fabs(LogD(x) - want) / std::fabs(want));
  }
  EXPECT_LT(worst, 1e-15);  // relative
  EXPECT_EQ(LogD(1.0), 0.0);
  EXPECT_TRUE(std::isnan(LogD(-1.0)));
  EXPECT_EQ(LogD(0.0), -std::numeric_limits<double>::infinity());
}

TEST(Math, LogDoubleNearOne) {
  double worst = 0;
  for (double x = 0.5; x < 2.0; x += 0.000731) worst = std::max(worst, std::fabs(LogD(x) - std::log(x)));
  EXPECT_LT(worst, 1e-15);
}

TEST(Math, SinCosDouble) {
  double worst = 0;
  for (double x = -600000; x <= 600000; x += 3.71) {  // beyond any RoPE angle
    worst = std::max(worst, std::fabs(SinD(x) - std::sin(x)));
    worst = std::max(worst, std::fabs(CosD(x) - std::cos(x)));
  }
  for (double x = -10; x <= 10; x += 0.000917) {
    worst = std::max(worst, std::fabs(SinD(x) - std::sin(x)));
    worst = std::max(worst, std::fabs(CosD(x) - std::cos(x)));
  }
  EXPECT_LT(worst, 1e-15);
  EXPECT_EQ(SinD(0.0), 0.0);
  EXPECT_EQ(CosD(0.0), 1.0);
}

TEST(Math, PowDoubleRopeFrequencies) {
  for (double theta : {10000.0, 500000.0, 1000000.0}) {
    for (int d : {8, 64, 128}) {
      for (int j = 0; j < d / 2; ++j) {
        const double e = -2.0 * j / d;
        const double want = std::pow(theta, e);
        EXPECT_LT(std::fabs(PowD(theta, e) - want) / want, 1e-14) << theta << " " << d << " " << j;
      }
    }
  }
}

TEST(Math, SiluAndSqrt) {
  EXPECT_EQ(Silu(0.0f), 0.0f);
  for (float x = -20; x < 20; x += 0.01f) {
    const double want = x / (1.0 + std::exp(-static_cast<double>(x)));
    EXPECT_NEAR(Silu(x), want, 1e-6 * std::max(1.0, std::fabs(want)));
  }
  EXPECT_EQ(Sqrt(4.0f), 2.0f);
  EXPECT_EQ(Sqrt(2.0f), std::sqrt(2.0f));
}

}  // namespace
}  // namespace slm

#include "base/math.h"

#include <cstring>

namespace slm {
namespace {

float FloatFromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
double DoubleFromBits(uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}
uint64_t BitsOfDouble(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}
// Round half away from zero; |x| < 2^31 guaranteed by callers. Truncating
// casts are exact IEEE conversions, unlike libm's rounding helpers.
int32_t RoundToInt(float x) { return static_cast<int32_t>(x + (x >= 0.0f ? 0.5f : -0.5f)); }
int64_t RoundToInt64(double x) { return static_cast<int64_t>(x + (x >= 0.0 ? 0.5 : -0.5)); }
// 2^n for n in [-1022, 1023].
double Pow2D(int64_t n) { return DoubleFromBits(static_cast<uint64_t>(n + 1023) << 52); }

}  // namespace

// e^x = 2^n * e^r with n = round(x / ln2), r = x - n ln2 in [-ln2/2, ln2/2].
// ln2 is split in two (hi has 12 significant bits, so n * hi is exact for
// |n| < 2^12) and e^r is its Taylor polynomial of degree 7 (truncation error
// < 5e-9 relative), evaluated by Horner.
float Exp(float x) {
  if (x != x) return x;                              // NaN
  if (x > 88.72283935546875f) return FloatFromBits(0x7f800000u);  // +inf
  if (x < -104.0f) return 0.0f;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;       // 0x3f317200
  constexpr float kLn2Lo = 1.42860682030941723212e-6f;
  int32_t n = RoundToInt(x * kLog2e);
  float r = (x - static_cast<float>(n) * kLn2Hi) - static_cast<float>(n) * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  if (n < -126) {  // subnormal result: scale in two exact-exponent steps
    p = p * FloatFromBits(static_cast<uint32_t>(-100 + 127) << 23);
    n += 100;
  }
  return p * FloatFromBits(static_cast<uint32_t>(n + 127) << 23);
}

// Same scheme in double: fdlibm's ln2 split (hi has 32 significant bits) and a
// degree-13 Taylor polynomial (truncation error < 5e-18 on |r| <= ln2/2).
double ExpD(double x) {
  if (x != x) return x;
  if (x > 709.78) return DoubleFromBits(0x7ff0000000000000ull);
  if (x < -745.2) return 0.0;
  constexpr double kLog2e = 1.44269504088896338700e+00;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  int64_t n = RoundToInt64(x * kLog2e);
  double r = (x - static_cast<double>(n) * kLn2Hi) - static_cast<double>(n) * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  constexpr double kInvFact[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                                 1.0 / 362880.0,    1.0 / 40320.0,    1.0 / 5040.0,
                                 1.0 / 720.0,       1.0 / 120.0,      1.0 / 24.0,
                                 1.0 / 6.0,         0.5,              1.0,
                                 1.0};
  for (double c : kInvFact) p = p * r + c;
  if (n < -1022) {
    p = p * Pow2D(-600);
    n += 600;
  }
  return p * Pow2D(n);
}

// x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m-1)/(m+1),
// |s| < 0.1716, summed to s^25 (truncation error < 1e-19).
double LogD(double x) {
  if (x != x || x < 0.0) return DoubleFromBits(0x7ff8000000000000ull);  // NaN
  if (x == 0.0) return -DoubleFromBits(0x7ff0000000000000ull);
  if (x == DoubleFromBits(0x7ff0000000000000ull)) return x;
  int64_t e = 0;
  if (x < 2.2250738585072014e-308) {  // subnormal: normalise first
    x = x * Pow2D(54);
    e -= 54;
  }
  uint64_t bits = BitsOfDouble(x);
  e += static_cast<int64_t>((bits >> 52) & 0x7ff) - 1023;
  double m = DoubleFromBits((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);  // [1, 2)
  if (m > 1.41421356237309504880) {
    m = m * 0.5;
    e += 1;
  }
  double s = (m - 1.0) / (m + 1.0);
  double s2 = s * s;
  double sum = 1.0 / 25.0;
  for (int k = 23; k >= 1; k -= 2) sum = sum * s2 + 1.0 / static_cast<double>(k);
  double log_m = 2.0 * s * sum;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  double de = static_cast<double>(e);
  return (de * kLn2Hi + log_m) + de * kLn2Lo;
}

namespace {
// Taylor polynomials on |r| <= pi/4 (truncation error < 1e-17).
double SinPoly(double r) {
  double r2 = r * r;
  double p = -1.0 / 1307674368000.0;  // -1/15!
  constexpr double kC[] = {1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0,
                           -1.0 / 5040.0,      1.0 / 120.0,       -1.0 / 6.0};
  for (double c : kC) p = p * r2 + c;
  return r + r * r2 * p;
}
double CosPoly(double r) {
  double r2 = r * r;
  double p = 1.0 / 20922789888000.0;  // 1/16!
  constexpr double kC[] = {-1.0 / 87178291200.0, 1.0 / 479001600.0, -1.0 / 3628800.0,
                           1.0 / 40320.0,        -1.0 / 720.0,      1.0 / 24.0,
                           -0.5};
  for (double c : kC) p = p * r2 + c;
  return 1.0 + r2 * p;
}
// x = k pi/2 + r: pi/2 in three parts (fdlibm's pio2_1/2/3, 33 + 33 + 53 bits),
// exact products for |k| < 2^20.
double ReducePiOver2(double x, int64_t* k) {
  constexpr double kTwoOverPi = 6.36619772367581382433e-01;
  constexpr double kPio2_1 = 1.57079632673412561417e+00;
  constexpr double kPio2_2 = 6.07710050630396597660e-11;
  constexpr double kPio2_3 = 2.02226624871116645580e-21;
  *k = RoundToInt64(x * kTwoOverPi);
  double dk = static_cast<double>(*k);
  return ((x - dk * kPio2_1) - dk * kPio2_2) - dk * kPio2_3;
}
}  // namespace

double SinD(double x) {
  if (x != x) return x;
  int64_t k;
  double r = ReducePiOver2(x, &k);
  switch (k & 3) {
    case 0: return SinPoly(r);
    case 1: return CosPoly(r);
    case 2: return -SinPoly(r);
    default: return -CosPoly(r);
  }
}

double CosD(double x) {
  if (x != x) return x;
  int64_t k;
  double r = ReducePiOver2(x, &k);
  switch (k & 3) {
    case 0: return CosPoly(r);
    case 1: return -SinPoly(r);
    case 2: return -CosPoly(r);
    default: return SinPoly(r);
  }
}

double PowD(double base, double exponent) {
  if (exponent == 0.0) return 1.0;
  if (!(base > 0.0)) return DoubleFromBits(0x7ff8000000000000ull);
  return ExpD(exponent * LogD(base));
}

}  // namespace slm

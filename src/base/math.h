// Our own elementary functions (DESIGN.md principle 3). libm differs between
// glibc and wasi-libc (and between versions of each), so anything whose bits
// reach logits is computed here from + - * / and bit manipulation only. With
// -ffp-contract=off every operation below is one IEEE-754 round-to-nearest
// step, so the results are bit-identical on x86-64 and wasm32.
//
// Accuracy (tests/unit/math_test.cc checks these against the platform libm;
// measured worst case in brackets):
//   Exp(float):   relative error < 2e-7, about 1 ulp, on [-87, 88] [1.0e-7];
//                 +inf above 88.72, 0 below -104, subnormal results in between
//                 (within 2 subnormal steps).
//   ExpD(double): relative error < 1e-15 on [-700, 700] [2.2e-16].
//   LogD(double): relative error < 1e-15 for x in [1e-300, 1e300] [3.6e-16].
//   SinD/CosD:    absolute error < 1e-15 for |x| <= 6e5 [2.2e-16] (Cody-Waite
//                 range reduction, exact for |x| < 2^20 * pi/2; RoPE angles are
//                 at most pos * 1 rad).
//   PowD(b, e):   ExpD(e * LogD(b)) for b > 0; relative error < 1e-14 for the
//                 RoPE exponents (|e log b| < 15) [1.8e-15].
// Sqrt uses the IEEE-754 square root (correctly rounded by the standard, one
// instruction on x86 and wasm), so it is deterministic without help.
#pragma once

#include <cstdint>

namespace slm {

float Exp(float x);
double ExpD(double x);
double LogD(double x);
double SinD(double x);
double CosD(double x);
double PowD(double base, double exponent);

inline float Sqrt(float x) { return __builtin_sqrtf(x); }
inline double SqrtD(double x) { return __builtin_sqrt(x); }

// x / (1 + e^-x), the SiLU used by SwiGLU, through Exp above.
inline float Silu(float x) { return x / (1.0f + Exp(-x)); }

}  // namespace slm

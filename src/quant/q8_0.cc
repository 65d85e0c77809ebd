// Q8_0: 32 weights, f16 scale d = amax / 127, qs = round-half-away(x / d).
// Byte-identical to ggml's quantize_row_q8_0_ref: the scale and its inverse
// are computed in f32 from the unrounded amax/127 (the f16 rounding only
// affects the stored d), and x * (1/d) is rounded like roundf.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/fp16.h"

namespace slm::quant::internal {
namespace {

// roundf semantics (half away from zero) in integer-exact steps; |v| <= 127.
int RoundHalfAway(float v) {
  const int t = static_cast<int>(v);             // toward zero
  const float frac = v - static_cast<float>(t);  // exact for |v| < 2^23
  if (frac >= 0.5f) return t + 1;
  if (frac <= -0.5f) return t - 1;
  return t;
}

}  // namespace

void QuantizeQ8_0(const float* x, size_t n, uint8_t* dst) {
  for (size_t b = 0; b < n / kQK8_0; ++b, x += kQK8_0, dst += sizeof(BlockQ8_0)) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_0 blk;
    blk.d = F32ToFp16(d);
    for (int j = 0; j < kQK8_0; ++j) {
      float v = x[j] * id;
      // Finite rows give |v| <= 127 (+ rounding); clamp only guards inf/NaN
      // input (NaN compares false and becomes 0), where ggml's cast is UB.
      v = v >= -127.0f ? (v <= 127.0f ? v : 127.0f) : (v < -127.0f ? -127.0f : 0.0f);
      blk.qs[j] = static_cast<int8_t>(RoundHalfAway(v));
    }
    std::memcpy(dst, &blk, sizeof(blk));
  }
}

void DequantizeQ8_0(const uint8_t* src, size_t n, float* y) {
  for (size_t b = 0; b < n / kQK8_0; ++b, src += sizeof(BlockQ8_0), y += kQK8_0) {
    BlockQ8_0 blk;
    std::memcpy(&blk, src, sizeof(blk));
    const float d = Fp16ToF32(blk.d);
    for (int j = 0; j < kQK8_0; ++j) y[j] = static_cast<float>(blk.qs[j]) * d;
  }
}

}  // namespace slm::quant::internal

// Q4_0: 32 weights, f16 scale d = max / -8 where max is the signed value of
// largest magnitude (so it maps to code 0 exactly and the 16th level, +8,
// is never needed on that side); q = min(15, trunc(x / d + 8.5)).
// Byte-identical to ggml's quantize_row_q4_0_ref: same f32 operations in the
// same order (x * (1/d), then + 8.5f, then truncation).
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/fp16.h"

namespace slm::quant::internal {
namespace {

// trunc(v + 8.5) clamped to the 4-bit range. For finite rows v + 8.5 lies in
// about [0.5, 16.5]; the lower clamp (and NaN -> 0) only guards bad input.
uint8_t Code(float v) {
  const float t = v + 8.5f;
  if (!(t >= 0.0f)) return 0;
  if (t >= 15.0f) return 15;
  return static_cast<uint8_t>(static_cast<int>(t));
}

}  // namespace

void QuantizeQ4_0(const float* x, size_t n, uint8_t* dst) {
  for (size_t b = 0; b < n / kQK4_0; ++b, x += kQK4_0, dst += sizeof(BlockQ4_0)) {
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < kQK4_0; ++j) {
      if (amax < std::fabs(x[j])) {  // first of equal magnitudes wins
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_0 blk;
    blk.d = F32ToFp16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const uint8_t lo = Code(x[j] * id);
      const uint8_t hi = Code(x[j + kQK4_0 / 2] * id);
      blk.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
    std::memcpy(dst, &blk, sizeof(blk));
  }
}

void DequantizeQ4_0(const uint8_t* src, size_t n, float* y) {
  for (size_t b = 0; b < n / kQK4_0; ++b, src += sizeof(BlockQ4_0), y += kQK4_0) {
    BlockQ4_0 blk;
    std::memcpy(&blk, src, sizeof(blk));
    const float d = Fp16ToF32(blk.d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      y[j] = static_cast<float>((blk.qs[j] & 0xF) - 8) * d;
      y[j + kQK4_0 / 2] = static_cast<float>((blk.qs[j] >> 4) - 8) * d;
    }
  }
}

}  // namespace slm::quant::internal

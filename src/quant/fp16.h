// IEEE binary16 ("half", ggml's f16) and bfloat16 <-> binary32 conversions.
//
// Pure integer bit manipulation (no libm, no F16C), so every build (x86-64,
// wasm32) produces the same bits:
//   F32ToFp16: round to nearest, ties to even; |f| >= 65520 -> inf; values
//              below the smallest normal (2^-14) become subnormals (unit
//              2^-24), below 2^-25 (and exactly 2^-25: tie to even) +-0;
//              NaN -> sign | 0x7e00 (a quiet NaN, as ggml's portable code).
//   Fp16ToF32: exact (every half is a float), subnormals, inf and NaN kept.
//   F32ToBf16: round to nearest even on the top 16 bits; NaN stays NaN (quiet
//              bit forced, as ggml does); f32 subnormals are kept, not flushed.
//   Bf16ToF32: exact (bits << 16).
#pragma once

#include <bit>
#include <cstdint>

namespace slm::quant {

static_assert(std::endian::native == std::endian::little,
              "ggml blocks store f16 little-endian; only LE targets are supported");

inline float Fp16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in f32 (mant < 2^10).
    const float mag = static_cast<float>(mant) * std::bit_cast<float>(0x33800000u);
    return std::bit_cast<float>(std::bit_cast<uint32_t>(mag) | sign);
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

inline uint16_t F32ToFp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00u;   // NaN
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to inf
  const uint32_t e = ax >> 23;
  if (ax < 0x38800000u) {
    // Result is a half subnormal: value = m * 2^(e-150) = (m >> (126-e)) units
    // of 2^-24. f32 subnormals (e == 0) are far below and give +-0.
    const uint32_t shift = 126u - e;
    if (e == 0 || shift >= 25) return sign;
    const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;  // may carry into 0x400
    return static_cast<uint16_t>(sign | q);
  }
  // Normal: rebias the exponent (127 -> 15), keep 10 mantissa bits, round.
  uint32_t h = ((e - 112u) << 10) | ((ax >> 13) & 0x3ffu);
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carry is correct
  return static_cast<uint16_t>(sign | h);
}

inline float Bf16ToF32(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

inline uint16_t F32ToBf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace slm::quant

// Per-format scalar quantizers/dequantizers behind quant.h (internal to
// src/quant). Each takes n values (a multiple of the block size) and raw,
// possibly unaligned, block bytes.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace slm::quant::internal {

void QuantizeQ8_0(const float* x, size_t n, uint8_t* dst);
void DequantizeQ8_0(const uint8_t* src, size_t n, float* y);
void QuantizeQ4_0(const float* x, size_t n, uint8_t* dst);
void DequantizeQ4_0(const uint8_t* src, size_t n, float* y);
void QuantizeQ4_K(const float* x, size_t n, uint8_t* dst);
void DequantizeQ4_K(const uint8_t* src, size_t n, float* y);
void QuantizeQ6_K(const float* x, size_t n, uint8_t* dst);
void DequantizeQ6_K(const uint8_t* src, size_t n, float* y);

// ggml's nearest_int: adding 1.5 * 2^23 makes the FPU round to an integer
// (ties to even) in the low mantissa bits. Valid for |f| <= 2^22 - 1; other
// inputs (inf, NaN) give some int without undefined behaviour.
inline int NearestInt(float f) {
  const float v = f + 12582912.f;
  const int32_t i = std::bit_cast<int32_t>(v);
  return (i & 0x007fffff) - 0x00400000;
}

}  // namespace slm::quant::internal

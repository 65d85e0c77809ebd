// Conversions of stored weight formats to f32, used by the importers until
// the quantized kernels land. Block layouts (ggml-common.h; anchors.md 4.1):
//   q8_0: 32 weights per 34-byte block {f16 d; i8 qs[32]}; y[j] = d * qs[j]
//   q4_0: 32 weights per 18-byte block {f16 d; u8 qs[16]};
//         y[j] = d * ((qs[j] & 0xF) - 8), y[j+16] = d * ((qs[j] >> 4) - 8)
// f16 is IEEE binary16 (subnormals, inf and NaN kept), bf16 the top half of
// an f32. All functions are exact (every f16/bf16 value is an f32; the block
// products d * q are exact in f32 too: 11-bit mantissa times <= 8-bit int).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/tensor.h"

namespace slm {

float F16ToF32(uint16_t h);
float Bf16ToF32(uint16_t h);

// Decodes `bytes` of type t holding n_elements values into out (resized).
// Supports f32, f16, bf16, q8_0, q4_0 (here) and q4_k, q6_k (via
// src/quant's reference decoder); Unsupported for the rest.
Status DequantizeToF32(DType t, std::span<const uint8_t> bytes, uint64_t n_elements,
                       std::vector<float>* out);

}  // namespace slm

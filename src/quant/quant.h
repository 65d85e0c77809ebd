// Row quantizers and dequantizers for the weight formats slm stores: ggml's
// Q8_0, Q4_0, Q4_K, Q6_K (layouts in blocks.h) and the plain f16 / bf16 / f32.
// The scalar code here is the specification the kernels are tested against.
//
// Quantizers follow llama.cpp's reference algorithms (ggml-quants.c):
//   Q8_0, Q4_0: byte-identical to quantize_row_q{8,4}_0_ref (tested against a
//               Python transcription, tests/golden/quant_reference.py).
//   Q4_K: per sub-block weighted least-squares search for (scale, min) over
//         candidate inverse scales (make_qkx2_quants), then 6-bit scales/mins.
//   Q6_K: per sub-block error-minimising scale search (make_qx_quants,
//         weights x^2), then 8-bit scales under an f16 super-scale.
// Only exactly rounded IEEE operations (+ - * / sqrt) are used, no libm
// transcendental, so every target produces the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/tensor.h"
#include "quant/fp16.h"  // Fp16ToF32, F32ToFp16, Bf16ToF32, F32ToBf16

namespace slm::quant {

// True for the types QuantizeRow / DequantizeRow accept:
// kQ8_0, kQ4_0, kQ4_K, kQ6_K, kF16, kBF16, kF32.
bool IsSupported(DType t);

// Quantizes src (n = src.size() values; n must be a multiple of the type's
// block size) into dst, which must hold at least DTypeBytes(t, n) bytes.
// Returns the bytes written (n / block_size * block_bytes). A bad n, a short
// dst or an unsupported type is a caller bug (SLM_CHECK), not an input error;
// with asserts compiled out such a call writes nothing and returns 0.
size_t QuantizeRow(DType t, std::span<const float> src, std::span<uint8_t> dst);

// Decodes n = dst.size() values from src (at least DTypeBytes(t, n) bytes).
// Returns the bytes read.
size_t DequantizeRow(DType t, std::span<const uint8_t> src, std::span<float> dst);

// Error budget of quantize -> dequantize on N(0,1) rows, documented beside
// each format (blocks.h, README.md) and enforced by tests/unit/quant_test.cc:
//   max_rmse_rel: RMSE(x - y) / RMS(x)
//   max_abs_rel:  max |x - y| / max |x|   (over the whole row)
struct ErrorBudget {
  double max_rmse_rel;
  double max_abs_rel;
};
ErrorBudget BudgetFor(DType t);

}  // namespace slm::quant

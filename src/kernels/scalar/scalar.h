// Declarations of the scalar kernels (namespace slm::kernels::scalar). Every
// ISA folder declares the same names in its own namespace (avx2.h, simd128.h),
// so the files line up function for function; kernels.h documents the
// formulas and reduction orders they all follow.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace slm::kernels::scalar {

// The final step of the 8-lane order.
inline float Reduce8(const float* acc) {
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

float Dot(const float* a, const float* b, int32_t n);
void Matvec(float* y, const float* w, const float* x, int32_t out, int32_t in);
void RmsNorm(float* out, const float* x, const float* w, int32_t n, float eps);
void Rope(float* v, int32_t n_heads, int32_t head_dim, const float* cos_t, const float* sin_t,
          RopeStyle style);
void Softmax(float* x, int32_t n);
void SwiGlu(float* gate, const float* up, int32_t n);
void Add(float* y, const float* x, int32_t n);
void Attention(float* out, const float* q, const float* const* k_pages, const float* const* v_pages,
               int32_t page_tokens, float* scores, int32_t n_pos, int32_t n_heads,
               int32_t n_kv_heads, int32_t head_dim, int32_t kv_stride);

void QuantizeQ8x32(const float* x, uint8_t* xq, int32_t n);
void QuantizeQ8x256(const float* x, uint8_t* xq, int32_t n);
void MatMulF32(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
               int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulF16(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
               int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulBF16(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ8_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ4_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ4_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ6_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);

}  // namespace slm::kernels::scalar

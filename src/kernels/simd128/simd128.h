// Declarations of the wasm SIMD128 kernels (namespace slm::kernels::simd128),
// the same names and signatures as kernels/scalar/scalar.h. Built only for
// wasm32-wasi (the whole module targets SIMD128). Kernels the table takes from
// the scalar twin unchanged (rmsnorm, rope, softmax, swiglu, add,
// activation quantizers, f16/bf16 rows: there is no f16 conversion
// instruction) are not redeclared here.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace slm::kernels::simd128 {

float Dot(const float* a, const float* b, int32_t n);
// elementwise.cc: scalar's attention with the V sum in f32x4 (same bits).
void Attention(float* out, const float* q, const float* const* k_pages, const float* const* v_pages,
               int32_t page_tokens, float* scores, int32_t n_pos, int32_t n_heads,
               int32_t n_kv_heads, int32_t head_dim, int32_t kv_stride);
void Matvec(float* y, const float* w, const float* x, int32_t out, int32_t in);

void MatMulF32(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
               int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ8_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ4_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ4_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ6_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);

}  // namespace slm::kernels::simd128

#if defined(__wasm_relaxed_simd__)
// Relaxed-SIMD q8_0 / q4_0 / q4_k / q6_k products (relaxed.cc, table "simd128r" of
// slm-relaxed.wasm): i16x8.relaxed_dot_i8x16_i7x16_s with the 7-bit operand
// kept in 0..127, so every engine gives the same bits. q8_0 / q4_0 rows longer
// than 16384 values use the simd128 kernels.
namespace slm::kernels::simd128r {

void MatMulQ8_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ4_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ4_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ6_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);

}  // namespace slm::kernels::simd128r
#endif

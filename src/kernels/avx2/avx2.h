// Declarations of the AVX2 kernels (namespace slm::kernels::avx2), the same
// names and signatures as kernels/scalar/scalar.h. Only files in kernels/avx2
// are compiled with -mavx2 -mfma -mf16c (and -ffp-contract=off, like every
// file: no FMA is ever formed). Kernels the table takes from the scalar twin
// unchanged (rope, add: not hot) are not redeclared here.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace slm::kernels::avx2 {

float Dot(const float* a, const float* b, int32_t n);
void Matvec(float* y, const float* w, const float* x, int32_t out, int32_t in);
void RmsNorm(float* out, const float* x, const float* w, int32_t n, float eps);
void Attention(float* out, const float* q, const float* const* k_pages, const float* const* v_pages,
               int32_t page_tokens, float* scores, int32_t n_pos, int32_t n_heads,
               int32_t n_kv_heads, int32_t head_dim, int32_t kv_stride);

void SwiGlu(float* gate, const float* up, int32_t n);  // swiglu.cc
void Softmax(float* x, int32_t n);                     // swiglu.cc (Exp8)
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

}  // namespace slm::kernels::avx2

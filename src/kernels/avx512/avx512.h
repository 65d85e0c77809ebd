// Declarations of the AVX-512 VNNI kernels (namespace slm::kernels::avx512),
// the same names and signatures as kernels/scalar/scalar.h. Only files in
// kernels/avx512 are compiled with -mavx512{f,bw,dq,vl,vnni} (and
// -ffp-contract=off, like every file: no FMA is ever formed). The table takes
// every entry it does not redeclare here from the AVX2 table (same bits).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace slm::kernels::avx512 {

void MatMulQ8_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
void MatMulQ4_0(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);

void MatMulQ4_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);

void MatMulQ6_K(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok);

}  // namespace slm::kernels::avx512

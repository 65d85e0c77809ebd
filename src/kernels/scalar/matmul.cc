// Scalar matmuls for every weight format and the activation quantizers: the
// specification of kernels.h ("Weight formats", "Activation quantization").
//
// Data layout: W is row-major, row r at w + r * RowBytes(format, in); ggml
// block layouts (quant/blocks.h), read with memcpy because tensor bytes may be
// unaligned. Activations: f32 vectors, or ActQ8x32 / ActQ8x256 blocks.
// Accumulation order: q8_0 / q4_0, one float per output, adding each block's
// integer dot scaled once (blocks ascending); q4_k / q6_k, 8 float lanes per
// output, lane l takes the integer partial sum of values 4l..4l+3 of each
// 32-value chunk, scaled once per super-block; then Reduce8.
// Loop order: rows outer, tokens inner, so a weight row is read from memory
// once per call and reused from L1 for every token (prefill).
#include <cstring>

#include "kernels/scalar/scalar.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace slm::kernels::scalar {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;

// Round half to even for |v| < 2^22 (the 1.5 * 2^23 trick; exact IEEE adds).
inline float RoundHalfEven(float v) { return (v + 12582912.0f) - 12582912.0f; }

// Quantizes one block of `n` values: returns d, writes codes.
float QuantizeBlock(const float* x, int8_t* q, int32_t n) {
  float amax = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    const float a = x[i] < 0.0f ? -x[i] : x[i];
    amax = a > amax ? a : amax;
  }
  const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
  for (int32_t i = 0; i < n; ++i) q[i] = static_cast<int8_t>(RoundHalfEven(x[i] * id));
  return amax / 127.0f;
}

// The 8 lane sums p[l] = sum_{i<4} a[4l+i] * b[4l+i] of one 32-value chunk.
inline void LaneSums(const int8_t* a, const int8_t* b, int32_t* p) {
  for (int32_t l = 0; l < 8; ++l) {
    int32_t s = 0;
    for (int32_t i = 0; i < 4; ++i) s += int32_t{a[4 * l + i]} * int32_t{b[4 * l + i]};
    p[l] = s;
  }
}

// Calls dot(row, act) for every (row, token) and stores it.
template <typename RowDot>
void ForRowsAndTokens(float* y, int64_t y_stride, const uint8_t* w, int64_t row_bytes,
                      const uint8_t* x, int64_t x_stride, int32_t r0, int32_t r1, int32_t n_tok,
                      RowDot dot) {
  for (int32_t r = r0; r < r1; ++r) {
    const uint8_t* row = w + r * row_bytes;
    for (int32_t t = 0; t < n_tok; ++t) y[t * y_stride + r] = dot(row, x + t * x_stride);
  }
}

// The integer dot of one 32-value block.
inline int32_t BlockDot(const int8_t* w, const int8_t* a) {
  int32_t p = 0;
  for (int32_t i = 0; i < 32; ++i) p += int32_t{w[i]} * int32_t{a[i]};
  return p;
}

float DotQ8_0(const uint8_t* row, const uint8_t* act, int32_t in) {
  float acc = 0.0f;
  for (int32_t b = 0; b < in / 32; ++b) {
    BlockQ8_0 wb;
    ActQ8x32 xb;
    std::memcpy(&wb, row + b * sizeof(BlockQ8_0), sizeof wb);
    std::memcpy(&xb, act + b * sizeof(ActQ8x32), sizeof xb);
    const float s = quant::Fp16ToF32(wb.d) * xb.d;
    acc = acc + s * static_cast<float>(BlockDot(wb.qs, xb.qs));
  }
  return acc;
}

float DotQ4_0(const uint8_t* row, const uint8_t* act, int32_t in) {
  float acc = 0.0f;
  for (int32_t b = 0; b < in / 32; ++b) {
    BlockQ4_0 wb;
    ActQ8x32 xb;
    std::memcpy(&wb, row + b * sizeof(BlockQ4_0), sizeof wb);
    std::memcpy(&xb, act + b * sizeof(ActQ8x32), sizeof xb);
    int8_t v[32];
    for (int32_t j = 0; j < 16; ++j) {
      v[j] = static_cast<int8_t>((wb.qs[j] & 0xF) - 8);
      v[j + 16] = static_cast<int8_t>((wb.qs[j] >> 4) - 8);
    }
    const float s = quant::Fp16ToF32(wb.d) * xb.d;
    acc = acc + s * static_cast<float>(BlockDot(v, xb.qs));
  }
  return acc;
}

float DotQ4_K(const uint8_t* row, const uint8_t* act, int32_t in) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  float mins = 0.0f;
  for (int32_t b = 0; b < in / 256; ++b) {
    BlockQ4_K wb;
    ActQ8x256 xb;
    std::memcpy(&wb, row + b * sizeof(BlockQ4_K), sizeof wb);
    std::memcpy(&xb, act + b * sizeof(ActQ8x256), sizeof xb);
    int32_t lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t msum = 0;
    for (int32_t c = 0; c < 8; ++c) {
      uint8_t sc, m;
      quant::ScaleMinK4(c, wb.scales, &sc, &m);
      const uint8_t* qs = wb.qs + 32 * (c / 2);
      int8_t v[32];
      for (int32_t i = 0; i < 32; ++i) {
        v[i] = static_cast<int8_t>(c % 2 == 0 ? (qs[i] & 0xF) : (qs[i] >> 4));
      }
      int32_t p[8];
      LaneSums(v, xb.qs + 32 * c, p);
      for (int32_t l = 0; l < 8; ++l) lanes[l] += int32_t{sc} * p[l];
      msum += int32_t{m} * xb.bsums[c];
    }
    const float dd = quant::Fp16ToF32(wb.d) * xb.d;
    const float dm = quant::Fp16ToF32(wb.dmin) * xb.d;
    for (int32_t l = 0; l < 8; ++l) acc[l] = acc[l] + dd * static_cast<float>(lanes[l]);
    mins = mins + dm * static_cast<float>(msum);
  }
  return Reduce8(acc) - mins;
}

// The 6-bit codes of a Q6_K block minus 32, in value order (blocks.h).
void UnpackQ6_K(const BlockQ6_K& wb, int8_t* v) {
  for (int32_t h = 0; h < 2; ++h) {
    const uint8_t* ql = wb.ql + 64 * h;
    const uint8_t* qh = wb.qh + 32 * h;
    int8_t* o = v + 128 * h;
    for (int32_t l = 0; l < 32; ++l) {
      o[l] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
      o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

float DotQ6_K(const uint8_t* row, const uint8_t* act, int32_t in) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int32_t b = 0; b < in / 256; ++b) {
    BlockQ6_K wb;
    ActQ8x256 xb;
    std::memcpy(&wb, row + b * sizeof(BlockQ6_K), sizeof wb);
    std::memcpy(&xb, act + b * sizeof(ActQ8x256), sizeof xb);
    int8_t v[256];
    UnpackQ6_K(wb, v);
    int32_t lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int32_t c = 0; c < 8; ++c) {
      int32_t p[8];
      LaneSums(v + 32 * c, xb.qs + 32 * c, p);
      for (int32_t l = 0; l < 8; ++l) lanes[l] += int32_t{wb.scales[(32 * c + 4 * l) / 16]} * p[l];
    }
    const float dd = quant::Fp16ToF32(wb.d) * xb.d;
    for (int32_t l = 0; l < 8; ++l) acc[l] = acc[l] + dd * static_cast<float>(lanes[l]);
  }
  return Reduce8(acc);
}

// 8-lane-order dot of a row of 16-bit floats (widened exactly) with f32 x.
template <float (*Widen)(uint16_t)>
float DotHalf(const uint8_t* row, const float* x, int32_t in) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int32_t i = 0; i < in; ++i) {
    uint16_t h;
    std::memcpy(&h, row + 2 * i, 2);
    acc[i % 8] = acc[i % 8] + Widen(h) * x[i];
  }
  return Reduce8(acc);
}

}  // namespace

void QuantizeQ8x32(const float* x, uint8_t* xq, int32_t n) {
  for (int32_t b = 0; b < n / 32; ++b) {
    ActQ8x32 blk;
    blk.d = QuantizeBlock(x + 32 * b, blk.qs, 32);
    std::memcpy(xq + b * sizeof blk, &blk, sizeof blk);
  }
}

void QuantizeQ8x256(const float* x, uint8_t* xq, int32_t n) {
  for (int32_t b = 0; b < n / 256; ++b) {
    ActQ8x256 blk;
    blk.d = QuantizeBlock(x + 256 * b, blk.qs, 256);
    for (int32_t c = 0; c < 8; ++c) {
      int32_t s = 0;
      for (int32_t i = 0; i < 32; ++i) s += blk.qs[32 * c + i];
      blk.bsums[c] = static_cast<int16_t>(s);
    }
    std::memcpy(xq + b * sizeof blk, &blk, sizeof blk);
  }
}

void MatMulF32(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
               int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  ForRowsAndTokens(y, y_stride, w, int64_t{in} * 4, x, x_stride, r0, r1, n_tok,
                   [in](const uint8_t* row, const uint8_t* a) {
                     return Dot(reinterpret_cast<const float*>(row),
                                reinterpret_cast<const float*>(a), in);
                   });
}

void MatMulF16(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
               int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  ForRowsAndTokens(y, y_stride, w, int64_t{in} * 2, x, x_stride, r0, r1, n_tok,
                   [in](const uint8_t* row, const uint8_t* a) {
                     return DotHalf<quant::Fp16ToF32>(row, reinterpret_cast<const float*>(a), in);
                   });
}

void MatMulBF16(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,
                int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {
  ForRowsAndTokens(y, y_stride, w, int64_t{in} * 2, x, x_stride, r0, r1, n_tok,
                   [in](const uint8_t* row, const uint8_t* a) {
                     return DotHalf<quant::Bf16ToF32>(row, reinterpret_cast<const float*>(a), in);
                   });
}

#define SLM_QUANT_MATMUL(Name, Block, DotFn, per_block)                                         \
  void Name(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x, int64_t x_stride,   \
            int32_t in, int32_t r0, int32_t r1, int32_t n_tok) {                                \
    ForRowsAndTokens(y, y_stride, w, int64_t{in} / (per_block)*int64_t{sizeof(Block)}, x,       \
                     x_stride, r0, r1, n_tok,                                                   \
                     [in](const uint8_t* row, const uint8_t* a) { return DotFn(row, a, in); }); \
  }
SLM_QUANT_MATMUL(MatMulQ8_0, BlockQ8_0, DotQ8_0, 32)
SLM_QUANT_MATMUL(MatMulQ4_0, BlockQ4_0, DotQ4_0, 32)
SLM_QUANT_MATMUL(MatMulQ4_K, BlockQ4_K, DotQ4_K, 256)
SLM_QUANT_MATMUL(MatMulQ6_K, BlockQ6_K, DotQ6_K, 256)
#undef SLM_QUANT_MATMUL

}  // namespace slm::kernels::scalar

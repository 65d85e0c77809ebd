// Q4_K: 256-weight super-blocks of 8 sub-blocks x 32, each sub-block with its
// own (scale, min) so that x ~= scale * q - min, q in 0..15.
//
// Quantizer (the algorithm of ggml's quantize_row_q4_K_ref, own code):
//  1. Per sub-block, weights w_i = sqrt(mean(x^2)) + |x_i| and a search
//     (FitScaleMin, = make_qkx2_quants with rmin -1, rdelta 0.1, 20 steps):
//     for 21 candidate inverse scales (nmax + rmin + rdelta*k) / (max - min),
//     round, then solve the weighted least-squares (scale, min) for those
//     codes; keep the candidate with the smallest weighted squared error.
//     The min is clamped to <= 0 (so mins are stored as positive offsets).
//  2. The 8 scales and 8 mins are quantized to 6 bits against the largest
//     of each (d = max_scale/63, dmin = max_min/63, both f16).
//  3. Codes are recomputed against the rounded d*sc and dmin*m.
// Every step is + - * / sqrt in a fixed order, so the bytes are the same on
// every target.
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/fp16.h"

namespace slm::quant::internal {
namespace {

constexpr int kSub = 32;               // values per sub-block
constexpr int kNumSub = kQK_K / kSub;  // 8

// Weighted fit of x[0..n) ~= scale * L + min (min <= 0), L in 0..nmax.
// Returns scale and stores -min in *neg_min. L receives the best codes.
float FitScaleMin(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min,
                  float rmin, float rdelta, int nstep) {
  float min = x[0];
  float max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *neg_min = -min;
    return 0.0f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = NearestInt(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(l < 0 ? 0 : (l > nmax ? nmax : l));
    const float diff = scale * L[i] + min - x[i];
    best_error += w[i] * (diff * diff);
  }
  uint8_t aux[kSub];
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = NearestInt(iscale * (x[i] - min));
      l = l < 0 ? 0 : (l > nmax ? nmax : l);
      aux[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (this_min > 0) {  // a positive min cannot be stored: refit scale only
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = this_scale * aux[i] + this_min - x[i];
        cur_error += w[i] * (diff * diff);
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = aux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *neg_min = -min;
  return scale;
}

uint8_t Clamp63(int v) { return static_cast<uint8_t>(v) > 63 ? 63 : static_cast<uint8_t>(v); }

}  // namespace

void QuantizeQ4_K(const float* x, size_t n, uint8_t* dst) {
  for (size_t b = 0; b < n / kQK_K; ++b, x += kQK_K, dst += sizeof(BlockQ4_K)) {
    uint8_t L[kQK_K];
    float w[kSub];
    float scales[kNumSub];
    float mins[kNumSub];
    float max_scale = 0;  // scales are >= 0 because the min is subtracted
    float max_min = 0;
    for (int j = 0; j < kNumSub; ++j) {
      const float* xs = x + kSub * j;
      float sum_x2 = 0;
      for (int l = 0; l < kSub; ++l) sum_x2 += xs[l] * xs[l];
      const float av_x = std::sqrt(sum_x2 / kSub);
      for (int l = 0; l < kSub; ++l) w[l] = av_x + std::fabs(xs[l]);
      scales[j] = FitScaleMin(kSub, 15, xs, w, L + kSub * j, &mins[j], -1.0f, 0.1f, 20);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }

    BlockQ4_K blk;
    std::memset(&blk, 0, sizeof(blk));
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < kNumSub; ++j) {
      const uint8_t ls = Clamp63(NearestInt(inv_scale * scales[j]));
      const uint8_t lm = Clamp63(NearestInt(inv_min * mins[j]));
      if (j < 4) {  // 6-bit packing, inverse of ScaleMinK4
        blk.scales[j] = ls;
        blk.scales[j + 4] = lm;
      } else {
        blk.scales[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
        blk.scales[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
        blk.scales[j] |= static_cast<uint8_t>((lm >> 4) << 6);
      }
    }
    blk.d = F32ToFp16(max_scale / 63.f);
    blk.dmin = F32ToFp16(max_min / 63.f);

    // Re-derive the codes against the scales actually stored. A sub-block
    // whose scale rounded to 0 keeps the codes of the search (they decode to
    // -dmin*m regardless).
    for (int j = 0; j < kNumSub; ++j) {
      uint8_t sc, m;
      ScaleMinK4(j, blk.scales, &sc, &m);
      const float d = Fp16ToF32(blk.d) * sc;
      if (d == 0.0f) continue;
      const float dm = Fp16ToF32(blk.dmin) * m;
      for (int i = 0; i < kSub; ++i) {
        const int l = NearestInt((x[kSub * j + i] + dm) / d);
        L[kSub * j + i] = static_cast<uint8_t>(l < 0 ? 0 : (l > 15 ? 15 : l));
      }
    }
    // 64-value chunks: 32 bytes, low nibble = first 32, high = next 32.
    for (int c = 0; c < kQK_K / 64; ++c) {
      for (int l = 0; l < 32; ++l) {
        blk.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + l + 32] << 4));
      }
    }
    std::memcpy(dst, &blk, sizeof(blk));
  }
}

void DequantizeQ4_K(const uint8_t* src, size_t n, float* y) {
  for (size_t b = 0; b < n / kQK_K; ++b, src += sizeof(BlockQ4_K)) {
    BlockQ4_K blk;
    std::memcpy(&blk, src, sizeof(blk));
    const float d = Fp16ToF32(blk.d);
    const float dmin = Fp16ToF32(blk.dmin);
    const uint8_t* q = blk.qs;
    for (int j = 0; j < kNumSub; j += 2, q += 32) {
      uint8_t sc, m;
      ScaleMinK4(j, blk.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      ScaleMinK4(j + 1, blk.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

}  // namespace slm::quant::internal

// Q6_K: 256-weight super-blocks of 16 sub-blocks x 16, symmetric 6-bit codes
// (value q - 32, q in 0..63) with one int8 scale per sub-block under an f16
// super-scale d: x ~= d * sc * (q - 32).
//
// Quantizer (the algorithm of ggml's quantize_row_q6_K_ref, own code):
//  1. Per sub-block, FitScale (= make_qx_quants, nmax 32, weights x^2): start
//     from the inverse scale -32/max (max = signed value of largest |x|),
//     round, take the weighted least-squares scale for those codes; then try
//     18 neighbouring inverse scales -(32 + 0.1k)/max, k = -9..9, k != 0, and
//     keep the one that maximises (sum w x l)^2 / (sum w l^2), i.e. minimises
//     the weighted squared error.
//  2. The 16 (signed) scales are quantized to int8 against the one of largest
//     magnitude, which maps to -128: d = -max_scale/128 (f16).
//  3. Codes are recomputed against the rounded d * sc.
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/fp16.h"

namespace slm::quant::internal {
namespace {

constexpr int kSub = 16;
constexpr int kNumSub = kQK_K / kSub;   // 16
constexpr float kGroupMaxEps = 1e-15f;  // below this a group counts as zero

int Clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Fits x[0..n) ~= scale * (L - nmax), L in 0..2*nmax-1, weights x^2.
float FitScale(int n, int nmax, const float* x, int8_t* L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = -nmax / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        L[i] = static_cast<int8_t>(nmax + Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

}  // namespace

void QuantizeQ6_K(const float* x, size_t n, uint8_t* dst) {
  for (size_t b = 0; b < n / kQK_K; ++b, x += kQK_K, dst += sizeof(BlockQ6_K)) {
    int8_t L[kQK_K];
    float scales[kNumSub];
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < kNumSub; ++ib) {
      scales[ib] = FitScale(kSub, 32, x + kSub * ib, L + kSub * ib);
      const float abs_scale = std::fabs(scales[ib]);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scales[ib];
      }
    }
    BlockQ6_K blk;
    std::memset(&blk, 0, sizeof(blk));
    if (max_abs_scale < kGroupMaxEps) {  // all (near) zero: an all-zero block
      std::memcpy(dst, &blk, sizeof(blk));
      continue;
    }
    const float iscale = -128.f / max_scale;
    blk.d = F32ToFp16(1 / iscale);
    for (int ib = 0; ib < kNumSub; ++ib) {
      const int s = NearestInt(iscale * scales[ib]);
      blk.scales[ib] = static_cast<int8_t>(s < 127 ? s : 127);
    }
    for (int j = 0; j < kNumSub; ++j) {
      const float d = Fp16ToF32(blk.d) * blk.scales[j];
      if (d == 0.0f) continue;  // keep the search's codes; they decode to 0
      for (int i = 0; i < kSub; ++i) {
        const int l = Clamp(NearestInt(x[kSub * j + i] / d), -32, 31);
        L[kSub * j + i] = static_cast<int8_t>(l + 32);
      }
    }
    // Two halves of 128: ql[l] = q[l] | q[l+64] << 4, ql[l+32] = q[l+32] |
    // q[l+96] << 4 (low 4 bits), qh[l] = the four high 2-bit pairs.
    for (int h = 0; h < 2; ++h) {
      const int8_t* q = L + 128 * h;
      uint8_t* ql = blk.ql + 64 * h;
      uint8_t* qh = blk.qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((q[l] & 0xF) | ((q[l + 64] & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((q[l] >> 4) | ((q[l + 32] >> 4) << 2) |
                                     ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6));
      }
    }
    std::memcpy(dst, &blk, sizeof(blk));
  }
}

void DequantizeQ6_K(const uint8_t* src, size_t n, float* y) {
  for (size_t b = 0; b < n / kQK_K; ++b, src += sizeof(BlockQ6_K)) {
    BlockQ6_K blk;
    std::memcpy(&blk, src, sizeof(blk));
    const float d = Fp16ToF32(blk.d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = blk.ql + 64 * h;
      const uint8_t* qh = blk.qh + 32 * h;
      const int8_t* sc = blk.scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

}  // namespace slm::quant::internal

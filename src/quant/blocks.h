// ggml's quantized block layouts, byte for byte (ggml/src/ggml-common.h;
// ../shared/notes/anchors.md 4.1), so GGUF tensors are used without
// re-quantization. f16 fields are IEEE half, little-endian (see fp16.h).
//
// Every field is 1- or 2-byte aligned and the sizes are already multiples of
// 2, so the natural layout has no padding: the structs are "packed" without a
// compiler pragma, and the static_asserts below pin size and offsets. Tensor
// bytes may sit at any address; the scalar code copies a block out with
// memcpy instead of casting the byte pointer.
//
// Error budgets (quantize -> dequantize on N(0,1) rows; RMSE / RMS(x) and
// max |error| / max |x| of the row) live in quant.cc (BudgetFor) and are
// repeated beside each format here and in README.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace slm::quant {

inline constexpr int kQK8_0 = 32;
inline constexpr int kQK4_0 = 32;
inline constexpr int kQK_K = 256;  // k-quant super-block

// Q8_0 (ggml type 8): 32 weights, 8.5 bits/weight.
//   y[j] = d * qs[j]
// Budget: RMSE/RMS 0.0075, max-abs/max 0.0045 (a proven bound).
struct BlockQ8_0 {
  uint16_t d;         // f16 scale = amax / 127
  int8_t qs[kQK8_0];  // round-half-away(x / d)
};
static_assert(sizeof(BlockQ8_0) == 34 && alignof(BlockQ8_0) == 2);
static_assert(offsetof(BlockQ8_0, qs) == 2);

// Q4_0 (ggml type 2): 32 weights, 4.5 bits/weight.
//   j < 16: y[j] = d * ((qs[j] & 0xF) - 8);  y[j + 16] = d * ((qs[j] >> 4) - 8)
// (low nibbles = first half, high nibbles = second half; not interleaved.)
// Budget: RMSE/RMS 0.12, max-abs/max 0.1252 (a proven bound).
struct BlockQ4_0 {
  uint16_t d;  // f16 scale = (signed value of largest |x|) / -8
  uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18 && alignof(BlockQ4_0) == 2);
static_assert(offsetof(BlockQ4_0, qs) == 2);

// Q4_K (ggml type 12): 256 weights in 8 sub-blocks of 32, 4.5 bits/weight.
// Each sub-block j has a 6-bit scale sc_j and a 6-bit min m_j, packed into
// `scales` (see ScaleMinK4); y = d*sc_j*q - dmin*m_j with q a 4-bit code.
// qs: 4 chunks of 32 bytes; chunk c holds sub-block 2c in its low nibbles and
// sub-block 2c+1 in its high nibbles.
// Budget: RMSE/RMS 0.10, max-abs/max 0.09.
struct BlockQ4_K {
  uint16_t d;     // f16 super-scale of the 6-bit scales
  uint16_t dmin;  // f16 super-scale of the 6-bit mins
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144 && alignof(BlockQ4_K) == 2);
static_assert(offsetof(BlockQ4_K, dmin) == 2 && offsetof(BlockQ4_K, scales) == 4 &&
              offsetof(BlockQ4_K, qs) == 16);

// Sub-block j (0..7) of a Q4_K block: 6-bit scale and min.
//   j < 4:  sc = s[j] & 63;                          m = s[j+4] & 63
//   j >= 4: sc = (s[j+4] & 0xF) | ((s[j-4] >> 6) << 4);
//           m  = (s[j+4] >> 4)  | ((s[j]   >> 6) << 4)
inline void ScaleMinK4(int j, const uint8_t* s, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// Q6_K (ggml type 14): 256 weights in 16 sub-blocks of 16, 6.5625 bits/weight.
// 6-bit codes q in 0..63 (value q - 32): the low 4 bits in ql, the high 2 in
// qh; one int8 scale per sub-block under the f16 super-scale d.
// For each half h (128 values; ql += 64, qh += 32, sc += 8 per half) and
// l in 0..31, is = l / 16:
//   y[l]    = d*sc[is+0]*(((ql[l]    & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32)
//   y[l+32] = d*sc[is+2]*(((ql[l+32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32)
//   y[l+64] = d*sc[is+4]*(((ql[l]    >> 4)  | (((qh[l] >> 4) & 3) << 4)) - 32)
//   y[l+96] = d*sc[is+6]*(((ql[l+32] >> 4)  | (((qh[l] >> 6) & 3) << 4)) - 32)
// Budget: RMSE/RMS 0.024, max-abs/max 0.021.
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210 && alignof(BlockQ6_K) == 2);
static_assert(offsetof(BlockQ6_K, qh) == 128 && offsetof(BlockQ6_K, scales) == 192 &&
              offsetof(BlockQ6_K, d) == 208);

}  // namespace slm::quant

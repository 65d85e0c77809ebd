// Small SIMD128 helpers shared by simd128/matmul.cc and simd128/relaxed.cc
// (wasm builds only). The 8-lane accumulator and its reduction are the
// kernels.h contract's: lanes 0-3 in lo, 4-7 in hi, reduced as
// ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
#ifndef SLM_KERNELS_SIMD128_VEC_H_
#define SLM_KERNELS_SIMD128_VEC_H_

#include <wasm_simd128.h>

#include <cstdint>
#include <cstring>

#include "quant/fp16.h"

namespace slm::kernels::simd128 {

struct Acc8 {
  v128_t lo, hi;
};

inline Acc8 Zero8() { return {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)}; }

inline float Reduce8(Acc8 a) {
  const v128_t s = wasm_f32x4_add(a.lo, a.hi);
  const float s0 = wasm_f32x4_extract_lane(s, 0), s1 = wasm_f32x4_extract_lane(s, 1);
  const float s2 = wasm_f32x4_extract_lane(s, 2), s3 = wasm_f32x4_extract_lane(s, 3);
  return (s0 + s2) + (s1 + s3);
}

// The f16 at p (unaligned) as f32, exactly quant::Fp16ToF32.
inline float F16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return quant::Fp16ToF32(h);
}

inline v128_t Load(const void* p) { return wasm_v128_load(p); }

}  // namespace slm::kernels::simd128

#endif  // SLM_KERNELS_SIMD128_VEC_H_

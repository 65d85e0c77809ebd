// wasm SIMD128 attention (the scalar twin is scalar/elementwise.cc; the
// formula is in kernels.h): the same steps in the same order, with the
// score dots in simd128's 8-lane Dot (same bits as scalar's) and the
// weighted V sum out_h[i] = out_h[i] + score[t] * v[t][i] four values of i
// per f32x4 (one running sum per i, positions ascending, mul then add: each
// lane is exactly the scalar expression). Softmax stays scalar's.
#include <wasm_simd128.h>

#include "base/math.h"
#include "kernels/scalar/scalar.h"
#include "kernels/simd128/simd128.h"

namespace slm::kernels::simd128 {

void Attention(float* out, const float* q, const float* const* k_pages, const float* const* v_pages,
               int32_t page_tokens, float* scores, int32_t n_pos, int32_t n_heads,
               int32_t n_kv_heads, int32_t head_dim, int32_t kv_stride) {
  const int32_t group = n_heads / n_kv_heads;
  const int64_t kv_dim = kv_stride;  // floats from one position's row to the next
  const float scale = Sqrt(static_cast<float>(head_dim));
  for (int32_t h = 0; h < n_heads; ++h) {
    const float* qh = q + static_cast<int64_t>(h) * head_dim;
    const int64_t kv_off = static_cast<int64_t>(h / group) * head_dim;
    for (int32_t t = 0; t < n_pos; ++t) {
      const float* kt = k_pages[t / page_tokens] + (t % page_tokens) * kv_dim + kv_off;
      scores[t] = Dot(qh, kt, head_dim) / scale;
    }
    scalar::Softmax(scores, n_pos);
    float* oh = out + static_cast<int64_t>(h) * head_dim;
    int32_t i = 0;
    // 16 values of i at a time in registers over all positions, then 4, then single values.
    for (; i + 16 <= head_dim; i += 16) {
      v128_t o0 = wasm_f32x4_splat(0.0f), o1 = o0, o2 = o0, o3 = o0;
      for (int32_t t = 0; t < n_pos; ++t) {
        const float* vt = v_pages[t / page_tokens] + (t % page_tokens) * kv_dim + kv_off + i;
        const v128_t a = wasm_f32x4_splat(scores[t]);
        o0 = wasm_f32x4_add(o0, wasm_f32x4_mul(a, wasm_v128_load(vt)));
        o1 = wasm_f32x4_add(o1, wasm_f32x4_mul(a, wasm_v128_load(vt + 4)));
        o2 = wasm_f32x4_add(o2, wasm_f32x4_mul(a, wasm_v128_load(vt + 8)));
        o3 = wasm_f32x4_add(o3, wasm_f32x4_mul(a, wasm_v128_load(vt + 12)));
      }
      wasm_v128_store(oh + i, o0);
      wasm_v128_store(oh + i + 4, o1);
      wasm_v128_store(oh + i + 8, o2);
      wasm_v128_store(oh + i + 12, o3);
    }
    for (; i + 4 <= head_dim; i += 4) {
      v128_t o = wasm_f32x4_splat(0.0f);
      for (int32_t t = 0; t < n_pos; ++t) {
        const float* vt = v_pages[t / page_tokens] + (t % page_tokens) * kv_dim + kv_off + i;
        o = wasm_f32x4_add(o, wasm_f32x4_mul(wasm_f32x4_splat(scores[t]), wasm_v128_load(vt)));
      }
      wasm_v128_store(oh + i, o);
    }
    for (; i < head_dim; ++i) {
      float o = 0.0f;
      for (int32_t t = 0; t < n_pos; ++t) {
        o = o + scores[t] * v_pages[t / page_tokens][(t % page_tokens) * kv_dim + kv_off + i];
      }
      oh[i] = o;
    }
  }
}

}  // namespace slm::kernels::simd128

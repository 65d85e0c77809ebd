// The compute kernels of the forward pass, one table of function pointers per
// ISA (DESIGN.md principle 5). kernels/scalar is the specification: every other
// ISA (kernels/avx2, kernels/simd128, same function names) must produce the
// same bits, so the reduction orders below are part of the contract.
//
// Fixed reduction order ("8-lane order"), used by every dot product, matvec
// row, sum of squares and softmax sum:
//   acc[0..7] = +0; for i = 0, 8, 16, ... while i + 8 <= n:
//     acc[j] = acc[j] + a[i + j] * b[i + j]       (j = 0..7; product rounded, then sum)
//   tail (n % 8 elements at i): acc[j] = acc[j] + a[i + j] * b[i + j] for j < n % 8
//   result = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
// which is one 8-float AVX2 register (or two 4-float SIMD128 registers, lanes
// 0-3 and 4-7) reduced as: hi half + lo half, then movehl, then the last pair.
// No fused multiply-add anywhere (-ffp-contract=off).
//
// Elementwise formulas (each a fixed sequence of rounded IEEE operations):
//   rmsnorm:  inv = 1 / Sqrt(sumsq / n + eps); out[i] = w[i] * (x[i] * inv)
//   softmax:  m = max x; e[i] = Exp(x[i] - m); s = 8-lane sum of e; x[i] = e[i] / s
//   swiglu:   g[i] = (g[i] / (1 + Exp(-g[i]))) * u[i]
//   rope:     (a, b) -> (a * c - b * s, a * s + b * c) with c, s the cos/sin of
//             pos * theta^(-2j/D) for pair j (interleaved: (2j, 2j+1); half-split:
//             (j, j + D/2)).
//   attention (one position, per query head h, kv head h / (n_heads / n_kv_heads)):
//             score[t] = dot(q_h, k[t]) / Sqrt(head_dim) for t = 0..n_pos-1,
//             softmax(score), out_h[i] = sum over t ascending of score[t] * v[t][i]
//             (one running sum per i, starting from +0).
#pragma once

#include <cstdint>

#include "model/config.h"

namespace slm {

struct KernelTable {
  const char* name;  // "scalar", "avx2", "simd128"
  // 8-lane-order dot product of a[n] and b[n].
  float (*dot)(const float* a, const float* b, int32_t n);
  // y[out] = W[out, in] x[in], W row-major; each row is dot(W[r], x, in).
  void (*matvec)(float* y, const float* w, const float* x, int32_t out, int32_t in);
  // out[n] = rmsnorm(x[n]) * w[n]; out may alias x.
  void (*rmsnorm)(float* out, const float* x, const float* w, int32_t n, float eps);
  // In place on v[n_heads * head_dim]; cos_t/sin_t are [head_dim / 2] for this position.
  void (*rope)(float* v, int32_t n_heads, int32_t head_dim, const float* cos_t,
               const float* sin_t, RopeStyle style);
  // In place on x[n], n >= 1.
  void (*softmax)(float* x, int32_t n);
  // gate[n] = silu(gate[n]) * up[n].
  void (*swiglu)(float* gate, const float* up, int32_t n);
  // y[n] += x[n] (residual).
  void (*add)(float* y, const float* x, int32_t n);
  // out[n_heads * head_dim] = attention of q[n_heads * head_dim] over positions
  // 0..n_pos-1 of one layer's cache: k_cache/v_cache are [n_pos][kv_dim]
  // (row stride kv_dim = n_kv_heads * head_dim). scores is scratch [n_pos].
  void (*attention)(float* out, const float* q, const float* k_cache, const float* v_cache,
                    float* scores, int32_t n_pos, int32_t n_heads, int32_t n_kv_heads,
                    int32_t head_dim);
};

// The scalar reference table (always available).
const KernelTable& ScalarKernels();
// The table chosen once at first use: the best the CPU supports, or the one
// named by the environment variable SLM_KERNELS ("scalar"; unknown names fall
// back to the default and are reported by KernelSelectionNote()).
const KernelTable& Kernels();
// Why Kernels() chose what it chose (for diagnostics), e.g. "scalar (SLM_KERNELS=scalar)".
const char* KernelSelectionNote();

}  // namespace slm

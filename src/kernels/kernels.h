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
// Weight formats (rows of `in` values, layouts in quant/blocks.h):
//   f32, f16, bf16: each row is the 8-lane-order dot of the row (f16/bf16
//     widened exactly to f32) with f32 activations.
//   q8_0, q4_0 (32-value blocks), contract 2 (kKernelContract): the
//     activations are first quantized to ActQ8x32 blocks (below); for block b
//     of the row, with integer codes w (q8_0: qs; q4_0: nibble - 8) and
//     activation codes a:
//       p    = sum_{i=0..31} w[i] * a[i]                    (int32, exact)
//       s    = Fp16ToF32(w.d) * act.d                       (one rounded product)
//       acc  = acc + s * float(p)                           (acc from +0, b ascending)
//     result = acc. One integer per block (not 8 lanes) makes the float step
//     one scalar per (row, block, token), so an ISA vectorises it across rows:
//     16 rows per zmm after transposing 16 rows' blocks. Multi-token products
//     ran 2-4.6x faster than under contract 1's 8 float lanes per row and
//     block (bench/kernels/RESULTS.md, "Kernel contract 2").
//   q4_k, q6_k (256-value super-blocks): activations are ActQ8x256 blocks; for
//     super-block b, with 32-value chunks c = 0..7 and lane l = 0..7:
//       p[c][l] = sum_{i=0..3} v[32c + 4l + i] * a[32c + 4l + i]   (int32)
//       q4_k: v = 4-bit code, sub-block c has 6-bit scale sc[c] and min m[c]
//             L[l] = sum_c sc[c] * p[c][l];  M = sum_c m[c] * act.bsums[c]
//             acc[l] = acc[l] + (Fp16ToF32(d) * act.d) * float(L[l])
//             mins   = mins + (Fp16ToF32(dmin) * act.d) * float(M)
//       q6_k: v = 6-bit code - 32, 16-value sub-block k has int8 scale sc[k]
//             L[l] = sum_c sc[(32c + 4l) / 16] * p[c][l]
//             acc[l] = acc[l] + (Fp16ToF32(d) * act.d) * float(L[l])
//     result = Reduce8(acc) - mins (q4_k), Reduce8(acc) (q6_k).
//   Integer sums are exact, so an ISA may compute them in any order; only the
//   float steps above are fixed. kKernelContract names this set of formulas:
//   it is recorded in evidence, and it changes whenever a float step does.
//
// Activation quantization (ActQ8x32 per 32 values, ActQ8x256 per 256):
//   amax = max |x|; d = amax / 127; id = amax > 0 ? 127 / amax : 0
//   a[i] = RoundHalfEven(x[i] * id) (|.| <= 127); bsums[c] = sum of a over chunk c.
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
#include "model/tensor.h"

namespace slm {

// The version of the formulas above (1: q8_0 / q4_0 with 8 float lanes per
// row; 2: one integer per block). Logits are bit-identical across ISAs,
// builds and thread counts only within one contract.
inline constexpr int32_t kKernelContract = 2;

// Quantized activations (our own layouts, not ggml's: the scale is f32).
struct ActQ8x32 {
  float d;
  int8_t qs[32];
};
static_assert(sizeof(ActQ8x32) == 36);
struct ActQ8x256 {
  float d;
  int16_t bsums[8];  // sum of qs over each 32-value chunk
  int8_t qs[256];
};
static_assert(sizeof(ActQ8x256) == 276);

// The weight formats the matmul entries cover, in KernelTable::matmul order.
enum class WeightFormat : int32_t { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ4_K, kQ6_K, kCount };
// false for a dtype without a matmul (then *f is untouched).
bool WeightFormatOf(DType t, WeightFormat* f);
// What the activations of a format look like.
enum class ActFormat : int32_t { kF32, kQ8x32, kQ8x256 };
ActFormat ActFormatOf(WeightFormat f);
// Bytes of one activation vector of n values in `a` (n a multiple of the block).
int64_t ActBytes(ActFormat a, int32_t n);

// Y = W X for rows [r0, r1) of W and n_tok activation vectors:
//   y[t * y_stride + r] = row r of W . activation t     (t < n_tok, r0 <= r < r1)
// w: the whole matrix (row r at w + r * row_bytes, `in` values per row);
// x: activation t at x + t * x_stride bytes, in ActFormatOf(format).
// Results do not depend on r0/r1/n_tok: each output is the documented dot.
using MatMulFn = void (*)(float* y, int64_t y_stride, const uint8_t* w, const uint8_t* x,
                          int64_t x_stride, int32_t in, int32_t r0, int32_t r1, int32_t n_tok);
// x[n] -> n / block activation blocks at xq (ActBytes bytes).
using QuantizeActFn = void (*)(const float* x, uint8_t* xq, int32_t n);

struct KernelTable {
  const char* name;  // "scalar", "avx2", "simd128"
  // 8-lane-order dot product of a[n] and b[n].
  float (*dot)(const float* a, const float* b, int32_t n);
  // y[out] = W[out, in] x[in], W row-major f32; each row is dot(W[r], x, in).
  void (*matvec)(float* y, const float* w, const float* x, int32_t out, int32_t in);
  // out[n] = rmsnorm(x[n]) * w[n]; out may alias x.
  void (*rmsnorm)(float* out, const float* x, const float* w, int32_t n, float eps);
  // In place on v[n_heads * head_dim]; cos_t/sin_t are [head_dim / 2] for this position.
  void (*rope)(float* v, int32_t n_heads, int32_t head_dim, const float* cos_t, const float* sin_t,
               RopeStyle style);
  // In place on x[n], n >= 1.
  void (*softmax)(float* x, int32_t n);
  // gate[n] = silu(gate[n]) * up[n].
  void (*swiglu)(float* gate, const float* up, int32_t n);
  // y[n] += x[n] (residual).
  void (*add)(float* y, const float* x, int32_t n);
  // out[n_heads * head_dim] = attention of q[n_heads * head_dim] over positions
  // 0..n_pos-1 of one layer's paged cache (runtime/kv_cache.h): position t's
  // K row (n_kv_heads * head_dim floats) is at
  //   k_pages[t / page_tokens] + (t % page_tokens) * kv_stride
  // and its V row likewise in v_pages. A contiguous [n_pos][kv_stride] cache is
  // one page with page_tokens >= n_pos. The reduction order is the one above
  // (positions ascending), so the paging never changes a bit. Each head is
  // independent, so a caller may run kv heads g0..g1 alone: q and out offset by
  // g0 * group * head_dim, the page pointers by g0 * head_dim, n_kv_heads =
  // g1 - g0, kv_stride the cache's full row (Session splits decode this way
  // across threads). scores is scratch [n_pos].
  void (*attention)(float* out, const float* q, const float* const* k_pages,
                    const float* const* v_pages, int32_t page_tokens, float* scores, int32_t n_pos,
                    int32_t n_heads, int32_t n_kv_heads, int32_t head_dim, int32_t kv_stride);
  // Activation quantizers (n a multiple of 32 / 256).
  QuantizeActFn quantize_q8x32;
  QuantizeActFn quantize_q8x256;
  // Indexed by WeightFormat.
  MatMulFn matmul[static_cast<int>(WeightFormat::kCount)];
};

// The scalar reference table (always available).
const KernelTable& ScalarKernels();
// Every table this build and this CPU can run, scalar first (for tests).
int AvailableKernelTables(const KernelTable** out, int max);
// A table by name ("scalar", "avx2", "simd128"), nullptr if not built or not
// supported by this CPU.
const KernelTable* FindKernels(const char* name);
// The table chosen once at first use: the best the CPU supports (cpuid: AVX2 +
// FMA + F16C -> avx2; wasm builds: simd128), or the one named by the
// environment variable SLM_KERNELS. A name that is unknown or unsupported here
// falls back to the default and says so in KernelSelectionNote().
const KernelTable& Kernels();
// Why Kernels() chose what it chose (for diagnostics), e.g. "scalar (SLM_KERNELS=scalar)".
const char* KernelSelectionNote();

}  // namespace slm

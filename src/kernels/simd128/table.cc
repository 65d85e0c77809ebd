// The wasm SIMD128 kernel tables: simd128 (slm.wasm) and, in a build with
// -mrelaxed-simd (slm-relaxed.wasm), simd128r.
// Entries not vectorized here are the scalar twins themselves.
#include "kernels/scalar/scalar.h"
#include "kernels/simd128/simd128.h"

namespace slm {

const KernelTable& Simd128Kernels() {
  namespace v = kernels::simd128;
  namespace s = kernels::scalar;
  static const KernelTable kTable = {"simd128",
                                     v::Dot,
                                     v::Matvec,
                                     s::RmsNorm,
                                     s::Rope,
                                     s::Softmax,
                                     s::SwiGlu,
                                     s::Add,
                                     v::Attention,
                                     s::QuantizeQ8x32,
                                     s::QuantizeQ8x256,
                                     {v::MatMulF32, s::MatMulF16, s::MatMulBF16, v::MatMulQ8_0,
                                      v::MatMulQ4_0, v::MatMulQ4_K, v::MatMulQ6_K}};
  return kTable;
}

#if defined(__wasm_relaxed_simd__)
// slm-relaxed.wasm's table: simd128 with the relaxed-SIMD q8_0 / q4_0 / q4_k / q6_k products.
const KernelTable& Simd128RelaxedKernels() {
  KernelTable t = Simd128Kernels();
  t.name = "simd128r";
  t.matmul[static_cast<int>(WeightFormat::kQ8_0)] = kernels::simd128r::MatMulQ8_0;
  t.matmul[static_cast<int>(WeightFormat::kQ4_0)] = kernels::simd128r::MatMulQ4_0;
  t.matmul[static_cast<int>(WeightFormat::kQ4_K)] = kernels::simd128r::MatMulQ4_K;
  t.matmul[static_cast<int>(WeightFormat::kQ6_K)] = kernels::simd128r::MatMulQ6_K;
  static const KernelTable kTable = t;
  return kTable;
}
#endif

}  // namespace slm

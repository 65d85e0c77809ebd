// The wasm SIMD128 kernel table (the only vector table of a wasm build).
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
                                     s::Attention,
                                     s::QuantizeQ8x32,
                                     s::QuantizeQ8x256,
                                     {v::MatMulF32, s::MatMulF16, s::MatMulBF16, v::MatMulQ8_0,
                                      v::MatMulQ4_0, v::MatMulQ4_K, v::MatMulQ6_K}};
  return kTable;
}

}  // namespace slm

// The AVX2 kernel table (chosen by kernels/dispatch.cc when cpuid reports
// AVX2 + FMA + F16C). Entries not worth vectorizing are the scalar twins
// themselves, which keeps them bit-identical by construction.
#include "kernels/avx2/avx2.h"
#include "kernels/scalar/scalar.h"

namespace slm {

const KernelTable& Avx2Kernels() {
  namespace a = kernels::avx2;
  namespace s = kernels::scalar;
  static const KernelTable kTable = {"avx2",
                                     a::Dot,
                                     a::Matvec,
                                     a::RmsNorm,
                                     s::Rope,
                                     a::Softmax,
                                     a::SwiGlu,
                                     s::Add,
                                     a::Attention,
                                     a::QuantizeQ8x32,
                                     a::QuantizeQ8x256,
                                     {a::MatMulF32, a::MatMulF16, a::MatMulBF16, a::MatMulQ8_0,
                                      a::MatMulQ4_0, a::MatMulQ4_K, a::MatMulQ6_K}};
  return kTable;
}

}  // namespace slm

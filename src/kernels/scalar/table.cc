// The scalar kernel table: the reference every other table is tested against.
#include "kernels/scalar/scalar.h"

namespace slm {

const KernelTable& ScalarKernels() {
  namespace s = kernels::scalar;
  static const KernelTable kTable = {"scalar",
                                     s::Dot,
                                     s::Matvec,
                                     s::RmsNorm,
                                     s::Rope,
                                     s::Softmax,
                                     s::SwiGlu,
                                     s::Add,
                                     s::Attention,
                                     s::QuantizeQ8x32,
                                     s::QuantizeQ8x256,
                                     {s::MatMulF32, s::MatMulF16, s::MatMulBF16, s::MatMulQ8_0,
                                      s::MatMulQ4_0, s::MatMulQ4_K, s::MatMulQ6_K}};
  return kTable;
}

}  // namespace slm

// The AVX-512 VNNI kernel table (chosen by kernels/dispatch.cc when cpuid
// reports AVX-512 F/BW/DQ/VL/VNNI on top of the AVX2 requirements). Only the
// matmuls the kernel lab measured faster are AVX-512 (bench/kernels/
// vnni_lab.cc); every other entry is the AVX2 (or scalar) kernel itself, so it
// is bit-identical by construction.
#include "kernels/avx2/avx2.h"
#include "kernels/avx512/avx512.h"
#include "kernels/scalar/scalar.h"

namespace slm {

const KernelTable& Avx512Kernels() {
  namespace a = kernels::avx2;
  namespace v = kernels::avx512;
  namespace s = kernels::scalar;
  static const KernelTable kTable = {"avx512",
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
                                     {a::MatMulF32, a::MatMulF16, a::MatMulBF16, v::MatMulQ8_0,
                                      v::MatMulQ4_0, v::MatMulQ4_K, v::MatMulQ6_K}};
  return kTable;
}

}  // namespace slm

#include "quant/quant.h"

#include <cstring>

#include "base/status.h"
#include "quant/formats.h"

namespace slm::quant {
namespace {

// Bytes for n values of t, or 0 if t is unsupported or n does not fill whole
// blocks. Both are caller bugs: SLM_CHECK catches them in debug builds, and
// release builds then touch no memory at all rather than guess.
size_t RowBytes(DType t, size_t n) {
  uint64_t bytes = 0;
  const bool ok = IsSupported(t) && DTypeBytes(t, n, &bytes);
  SLM_CHECK(ok && "unsupported type, or n is not a multiple of the block size");
  return ok ? static_cast<size_t>(bytes) : 0;
}

}  // namespace

bool IsSupported(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ4_K:
    case DType::kQ6_K:
      return true;
  }
  return false;
}

size_t QuantizeRow(DType t, std::span<const float> src, std::span<uint8_t> dst) {
  const size_t n = src.size();
  const size_t bytes = RowBytes(t, n);
  SLM_CHECK(dst.size() >= bytes && "dst too small");
  if ((bytes == 0 && n != 0) || dst.size() < bytes) return 0;
  const float* x = src.data();
  uint8_t* out = dst.data();
  switch (t) {
    case DType::kF32:
      if (n) std::memcpy(out, x, n * sizeof(float));
      break;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToFp16(x[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToBf16(x[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    case DType::kQ8_0:
      internal::QuantizeQ8_0(x, n, out);
      break;
    case DType::kQ4_0:
      internal::QuantizeQ4_0(x, n, out);
      break;
    case DType::kQ4_K:
      internal::QuantizeQ4_K(x, n, out);
      break;
    case DType::kQ6_K:
      internal::QuantizeQ6_K(x, n, out);
      break;
  }
  return bytes;
}

size_t DequantizeRow(DType t, std::span<const uint8_t> src, std::span<float> dst) {
  const size_t n = dst.size();
  const size_t bytes = RowBytes(t, n);
  SLM_CHECK(src.size() >= bytes && "src too small");
  if ((bytes == 0 && n != 0) || src.size() < bytes) return 0;
  const uint8_t* in = src.data();
  float* y = dst.data();
  switch (t) {
    case DType::kF32:
      if (n) std::memcpy(y, in, n * sizeof(float));
      break;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, in + 2 * i, 2);
        y[i] = Fp16ToF32(h);
      }
      break;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, in + 2 * i, 2);
        y[i] = Bf16ToF32(h);
      }
      break;
    case DType::kQ8_0:
      internal::DequantizeQ8_0(in, n, y);
      break;
    case DType::kQ4_0:
      internal::DequantizeQ4_0(in, n, y);
      break;
    case DType::kQ4_K:
      internal::DequantizeQ4_K(in, n, y);
      break;
    case DType::kQ6_K:
      internal::DequantizeQ6_K(in, n, y);
      break;
  }
  return bytes;
}

// Budgets on N(0,1) rows (RMSE/RMS, max-abs/max-|x|); measured worst cases
// over tests/unit/quant_test.cc's rows are in README.md. RMSE bounds leave
// ~25% headroom over the worst measurement; the max-abs bounds of Q8_0 and
// Q4_0 are proofs: per block |err| <= d/2 + 127|d16 - d| <= amax(1/254 +
// 2^-11) for Q8_0, and <= d(1 + 2^-10) = amax/8 (1 + 2^-10) for Q4_0 (the
// value opposite the signed max can need code 16, clamped to 15).
ErrorBudget BudgetFor(DType t) {
  switch (t) {
    case DType::kF32:
      return {0.0, 0.0};
    case DType::kF16:
      return {3.0e-4, 4.9e-4};  // 2^-11 relative rounding
    case DType::kBF16:
      return {2.4e-3, 3.9e-3};  // 2^-8 relative rounding
    case DType::kQ8_0:
      return {0.0075, 0.0045};
    case DType::kQ4_0:
      return {0.12, 0.1252};
    case DType::kQ4_K:
      return {0.10, 0.09};
    case DType::kQ6_K:
      return {0.024, 0.021};
  }
  return {0.0, 0.0};
}

}  // namespace slm::quant

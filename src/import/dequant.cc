#include "import/dequant.h"

#include <cstring>

#include "quant/quant.h"

namespace slm {

float F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // 112 = 127 - 15
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    // Subnormal: shift the mantissa up until its leading 1 is implicit.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    bits = sign | static_cast<uint32_t>(112 - e) << 23 | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float Bf16ToF32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

Status DequantizeToF32(DType t, std::span<const uint8_t> bytes, uint64_t n, std::vector<float>* out) {
  uint64_t need = 0;
  if (!DTypeBytes(t, n, &need) || need != bytes.size()) {
    return FormatError(std::string("dequantize ") + DTypeName(t) + ": " +
                       std::to_string(bytes.size()) + " bytes do not hold " + std::to_string(n) +
                       " values");
  }
  out->resize(n);
  float* y = out->data();
  const uint8_t* p = bytes.data();
  auto u16 = [](const uint8_t* q) { return static_cast<uint16_t>(q[0] | (q[1] << 8)); };
  switch (t) {
    case DType::kF32:
      std::memcpy(y, p, n * 4);
      return Status::Ok();
    case DType::kF16:
      for (uint64_t i = 0; i < n; ++i) y[i] = F16ToF32(u16(p + 2 * i));
      return Status::Ok();
    case DType::kBF16:
      for (uint64_t i = 0; i < n; ++i) y[i] = Bf16ToF32(u16(p + 2 * i));
      return Status::Ok();
    case DType::kQ8_0:
      for (uint64_t b = 0; b < n / 32; ++b, p += 34, y += 32) {
        const float d = F16ToF32(u16(p));
        for (int j = 0; j < 32; ++j) y[j] = d * static_cast<float>(static_cast<int8_t>(p[2 + j]));
      }
      return Status::Ok();
    case DType::kQ4_0:
      for (uint64_t b = 0; b < n / 32; ++b, p += 18, y += 32) {
        const float d = F16ToF32(u16(p));
        for (int j = 0; j < 16; ++j) {
          y[j] = d * static_cast<float>((p[2 + j] & 0xf) - 8);
          y[j + 16] = d * static_cast<float>((p[2 + j] >> 4) - 8);
        }
      }
      return Status::Ok();
    case DType::kQ4_K:
    case DType::kQ6_K:
      // Super-block formats: src/quant holds the reference decoder.
      quant::DequantizeRow(t, bytes, std::span<float>(y, n));
      return Status::Ok();
    default:
      return Unsupported(std::string("dequantizing ") + DTypeName(t) + " is not implemented");
  }
}

}  // namespace slm

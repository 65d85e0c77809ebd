// Import-side decoding to f32: a size-checked front for src/quant, which holds
// the one reference decoder per format.
#include "import/dequant.h"

#include "quant/fp16.h"
#include "quant/quant.h"

namespace slm {

float F16ToF32(uint16_t h) { return quant::Fp16ToF32(h); }

float Bf16ToF32(uint16_t h) { return quant::Bf16ToF32(h); }

Status DequantizeToF32(DType t, std::span<const uint8_t> bytes, uint64_t n, std::vector<float>* out) {
  uint64_t need = 0;
  if (!DTypeBytes(t, n, &need) || need != bytes.size()) {
    return FormatError(std::string("dequantize ") + DTypeName(t) + ": " +
                       std::to_string(bytes.size()) + " bytes do not hold " + std::to_string(n) +
                       " values");
  }
  if (!quant::IsSupported(t)) {
    return Unsupported(std::string("dequantizing ") + DTypeName(t) + " is not implemented");
  }
  out->resize(n);
  if (n > 0) quant::DequantizeRow(t, bytes, std::span<float>(out->data(), n));
  return Status::Ok();
}

}  // namespace slm

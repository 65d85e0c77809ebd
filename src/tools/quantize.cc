#include "tools/quantize.h"

#include <cctype>
#include <cstring>

#include "quant/quant.h"

namespace slm::tools {
namespace {

struct SchemeName {
  QuantScheme scheme;
  const char* name;
};
constexpr SchemeName kSchemes[] = {
    {QuantScheme::kF32, "f32"},   {QuantScheme::kQ8_0, "q8_0"}, {QuantScheme::kQ4_0, "q4_0"},
    {QuantScheme::kQ4_K, "q4_k"}, {QuantScheme::kQ6_K, "q6_k"}, {QuantScheme::kMixed, "mixed"},
};

// llama.cpp's use_more_bits (llama-quant.cpp).
bool UseMoreBits(int32_t i, int32_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// "blk.12.ffn_down.weight" -> 12 (and the suffix after it); -1 if not a layer tensor.
int32_t LayerIndex(const std::string& name, std::string* rest) {
  if (name.rfind("blk.", 0) != 0) return -1;
  size_t dot = name.find('.', 4);
  if (dot == std::string::npos || dot == 4) return -1;
  int32_t v = 0;
  for (size_t i = 4; i < dot; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i])) || v > 100000) return -1;
    v = v * 10 + (name[i] - '0');
  }
  *rest = name.substr(dot + 1);
  return v;
}

DType Preferred(const ModelConfig& c, const std::string& name, QuantScheme s, std::string* why) {
  switch (s) {
    case QuantScheme::kF32: return DType::kF32;
    case QuantScheme::kQ8_0: return DType::kQ8_0;
    case QuantScheme::kQ4_0: return DType::kQ4_0;
    case QuantScheme::kQ4_K: return DType::kQ4_K;
    case QuantScheme::kQ6_K: return DType::kQ6_K;
    case QuantScheme::kMixed: break;
  }
  if (name == "output.weight" || name == "token_embd.weight") {
    if (why) *why = "mixed: embeddings/output at q6_k";
    return DType::kQ6_K;
  }
  std::string rest;
  int32_t layer = LayerIndex(name, &rest);
  if (layer >= 0 && (rest == "attn_v.weight" || rest == "ffn_down.weight")) {
    if (UseMoreBits(layer, c.n_layers)) {
      if (why) *why = "mixed: use_more_bits(" + std::to_string(layer) + ") -> q6_k";
      return DType::kQ6_K;
    }
  }
  return DType::kQ4_K;
}

uint32_t BlockSize(DType t) {
  DTypeInfo info{};
  GetDTypeInfo(static_cast<uint32_t>(t), &info);
  return info.block_size;
}

}  // namespace

bool ParseQuantScheme(const std::string& s, QuantScheme* out) {
  std::string lower;
  for (char ch : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const SchemeName& n : kSchemes) {
    if (lower == n.name) {
      *out = n.scheme;
      return true;
    }
  }
  return false;
}

const char* QuantSchemeName(QuantScheme s) {
  for (const SchemeName& n : kSchemes) {
    if (n.scheme == s) return n.name;
  }
  return "?";
}

DType ChooseTensorType(const ModelConfig& c, const std::string& name,
                       std::span<const int64_t> shape, QuantScheme s, std::string* why) {
  if (why) why->clear();
  if (shape.size() < 2) return DType::kF32;
  DType t = Preferred(c, name, s, why);
  if (t == DType::kF32) return t;
  const int64_t in = shape.back();
  if (in % BlockSize(t) != 0) {
    DType fb = t == DType::kQ4_K ? DType::kQ4_0 : t == DType::kQ6_K ? DType::kQ8_0 : DType::kF32;
    if (fb != DType::kF32 && in % BlockSize(fb) != 0) fb = DType::kF32;
    if (why) {
      *why = (why->empty() ? "" : *why + "; ") + "row " + std::to_string(in) +
             " is not a multiple of " + std::to_string(BlockSize(t)) +
             (fb == DType::kF32 && BlockSize(t) != 32 ? " (nor of 32)" : "") + ": " +
             DTypeName(t) + " -> " + DTypeName(fb);
    }
    t = fb;
  }
  return t;
}

StatusOr<std::vector<uint8_t>> EncodeTensor(DType t, std::span<const float> values,
                                            std::span<const int64_t> shape) {
  uint64_t n = 0, bytes = 0;
  if (!ShapeElements(shape, &n) || n != values.size()) {
    return InvalidArgument("tensor of shape " + ShapeString(shape) + " given " +
                           std::to_string(values.size()) + " values");
  }
  const uint64_t row = shape.empty() ? n : static_cast<uint64_t>(shape.back());
  if (!quant::IsSupported(t) || row == 0 || !DTypeBytes(t, row, &bytes) ||
      !DTypeBytes(t, n, &bytes)) {
    return InvalidArgument(std::string("cannot encode rows of ") + std::to_string(row) + " as " +
                           DTypeName(t));
  }
  std::vector<uint8_t> out(bytes);
  uint64_t row_bytes = 0;
  DTypeBytes(t, row, &row_bytes);
  for (uint64_t r = 0; r < n / row; ++r) {
    quant::QuantizeRow(t, values.subspan(r * row, row),
                       std::span<uint8_t>(out.data() + r * row_bytes, row_bytes));
  }
  return out;
}

StatusOr<std::vector<float>> DecodeTensor(const TensorData& t) {
  uint64_t n = 0, bytes = 0;
  if (!ShapeElements(t.shape, &n) || !DTypeBytes(t.dtype, n, &bytes) ||
      bytes != t.bytes().size() || !quant::IsSupported(t.dtype)) {
    return FormatError("tensor '" + t.name + "' (" + DTypeName(t.dtype) + ", " +
                       ShapeString(t.shape) + "): cannot decode " +
                       std::to_string(t.bytes().size()) + " bytes");
  }
  std::vector<float> out(n);
  if (n > 0) quant::DequantizeRow(t.dtype, t.bytes(), out);
  return out;
}

StatusOr<std::vector<TensorData>> DequantizeTensors(const std::vector<TensorData>& in) {
  std::vector<TensorData> out;
  out.reserve(in.size());
  for (const TensorData& t : in) {
    TensorData d;
    d.name = t.name;
    d.shape = t.shape;
    d.dtype = DType::kF32;
    if (t.dtype == DType::kF32) {
      d.view = t.bytes();
    } else {
      SLM_ASSIGN_OR_RETURN(std::vector<float> f, DecodeTensor(t));
      d.owned.resize(f.size() * sizeof(float));
      if (!f.empty()) std::memcpy(d.owned.data(), f.data(), d.owned.size());
    }
    out.push_back(std::move(d));
  }
  return out;
}

StatusOr<ModelBundle> QuantizeBundle(const ModelBundle& in, QuantScheme s,
                                     const std::string& input_digest, const std::string& input_name,
                                     std::vector<TensorPlan>* plan) {
  ModelBundle out;
  out.config = in.config;
  out.tokenizer = in.tokenizer;
  out.metadata = in.metadata;
  if (plan) plan->clear();
  for (const TensorData& t : in.tensors) {
    TensorPlan p;
    p.name = t.name;
    p.shape = t.shape;
    p.from = t.dtype;
    p.to = ChooseTensorType(in.config, t.name, t.shape, s, &p.why);
    p.bytes_in = t.bytes().size();
    TensorData q;
    q.name = t.name;
    q.shape = t.shape;
    q.dtype = p.to;
    if (p.to == t.dtype) {
      q.view = t.bytes();  // already the target type: no second rounding
    } else {
      SLM_ASSIGN_OR_RETURN(std::vector<float> f, DecodeTensor(t));
      auto enc = EncodeTensor(p.to, f, t.shape);
      if (!enc.ok()) return enc.status().WithContext("tensor '" + t.name + "': ");
      q.owned = std::move(enc).value();
    }
    p.bytes_out = q.bytes().size();
    out.tensors.push_back(std::move(q));
    if (plan) plan->push_back(std::move(p));
  }
  out.provenance = in.provenance;
  out.provenance.source_format = "slm";
  out.provenance.source_path = input_name;
  out.provenance.source_sha256 = input_digest;
  out.provenance.notes = "quantized from " + input_digest + " with --type " + QuantSchemeName(s);
  return out;
}

}  // namespace slm::tools

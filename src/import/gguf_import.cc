#include "import/gguf_import.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "base/sha256.h"
#include "import/dequant.h"
#include "package/model_tensors.h"
#include "tokenizer/load.h"

namespace slm {
namespace {

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Reads an integer hyperparameter into an int32 field, with a range check.
Status GetI32(const GgufFile& g, const std::string& key, int32_t* out, bool required) {
  auto v = g.GetInt(key);
  if (!v.ok()) {
    if (!required && v.status().code() == StatusCode::kNotFound) return Status::Ok();
    return v.status();
  }
  if (*v <= 0 || *v > INT32_MAX) {
    return FormatError(g.path() + ": key '" + key + "' = " + std::to_string(*v) +
                       " is out of range");
  }
  *out = static_cast<int32_t>(*v);
  return Status::Ok();
}

Status GetF32(const GgufFile& g, const std::string& key, float* out) {
  auto v = g.GetFloat(key);
  if (!v.ok()) return v.status().code() == StatusCode::kNotFound ? Status::Ok() : v.status();
  *out = static_cast<float>(*v);
  return Status::Ok();
}

}  // namespace

StatusOr<ModelBundle> ImportGguf(const std::string& path) {
  SLM_ASSIGN_OR_RETURN(auto g, GgufFile::Open(path));
  return ImportGgufFile(std::move(g));
}

StatusOr<ModelBundle> ImportGgufFile(std::unique_ptr<GgufFile> g) {
  const std::string path = g->path();
  ModelBundle b;
  ModelConfig& c = b.config;
  SLM_ASSIGN_OR_RETURN(std::string arch, g->GetString("general.architecture"));
  if (arch != "llama" && arch != "qwen2") {
    return Unsupported(path + ": general.architecture '" + arch +
                       "' is not supported (llama, qwen2 are)");
  }
  if (auto type = g->GetString("general.type"); type.ok() && *type != "model") {
    return Unsupported(path + ": general.type '" + *type + "', expected 'model'");
  }
  c.arch = arch;
  const std::string p = arch + ".";
  SLM_RETURN_IF_ERROR(GetI32(*g, p + "embedding_length", &c.dim, true));
  SLM_RETURN_IF_ERROR(GetI32(*g, p + "feed_forward_length", &c.hidden_dim, true));
  SLM_RETURN_IF_ERROR(GetI32(*g, p + "block_count", &c.n_layers, true));
  SLM_RETURN_IF_ERROR(GetI32(*g, p + "attention.head_count", &c.n_heads, true));
  c.n_kv_heads = c.n_heads;
  SLM_RETURN_IF_ERROR(GetI32(*g, p + "attention.head_count_kv", &c.n_kv_heads, false));
  SLM_RETURN_IF_ERROR(GetI32(*g, p + "context_length", &c.max_seq_len, true));
  SLM_RETURN_IF_ERROR(GetF32(*g, p + "attention.layer_norm_rms_epsilon", &c.norm_eps));
  SLM_RETURN_IF_ERROR(GetF32(*g, p + "rope.freq_base", &c.rope_theta));
  c.head_dim = c.n_heads > 0 ? c.dim / c.n_heads : 0;
  SLM_RETURN_IF_ERROR(GetI32(*g, p + "attention.key_length", &c.head_dim, false));
  int32_t value_len = c.head_dim, rope_dims = c.head_dim;
  SLM_RETURN_IF_ERROR(GetI32(*g, p + "attention.value_length", &value_len, false));
  SLM_RETURN_IF_ERROR(GetI32(*g, p + "rope.dimension_count", &rope_dims, false));
  if (value_len != c.head_dim) {
    return Unsupported(path + ": attention.value_length " + std::to_string(value_len) +
                       " differs from key_length " + std::to_string(c.head_dim));
  }
  if (rope_dims != c.head_dim) {
    return Unsupported(path + ": rope.dimension_count " + std::to_string(rope_dims) +
                       " != head_dim " + std::to_string(c.head_dim) +
                       " (partial rotary embeddings are not supported)");
  }
  if (g->Find(p + "rope.scaling.type") || g->Find(p + "rope.scaling.factor")) {
    auto type = g->GetString(p + "rope.scaling.type");
    if (!type.ok() || *type != "none") {
      return Unsupported(path + ": RoPE scaling (" + p + "rope.scaling.*) is not supported");
    }
  }
  c.rope_style = arch == "qwen2" ? RopeStyle::kHalfSplit : RopeStyle::kInterleaved;
  c.qkv_bias = arch == "qwen2";

  SLM_ASSIGN_OR_RETURN(const std::vector<std::string>* tokens,
                       g->GetStringArray("tokenizer.ggml.tokens"));
  if (tokens->size() > static_cast<size_t>(INT32_MAX)) return FormatError(path + ": too many tokens");
  c.vocab_size = static_cast<int32_t>(tokens->size());
  bool has_output = false;
  for (const GgufTensorInfo& ti : g->tensors()) has_output |= ti.name == "output.weight";
  c.tied_output = !has_output;
  if (Status s = c.Validate(); !s.ok()) return s.WithContext(path + ": ");

  auto tok = TokenizerFromGguf(*g);
  if (!tok.ok()) return tok.status();
  b.tokenizer = std::move(tok).value();

  // Tensors: weight matrices keep their stored type and bytes (a view, no
  // copy, no re-quantization): the runtime multiplies f16/bf16/q8_0/q4_0/q4_k/
  // q6_k in place. Norms and biases (1-D), and matrices whose rows are not
  // whole blocks, are decoded to f32, and the notes say which types were.
  std::set<std::string> converted;
  for (const GgufTensorInfo& ti : g->tensors()) {
    if (ti.name == "rope_freqs.weight") {
      return Unsupported(path + ": tensor 'rope_freqs.weight': per-dimension RoPE frequency "
                         "scaling (Llama 3.1 style) is not supported");
    }
    TensorData t;
    t.name = ti.name;
    t.shape.assign(ti.ne.rbegin(), ti.ne.rend());
    const DType type = static_cast<DType>(ti.ggml_type);
    DTypeInfo info;
    GetDTypeInfo(ti.ggml_type, &info);  // checked by the GGUF reader
    const bool keep = type == DType::kF32 ||
                      (ti.ne.size() >= 2 && ti.ne[0] % info.block_size == 0);
    if (keep) {
      t.dtype = type;
      t.view = ti.data;
    } else {
      uint64_t n = 0;
      ShapeElements(t.shape, &n);  // checked by the GGUF reader
      std::vector<float> f;
      Status s = DequantizeToF32(type, ti.data, n, &f);
      if (!s.ok()) return s.WithContext(path + ": tensor '" + ti.name + "': ");
      t.dtype = DType::kF32;
      t.owned.resize(f.size() * 4);
      if (!f.empty()) std::memcpy(t.owned.data(), f.data(), t.owned.size());  // 0-element tensor: no copy
      converted.insert(DTypeName(type));
    }
    b.tensors.push_back(std::move(t));
  }
  SortModelTensors(c, &b.tensors);
  if (Status s = CheckModelTensors(c, b.tensors); !s.ok()) return s.WithContext(path + ": ");

  b.provenance.source_format = "gguf";
  b.provenance.source_path = BaseName(path);
  b.provenance.source_sha256 = DigestHex(Sha256Of(g->bytes()));
  if (!converted.empty()) {
    std::string list;
    for (const std::string& n : converted) {
      if (!list.empty()) list += ", ";
      list += n;
    }
    b.provenance.notes = list + " norm/bias tensors (or rows not whole blocks) dequantized to f32 on import";
  }
  if (auto name = g->GetString("general.name"); name.ok()) b.metadata["general.name"] = *name;
  b.keep_alive.push_back(g->ReleaseFile());
  return b;
}

}  // namespace slm

#include "package/model_tensors.h"

#include <algorithm>
#include <map>
#include <string_view>

namespace slm {

std::vector<ExpectedTensor> ExpectedModelTensors(const ModelConfig& c) {
  const int64_t dim = c.dim, hidden = c.hidden_dim, vocab = c.vocab_size;
  const int64_t q_dim = c.q_dim(), kv_dim = c.kv_dim();
  std::vector<ExpectedTensor> out;
  out.push_back({"token_embd.weight", {vocab, dim}});
  for (int32_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    out.push_back({p + "attn_norm.weight", {dim}});
    out.push_back({p + "attn_q.weight", {q_dim, dim}});
    out.push_back({p + "attn_k.weight", {kv_dim, dim}});
    out.push_back({p + "attn_v.weight", {kv_dim, dim}});
    if (c.qkv_bias) {
      out.push_back({p + "attn_q.bias", {q_dim}});
      out.push_back({p + "attn_k.bias", {kv_dim}});
      out.push_back({p + "attn_v.bias", {kv_dim}});
    }
    out.push_back({p + "attn_output.weight", {dim, q_dim}});
    out.push_back({p + "ffn_norm.weight", {dim}});
    out.push_back({p + "ffn_gate.weight", {hidden, dim}});
    out.push_back({p + "ffn_up.weight", {hidden, dim}});
    out.push_back({p + "ffn_down.weight", {dim, hidden}});
  }
  out.push_back({"output_norm.weight", {dim}});
  if (!c.tied_output) out.push_back({"output.weight", {vocab, dim}});
  return out;
}

void SortModelTensors(const ModelConfig& c, std::vector<TensorData>* tensors) {
  std::map<std::string, size_t> rank;
  for (const ExpectedTensor& e : ExpectedModelTensors(c)) rank.emplace(e.name, rank.size());
  auto key = [&](const TensorData& t) {
    auto it = rank.find(t.name);
    return it == rank.end() ? rank.size() : it->second;
  };
  std::stable_sort(tensors->begin(), tensors->end(),
                   [&](const TensorData& a, const TensorData& b) { return key(a) < key(b); });
}

Status CheckModelTensors(const ModelConfig& c, const std::vector<TensorData>& tensors) {
  std::map<std::string_view, const TensorData*> by_name;
  for (const TensorData& t : tensors) {
    if (!by_name.emplace(t.name, &t).second) {
      return FormatError("tensor '" + t.name + "' appears twice");
    }
  }
  std::map<std::string_view, bool> expected_names;
  for (const ExpectedTensor& e : ExpectedModelTensors(c)) {
    auto it = by_name.find(e.name);
    if (it == by_name.end()) {
      return NotFound("missing tensor '" + e.name + "' (expected shape " + ShapeString(e.shape) +
                      ")");
    }
    const TensorData& t = *it->second;
    if (t.shape != e.shape) {
      return FormatError("tensor '" + e.name + "': expected shape " + ShapeString(e.shape) +
                         ", found " + ShapeString(t.shape));
    }
    DTypeInfo info;
    if (!GetDTypeInfo(static_cast<uint32_t>(t.dtype), &info)) {
      return Unsupported("tensor '" + e.name + "': unknown dtype " +
                         std::to_string(static_cast<uint32_t>(t.dtype)));
    }
    uint64_t n = 0, bytes = 0;
    if (!ShapeElements(t.shape, &n) || !DTypeBytes(t.dtype, n, &bytes) ||
        bytes != t.bytes().size()) {
      return FormatError("tensor '" + e.name + "': " + std::to_string(t.bytes().size()) +
                         " bytes of data, expected " + std::to_string(bytes) + " for " +
                         info.name + " " + ShapeString(t.shape));
    }
    expected_names[it->first] = true;
  }
  for (const TensorData& t : tensors) {
    if (!expected_names.count(t.name)) {
      return FormatError("unexpected tensor '" + t.name + "' " + ShapeString(t.shape) +
                         (t.name == "output.weight" ? " (config says tied_output)" : "") +
                         " for this model config");
    }
  }
  return Status::Ok();
}

}  // namespace slm

#include "runtime/model.h"

#include <cstdint>
#include <map>
#include <string>

#include "base/byte_reader.h"

namespace slm {
namespace {

class TensorIndex {
 public:
  explicit TensorIndex(const std::vector<TensorData>& tensors) {
    for (const TensorData& t : tensors) by_name_.emplace(t.name, &t);
  }
  // Finds `name`, checks it is f32 with exactly `shape` and aligned, and
  // returns its data.
  Status Get(const std::string& name, std::vector<int64_t> shape, const float** out) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return NotFound("model is missing tensor " + name);
    const TensorData& t = *it->second;
    if (t.dtype != DType::kF32) {
      return Unsupported("tensor " + name + " is " + DTypeName(t.dtype) +
                         "; this build's forward pass needs f32");
    }
    if (t.shape != shape) {
      return FormatError("tensor " + name + " has shape " + ShapeString(t.shape) + ", expected " +
                         ShapeString(shape));
    }
    uint64_t n = 0, bytes = 0;
    if (!ShapeElements(shape, &n) || !CheckedMul(n, 4, &bytes)) {
      return FormatError("tensor " + name + ": shape " + ShapeString(shape) + " overflows");
    }
    std::span<const uint8_t> data = t.bytes();
    if (data.size() != bytes) {
      return FormatError("tensor " + name + " holds " + std::to_string(data.size()) +
                         " bytes, expected " + std::to_string(bytes) + " for f32 " +
                         ShapeString(shape));
    }
    if (reinterpret_cast<uintptr_t>(data.data()) % alignof(float) != 0) {
      return Unsupported("tensor " + name + " is not 4-byte aligned in memory");
    }
    *out = reinterpret_cast<const float*>(data.data());
    return Status::Ok();
  }

 private:
  std::map<std::string, const TensorData*> by_name_;
};

}  // namespace

StatusOr<std::unique_ptr<Model>> Model::Create(const ModelConfig& c,
                                               const std::vector<TensorData>& tensors) {
  SLM_RETURN_IF_ERROR(c.Validate());
  std::unique_ptr<Model> m(new Model());
  m->config_ = c;
  const int64_t dim = c.dim, hidden = c.hidden_dim, vocab = c.vocab_size, q_dim = c.q_dim(),
                kv_dim = c.kv_dim();
  TensorIndex index(tensors);
  SLM_RETURN_IF_ERROR(index.Get("token_embd.weight", {vocab, dim}, &m->token_embd_));
  SLM_RETURN_IF_ERROR(index.Get("output_norm.weight", {dim}, &m->output_norm_));
  if (c.tied_output) {
    m->output_ = m->token_embd_;
  } else {
    SLM_RETURN_IF_ERROR(index.Get("output.weight", {vocab, dim}, &m->output_));
  }
  m->layers_.resize(static_cast<size_t>(c.n_layers));
  for (int32_t l = 0; l < c.n_layers; ++l) {
    LayerWeights& w = m->layers_[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    SLM_RETURN_IF_ERROR(index.Get(p + "attn_norm.weight", {dim}, &w.attn_norm));
    SLM_RETURN_IF_ERROR(index.Get(p + "attn_q.weight", {q_dim, dim}, &w.wq));
    SLM_RETURN_IF_ERROR(index.Get(p + "attn_k.weight", {kv_dim, dim}, &w.wk));
    SLM_RETURN_IF_ERROR(index.Get(p + "attn_v.weight", {kv_dim, dim}, &w.wv));
    if (c.qkv_bias) {
      SLM_RETURN_IF_ERROR(index.Get(p + "attn_q.bias", {q_dim}, &w.bq));
      SLM_RETURN_IF_ERROR(index.Get(p + "attn_k.bias", {kv_dim}, &w.bk));
      SLM_RETURN_IF_ERROR(index.Get(p + "attn_v.bias", {kv_dim}, &w.bv));
    }
    SLM_RETURN_IF_ERROR(index.Get(p + "attn_output.weight", {dim, q_dim}, &w.wo));
    SLM_RETURN_IF_ERROR(index.Get(p + "ffn_norm.weight", {dim}, &w.ffn_norm));
    SLM_RETURN_IF_ERROR(index.Get(p + "ffn_gate.weight", {hidden, dim}, &w.w_gate));
    SLM_RETURN_IF_ERROR(index.Get(p + "ffn_up.weight", {hidden, dim}, &w.w_up));
    SLM_RETURN_IF_ERROR(index.Get(p + "ffn_down.weight", {dim, hidden}, &w.w_down));
  }
  return m;
}

}  // namespace slm

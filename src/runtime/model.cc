#include "runtime/model.h"

#include <cstdint>
#include <map>
#include <string>

#include "base/byte_reader.h"
#include "quant/quant.h"

namespace slm {
namespace {

class TensorIndex {
 public:
  explicit TensorIndex(const std::vector<TensorData>& tensors) {
    for (const TensorData& t : tensors) by_name_.emplace(t.name, &t);
  }

  // A 1-D (norm, bias) tensor: f32, exactly `shape`, 4-byte aligned.
  Status Get(const std::string& name, std::vector<int64_t> shape, const float** out) const {
    const TensorData* t = nullptr;
    SLM_RETURN_IF_ERROR(Find(name, shape, &t));
    if (t->dtype != DType::kF32) {
      return Unsupported("tensor " + name + " is " + DTypeName(t->dtype) +
                         "; the forward pass needs f32 for norms and biases");
    }
    SLM_RETURN_IF_ERROR(CheckBytes(*t, 4));
    *out = reinterpret_cast<const float*>(t->bytes().data());
    return Status::Ok();
  }

  // A [rows, cols] matrix in any kernel format.
  Status Get(const std::string& name, std::vector<int64_t> shape, WeightView* out) const {
    const TensorData* t = nullptr;
    SLM_RETURN_IF_ERROR(Find(name, shape, &t));
    WeightFormat f;
    if (!WeightFormatOf(t->dtype, &f)) {
      return Unsupported("tensor " + name + " is " + DTypeName(t->dtype) +
                         "; the forward pass multiplies f32, f16, bf16, q8_0, q4_0, q4_k, q6_k");
    }
    const uint32_t align = t->dtype == DType::kF32                                 ? 4
                           : (t->dtype == DType::kF16 || t->dtype == DType::kBF16) ? 2
                                                                                   : 1;
    SLM_RETURN_IF_ERROR(CheckBytes(*t, align));
    uint64_t row_bytes = 0;
    DTypeBytes(t->dtype, static_cast<uint64_t>(shape[1]), &row_bytes);  // checked by CheckBytes
    *out = WeightView{t->dtype,
                      f,
                      t->bytes().data(),
                      static_cast<int32_t>(shape[0]),
                      static_cast<int32_t>(shape[1]),
                      static_cast<int64_t>(row_bytes)};
    return Status::Ok();
  }

 private:
  Status Find(const std::string& name, const std::vector<int64_t>& shape,
              const TensorData** out) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return NotFound("model is missing tensor " + name);
    if (it->second->shape != shape) {
      return FormatError("tensor " + name + " has shape " + ShapeString(it->second->shape) +
                         ", expected " + ShapeString(shape));
    }
    *out = it->second;
    return Status::Ok();
  }

  // The byte size must match shape and dtype (rows whole blocks); data aligned.
  static Status CheckBytes(const TensorData& t, uint32_t align) {
    const std::string& name = t.name;
    uint64_t n = 0, bytes = 0, row_bytes = 0;
    if (!ShapeElements(t.shape, &n) || !DTypeBytes(t.dtype, n, &bytes) ||
        !DTypeBytes(t.dtype, static_cast<uint64_t>(t.shape.back()), &row_bytes)) {
      return FormatError("tensor " + name + ": shape " + ShapeString(t.shape) + " is not whole " +
                         DTypeName(t.dtype) + " rows or overflows");
    }
    std::span<const uint8_t> data = t.bytes();
    if (data.size() != bytes) {
      return FormatError("tensor " + name + " holds " + std::to_string(data.size()) +
                         " bytes, expected " + std::to_string(bytes) + " for " +
                         DTypeName(t.dtype) + " " + ShapeString(t.shape));
    }
    if (reinterpret_cast<uintptr_t>(data.data()) % align != 0) {
      return Unsupported("tensor " + name + " is not " + std::to_string(align) +
                         "-byte aligned in memory");
    }
    return Status::Ok();
  }

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

void Model::Embed(int32_t id, float* out) const {
  const WeightView& e = token_embd_;
  quant::DequantizeRow(e.dtype, {e.data + id * e.row_bytes, static_cast<size_t>(e.row_bytes)},
                       {out, static_cast<size_t>(e.cols)});
}

}  // namespace slm

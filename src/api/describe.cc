#include "api/describe.h"

#include "base/json.h"
#include "model/tensor.h"

namespace slm::api {

namespace {

JsonValue Str(const std::string& s) { return JsonValue::String(s); }
JsonValue Num(double d) { return JsonValue::Number(d); }

JsonValue ConfigJson(const ModelConfig& c) {
  JsonValue o = JsonValue::Object();
  o.Set("arch", Str(c.arch));
  o.Set("dim", Num(c.dim));
  o.Set("hidden_dim", Num(c.hidden_dim));
  o.Set("n_layers", Num(c.n_layers));
  o.Set("n_heads", Num(c.n_heads));
  o.Set("n_kv_heads", Num(c.n_kv_heads));
  o.Set("head_dim", Num(c.head_dim));
  o.Set("vocab_size", Num(c.vocab_size));
  o.Set("max_seq_len", Num(c.max_seq_len));
  o.Set("norm_eps", Num(c.norm_eps));
  o.Set("rope_theta", Num(c.rope_theta));
  o.Set("rope_style", Str(c.rope_style == RopeStyle::kInterleaved ? "interleaved" : "half-split"));
  o.Set("tied_output", JsonValue::Bool(c.tied_output));
  o.Set("qkv_bias", JsonValue::Bool(c.qkv_bias));
  return o;
}

}  // namespace

std::string DescribePackage(const Package& p) {
  JsonValue o = JsonValue::Object();
  o.Set("file", Str(p.name()));
  o.Set("file_size", Num(double(p.file_size())));
  o.Set("format_version", Num(p.version()));
  o.Set("package_digest", Str(p.digest_hex()));
  o.Set("tokenizer_digest", Str(p.tokenizer_digest_hex()));
  o.Set("config", ConfigJson(p.config()));
  const TokenizerData& t = p.tokenizer();
  JsonValue tok = JsonValue::Object();
  tok.Set("vocab_size", Num(double(t.pieces.size())));
  tok.Set("merges", Num(double(t.merges.size())));
  tok.Set("pre_tokenizer", Str(t.pre));
  tok.Set("bos_id", Num(t.bos_id));
  tok.Set("eos_id", Num(t.eos_id));
  o.Set("tokenizer", std::move(tok));
  const Provenance& pv = p.provenance();
  JsonValue prov = JsonValue::Object();
  prov.Set("source_format", Str(pv.source_format));
  prov.Set("source_path", Str(pv.source_path));
  prov.Set("source_sha256", Str(pv.source_sha256));
  prov.Set("tokenizer_source", Str(pv.tokenizer_source));
  prov.Set("notes", Str(pv.notes));
  o.Set("provenance", std::move(prov));
  JsonValue meta = JsonValue::Object();
  for (const auto& [k, v] : p.metadata()) meta.Set(k, Str(v));
  o.Set("metadata", std::move(meta));
  JsonValue tensors = JsonValue::Array();
  for (size_t i = 0; i < p.tensors().size(); ++i) {
    const TensorData& td = p.tensors()[i];
    JsonValue e = JsonValue::Object();
    e.Set("name", Str(td.name));
    e.Set("dtype", Str(DTypeName(td.dtype)));
    JsonValue shape = JsonValue::Array();
    for (int64_t d : td.shape) shape.Append(Num(double(d)));
    e.Set("shape", std::move(shape));
    e.Set("bytes", Num(double(td.bytes().size())));
    e.Set("sha256", Str(p.tensor_digest_hex(i)));
    tensors.Append(std::move(e));
  }
  o.Set("tensors", std::move(tensors));
  return o.Dump();
}

}  // namespace slm::api

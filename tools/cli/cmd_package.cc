// slm convert / inspect / validate: package creation and examination.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/json.h"
#include "commands.h"
#include "import/import.h"
#include "package/model_tensors.h"
#include "package/package.h"

namespace slm::cli {

const CommandSpec kConvertSpec = {
    "convert", "INPUT [--tokenizer FILE] -o OUT.slm",
    "Import a llama2.c checkpoint (.bin, float32 or int8 'ak42'), a GGUF file or a Hugging Face\n"
    "folder (config.json + *.safetensors + tokenizer.json) into a .slm package.",
    1, 1,
    {{"-o", "OUT.slm", "output package (required)"},
     {"--tokenizer", "FILE", "tokenizer file (llama2.c .bin, GGUF, tokenizer.json, .model);\n"
                             "                        required for llama2.c checkpoints"}}};

const CommandSpec kInspectSpec = {
    "inspect", "PKG [--json]",
    "Show a package's metadata, provenance, tokenizer summary, tensor table and digests.", 1, 1,
    {{"--json", nullptr, "print one JSON object"}}};

const CommandSpec kValidateSpec = {
    "validate", "PKG",
    "Full structural check of a package; every digest is recomputed and every f32 weight is\n"
    "checked for NaN/Inf.",
    1, 1, {}};

namespace {

std::string MiB(uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f MiB", bytes / 1048576.0);
  return b;
}

const char* TokenizerTypeName(TokenizerType t) {
  return t == TokenizerType::kSentencePiece ? "sentencepiece-bpe" : "byte-level-bpe";
}

JsonValue ConfigJson(const ModelConfig& c) {
  JsonValue o = JsonValue::Object();
  o.Set("arch", JsonValue::String(c.arch));
  o.Set("dim", JsonValue::Number(c.dim));
  o.Set("hidden_dim", JsonValue::Number(c.hidden_dim));
  o.Set("n_layers", JsonValue::Number(c.n_layers));
  o.Set("n_heads", JsonValue::Number(c.n_heads));
  o.Set("n_kv_heads", JsonValue::Number(c.n_kv_heads));
  o.Set("head_dim", JsonValue::Number(c.head_dim));
  o.Set("vocab_size", JsonValue::Number(c.vocab_size));
  o.Set("max_seq_len", JsonValue::Number(c.max_seq_len));
  o.Set("norm_eps", JsonValue::Number(c.norm_eps));
  o.Set("rope_theta", JsonValue::Number(c.rope_theta));
  o.Set("rope_style", JsonValue::String(c.rope_style == RopeStyle::kInterleaved ? "interleaved"
                                                                                : "half-split"));
  o.Set("tied_output", JsonValue::Bool(c.tied_output));
  o.Set("qkv_bias", JsonValue::Bool(c.qkv_bias));
  return o;
}

JsonValue InspectJson(const Package& p) {
  JsonValue o = JsonValue::Object();
  o.Set("file", JsonValue::String(p.name()));
  o.Set("file_size", JsonValue::Number(double(p.file_size())));
  o.Set("format_version", JsonValue::Number(p.version()));
  o.Set("kind", JsonValue::String(p.kind() == 0 ? "model" : "adapter"));
  o.Set("package_digest", JsonValue::String(p.digest_hex()));
  o.Set("tokenizer_digest", JsonValue::String(p.tokenizer_digest_hex()));
  const Provenance& pv = p.provenance();
  JsonValue prov = JsonValue::Object();
  prov.Set("source_format", JsonValue::String(pv.source_format));
  prov.Set("source_path", JsonValue::String(pv.source_path));
  prov.Set("source_sha256", JsonValue::String(pv.source_sha256));
  prov.Set("tokenizer_source", JsonValue::String(pv.tokenizer_source));
  prov.Set("notes", JsonValue::String(pv.notes));
  o.Set("provenance", std::move(prov));
  o.Set("config", ConfigJson(p.config()));
  const TokenizerData& t = p.tokenizer();
  JsonValue tok = JsonValue::Object();
  tok.Set("type", JsonValue::String(TokenizerTypeName(t.type)));
  tok.Set("vocab_size", JsonValue::Number(double(t.pieces.size())));
  tok.Set("merges", JsonValue::Number(double(t.merges.size())));
  tok.Set("pre_tokenizer", JsonValue::String(t.pre));
  tok.Set("bos_id", JsonValue::Number(t.bos_id));
  tok.Set("eos_id", JsonValue::Number(t.eos_id));
  tok.Set("unk_id", JsonValue::Number(t.unk_id));
  tok.Set("add_bos", JsonValue::Bool(t.add_bos));
  o.Set("tokenizer", std::move(tok));
  JsonValue meta = JsonValue::Object();
  for (const auto& [k, v] : p.metadata()) meta.Set(k, JsonValue::String(v));
  o.Set("metadata", std::move(meta));
  JsonValue tensors = JsonValue::Array();
  uint64_t weight_bytes = 0;
  for (size_t i = 0; i < p.tensors().size(); ++i) {
    const TensorData& td = p.tensors()[i];
    JsonValue e = JsonValue::Object();
    e.Set("name", JsonValue::String(td.name));
    e.Set("dtype", JsonValue::String(DTypeName(td.dtype)));
    JsonValue shape = JsonValue::Array();
    for (int64_t d : td.shape) shape.Append(JsonValue::Number(double(d)));
    e.Set("shape", std::move(shape));
    e.Set("offset", JsonValue::Number(double(p.tensor_offset(i))));
    e.Set("bytes", JsonValue::Number(double(td.bytes().size())));
    e.Set("sha256", JsonValue::String(p.tensor_digest_hex(i)));
    weight_bytes += td.bytes().size();
    tensors.Append(std::move(e));
  }
  o.Set("weight_bytes", JsonValue::Number(double(weight_bytes)));
  o.Set("tensors", std::move(tensors));
  return o;
}

void PrintInspect(const Package& p) {
  const ModelConfig& c = p.config();
  const Provenance& pv = p.provenance();
  const TokenizerData& t = p.tokenizer();
  std::printf("package         %s (%s, format v%u, %s)\n", p.name().c_str(), MiB(p.file_size()).c_str(),
              p.version(), p.kind() == 0 ? "model" : "adapter");
  std::printf("digest          %s\n", p.digest_hex().c_str());
  std::printf("source          %s %s\n", pv.source_format.c_str(), pv.source_path.c_str());
  std::printf("source sha256   %s\n", pv.source_sha256.c_str());
  if (!pv.tokenizer_source.empty()) std::printf("tokenizer from  %s\n", pv.tokenizer_source.c_str());
  if (!pv.notes.empty()) std::printf("notes           %s\n", pv.notes.c_str());
  std::printf("model           %s: dim %d, hidden %d, layers %d, heads %d/%d kv, head_dim %d\n",
              c.arch.c_str(), c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim);
  std::printf("                vocab %d, context %d, rope %s theta %g, norm eps %g, %s output%s\n",
              c.vocab_size, c.max_seq_len,
              c.rope_style == RopeStyle::kInterleaved ? "interleaved" : "half-split",
              double(c.rope_theta), double(c.norm_eps), c.tied_output ? "tied" : "untied",
              c.qkv_bias ? ", qkv bias" : "");
  std::printf("tokenizer       %s, %zu pieces, %zu merges, pre '%s', bos %d eos %d unk %d\n",
              TokenizerTypeName(t.type), t.pieces.size(), t.merges.size(), t.pre.c_str(), t.bos_id,
              t.eos_id, t.unk_id);
  std::printf("tokenizer sha   %s\n", p.tokenizer_digest_hex().c_str());
  for (const auto& [k, v] : p.metadata()) std::printf("meta            %s = %s\n", k.c_str(), v.c_str());
  std::printf("\n%-32s %-6s %-14s %10s %10s  %s\n", "tensor", "dtype", "shape", "offset", "bytes",
              "sha256");
  for (size_t i = 0; i < p.tensors().size(); ++i) {
    const TensorData& td = p.tensors()[i];
    std::printf("%-32s %-6s %-14s %10llu %10zu  %.16s\n", td.name.c_str(), DTypeName(td.dtype),
                ShapeString(td.shape).c_str(), (unsigned long long)p.tensor_offset(i),
                td.bytes().size(), p.tensor_digest_hex(i).c_str());
  }
}

// Non-finite values in f32 weights: reported as the first tensor and index.
Status CheckFinite(const Package& p) {
  for (const TensorData& td : p.tensors()) {
    if (td.dtype != DType::kF32) continue;
    auto b = td.bytes();
    for (size_t i = 0; i + 4 <= b.size(); i += 4) {
      float v;
      std::memcpy(&v, b.data() + i, 4);
      if (!std::isfinite(v)) {
        return FormatError(p.name() + ": tensor '" + td.name + "' element " + std::to_string(i / 4) +
                           " is " + (std::isnan(v) ? "NaN" : "Inf"));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status RunConvert(const Args& a) {
  if (!a.Has("-o")) return InvalidArgument("slm convert needs -o OUT.slm");
  ImportOptions opt;
  opt.tokenizer_path = a.Get("--tokenizer");
  SLM_ASSIGN_OR_RETURN(ModelBundle b, ImportModel(a.positional()[0], opt));
  std::string out = a.Get("-o");
  SLM_RETURN_IF_ERROR(WritePackage(b, out));
  // Re-open the written file: the digest printed is the one readers will see.
  SLM_ASSIGN_OR_RETURN(auto p, Package::Open(out));
  std::printf("wrote %s: %zu tensors, %s, from %s\npackage digest %s\n", out.c_str(),
              p->tensors().size(), MiB(p->file_size()).c_str(), b.provenance.source_format.c_str(),
              p->digest_hex().c_str());
  if (!b.provenance.notes.empty()) std::printf("note: %s\n", b.provenance.notes.c_str());
  return Status::Ok();
}

Status RunInspect(const Args& a) {
  PackageOpenOptions o;
  o.verify_digests = false;  // inspect is a quick look; validate recomputes
  SLM_ASSIGN_OR_RETURN(auto p, Package::Open(a.positional()[0], o));
  if (a.Has("--json")) {
    std::printf("%s\n", InspectJson(*p).DumpPretty().c_str());
  } else {
    PrintInspect(*p);
  }
  return Status::Ok();
}

Status RunValidate(const Args& a) {
  SLM_ASSIGN_OR_RETURN(auto p, Package::Open(a.positional()[0]));
  SLM_RETURN_IF_ERROR(p->VerifyAll());
  SLM_RETURN_IF_ERROR(CheckModelTensors(p->config(), p->tensors()));
  SLM_RETURN_IF_ERROR(CheckFinite(*p));
  std::printf("ok: %s is valid (%zu tensors, %zu sections, every digest recomputed)\npackage digest %s\n",
              p->name().c_str(), p->tensors().size(), p->sections().size(), p->digest_hex().c_str());
  return Status::Ok();
}

}  // namespace slm::cli

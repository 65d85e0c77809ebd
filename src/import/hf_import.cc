#include "import/hf_import.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "base/json.h"
#include "base/sha256.h"
#include "import/dequant.h"
#include "import/folder.h"
#include "import/safetensors.h"
#include "package/model_tensors.h"
#include "tokenizer/load.h"

namespace slm {
namespace {

std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Integer field with a default (missing or null); errors name the file and key.
Status IntField(const JsonValue& cfg, const std::string& file, const char* key, int32_t* out,
                bool required) {
  const JsonValue* v = cfg.Find(key);
  if (!v || v->is_null()) {
    if (required) return NotFound(file + ": missing '" + key + "'");
    return Status::Ok();
  }
  auto n = cfg.GetInt(key);
  if (!n.ok()) return n.status().WithContext(file + ": ");
  if (*n <= 0 || *n > INT32_MAX) {
    return FormatError(file + ": '" + key + "' = " + std::to_string(*n) + " is out of range");
  }
  *out = static_cast<int32_t>(*n);
  return Status::Ok();
}

Status FloatField(const JsonValue& cfg, const std::string& file, const char* key, float* out) {
  const JsonValue* v = cfg.Find(key);
  if (!v || v->is_null()) return Status::Ok();
  auto n = cfg.GetNumber(key);
  if (!n.ok()) return n.status().WithContext(file + ": ");
  *out = static_cast<float>(*n);
  return Status::Ok();
}

Status ParseConfig(const Folder& dir, ModelConfig* c, bool* tie) {
  const std::string file = dir.Path("config.json");
  SLM_ASSIGN_OR_RETURN(std::string text, dir.ReadText("config.json"));
  SLM_ASSIGN_OR_RETURN(JsonValue cfg, ParseJson(text, file));
  if (!cfg.is_object()) return FormatError(file + ": not a JSON object");
  std::string arch;
  if (const JsonValue* a = cfg.Find("architectures"); a && a->is_array() && a->size() > 0 &&
                                                       a->items()[0].is_string()) {
    arch = a->items()[0].as_string();
  }
  std::string model_type;
  if (auto mt = cfg.GetString("model_type"); mt.ok()) model_type = *mt;
  if (arch == "LlamaForCausalLM" || (arch.empty() && model_type == "llama")) {
    c->arch = "llama";
  } else if (arch == "Qwen2ForCausalLM" || (arch.empty() && model_type == "qwen2")) {
    c->arch = "qwen2";
    c->qkv_bias = true;
  } else {
    return Unsupported(file + ": architecture '" + (arch.empty() ? model_type : arch) +
                       "' is not supported (LlamaForCausalLM, Qwen2ForCausalLM are)");
  }
  if (auto act = cfg.GetString("hidden_act"); act.ok() && *act != "silu") {
    return Unsupported(file + ": hidden_act '" + *act + "', expected 'silu'");
  }
  if (const JsonValue* rs = cfg.Find("rope_scaling"); rs && !rs->is_null()) {
    return Unsupported(file + ": rope_scaling " + rs->Dump() + " is not supported");
  }
  SLM_RETURN_IF_ERROR(IntField(cfg, file, "hidden_size", &c->dim, true));
  SLM_RETURN_IF_ERROR(IntField(cfg, file, "intermediate_size", &c->hidden_dim, true));
  SLM_RETURN_IF_ERROR(IntField(cfg, file, "num_hidden_layers", &c->n_layers, true));
  SLM_RETURN_IF_ERROR(IntField(cfg, file, "num_attention_heads", &c->n_heads, true));
  c->n_kv_heads = c->n_heads;
  SLM_RETURN_IF_ERROR(IntField(cfg, file, "num_key_value_heads", &c->n_kv_heads, false));
  c->head_dim = c->dim / c->n_heads;
  SLM_RETURN_IF_ERROR(IntField(cfg, file, "head_dim", &c->head_dim, false));
  c->max_seq_len = 2048;
  SLM_RETURN_IF_ERROR(IntField(cfg, file, "max_position_embeddings", &c->max_seq_len, false));
  SLM_RETURN_IF_ERROR(IntField(cfg, file, "vocab_size", &c->vocab_size, true));
  c->norm_eps = 1e-6f;  // LlamaConfig / Qwen2Config default
  SLM_RETURN_IF_ERROR(FloatField(cfg, file, "rms_norm_eps", &c->norm_eps));
  c->rope_theta = 10000.0f;
  SLM_RETURN_IF_ERROR(FloatField(cfg, file, "rope_theta", &c->rope_theta));
  c->rope_style = RopeStyle::kHalfSplit;
  *tie = false;
  if (const JsonValue* t = cfg.Find("tie_word_embeddings"); t && !t->is_null()) {
    if (!t->is_bool()) return FormatError(file + ": 'tie_word_embeddings' is not a bool");
    *tie = t->as_bool();
  }
  if (Status s = c->Validate(); !s.ok()) return s.WithContext(file + ": ");
  return Status::Ok();
}

// Shard file names, from the index if there is one.
StatusOr<std::vector<std::string>> ShardNames(const Folder& dir) {
  const std::string index = dir.Path("model.safetensors.index.json");
  if (!dir.Exists("model.safetensors.index.json")) {
    if (!dir.Exists("model.safetensors")) {
      return NotFound(dir.dir() +
                      ": neither model.safetensors nor model.safetensors.index.json exists");
    }
    return std::vector<std::string>{"model.safetensors"};
  }
  SLM_ASSIGN_OR_RETURN(std::string text, dir.ReadText("model.safetensors.index.json"));
  SLM_ASSIGN_OR_RETURN(JsonValue j, ParseJson(text, index));
  const JsonValue* map = j.Find("weight_map");
  if (!map || !map->is_object()) return FormatError(index + ": missing object 'weight_map'");
  std::set<std::string> names;
  for (const auto& [tensor, file] : map->members()) {
    if (!file.is_string() || file.as_string().empty() ||
        file.as_string().find('/') != std::string::npos || file.as_string()[0] == '.') {
      return FormatError(index + ": weight_map['" + tensor + "'] must be a plain file name");
    }
    names.insert(file.as_string());
  }
  if (names.empty()) return FormatError(index + ": weight_map is empty");
  return std::vector<std::string>(names.begin(), names.end());
}

StatusOr<ModelBundle> ImportHf(const Folder& dir, const std::string& tokenizer_override);

}  // namespace

std::string HfToGgufName(const std::string& n) {
  static const std::map<std::string, std::string> kTop = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
  };
  static const std::map<std::string, std::string> kLayer = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
  };
  if (auto it = kTop.find(n); it != kTop.end()) return it->second;
  const std::string prefix = "model.layers.";
  if (n.rfind(prefix, 0) != 0) return "";
  size_t p = prefix.size(), q = p;
  while (q < n.size() && q - p < 6 && n[q] >= '0' && n[q] <= '9') ++q;
  if (q == p || q >= n.size() || n[q] != '.' || (n[p] == '0' && q - p > 1)) return "";
  auto it = kLayer.find(n.substr(q + 1));
  if (it == kLayer.end()) return "";
  return "blk." + n.substr(p, q - p) + "." + it->second;
}

StatusOr<ModelBundle> ImportHfFolder(const std::string& dir,
                                     const std::string& tokenizer_override) {
  if (!IsDirectory(dir)) return NotFound("'" + dir + "' is not a directory");
  return ImportHf(Folder::OnDisk(dir), tokenizer_override);
}

StatusOr<ModelBundle> ImportHfFromMemory(
    const std::string& dir, const std::map<std::string, std::span<const uint8_t>>& files,
    const std::string& tokenizer_override) {
  return ImportHf(Folder::InMemory(dir, &files), tokenizer_override);
}

namespace {

StatusOr<ModelBundle> ImportHf(const Folder& dir, const std::string& tokenizer_override) {
  ModelBundle b;
  bool tie = false;
  SLM_RETURN_IF_ERROR(ParseConfig(dir, &b.config, &tie));
  b.config.tied_output = tie;
  const ModelConfig& c = b.config;

  std::map<std::string, std::vector<int64_t>> expected;
  for (const ExpectedTensor& e : ExpectedModelTensors(c)) expected[e.name] = e.shape;

  SLM_ASSIGN_OR_RETURN(std::vector<std::string> shards, ShardNames(dir));
  std::set<std::string> converted;
  std::vector<Digest> shard_digests;
  std::map<std::string, std::string> origin;  // our name -> shard file
  for (const std::string& shard : shards) {
    const std::string file = dir.Path(shard);
    SLM_ASSIGN_OR_RETURN(auto mapped, dir.Map(shard));
    SLM_ASSIGN_OR_RETURN(auto st, SafetensorsFile::Parse(std::move(mapped)));
    shard_digests.push_back(Sha256Of(st->bytes()));
    for (const SafetensorsTensor& t : st->tensors()) {
      if (t.name.find("rotary_emb.inv_freq") != std::string::npos) continue;  // recomputed
      if (tie && t.name == "lm_head.weight") continue;  // transformers ties it to the embedding
      std::string ours = HfToGgufName(t.name);
      if (ours.empty()) {
        return Unsupported(file + ": tensor '" + t.name + "' has no llama-family counterpart");
      }
      auto want = expected.find(ours);
      if (want == expected.end()) {
        return FormatError(file + ": tensor '" + t.name + "' (" + ours +
                           ") is not expected for this config.json");
      }
      if (t.shape != want->second) {
        return FormatError(file + ": tensor '" + t.name + "' (" + ours + "): expected shape " +
                           ShapeString(want->second) + ", found " + ShapeString(t.shape));
      }
      if (!origin.emplace(ours, file).second) {
        return FormatError(file + ": tensor '" + t.name + "' also appears in " + origin[ours]);
      }
      TensorData td;
      td.name = ours;
      td.shape = t.shape;
      td.dtype = DType::kF32;
      if (t.dtype == DType::kF32) {
        td.view = t.data;
      } else {
        std::vector<float> f;
        Status s = DequantizeToF32(t.dtype, t.data, t.data.size() / 2, &f);
        if (!s.ok()) return s.WithContext(file + ": tensor '" + t.name + "': ");
        td.owned.resize(f.size() * 4);
        std::memcpy(td.owned.data(), f.data(), td.owned.size());
        converted.insert(t.dtype == DType::kF16 ? "F16" : "BF16");
      }
      b.tensors.push_back(std::move(td));
    }
    b.keep_alive.push_back(st->ReleaseFile());
  }
  // Canonical order (token_embd, layers, output_norm, output) whatever the shards say.
  SortModelTensors(c, &b.tensors);
  if (Status s = CheckModelTensors(c, b.tensors); !s.ok()) {
    if (!tie && s.message().find("'output.weight'") != std::string::npos) {
      return s.WithContext(dir.dir() +
                           ": lm_head.weight absent and tie_word_embeddings is false: ");
    }
    return s.WithContext(dir.dir() + ": ");
  }

  if (!tokenizer_override.empty()) {
    auto tok = LoadTokenizerFile(tokenizer_override);
    if (!tok.ok()) return tok.status();
    b.tokenizer = std::move(tok).value();
    b.provenance.tokenizer_source = BaseName(tokenizer_override);
  } else {
    const std::string file = dir.Path("tokenizer.json");
    if (!dir.Exists("tokenizer.json")) {
      return NotFound(dir.dir() + ": no tokenizer.json (pass a tokenizer file with --tokenizer)");
    }
    SLM_ASSIGN_OR_RETURN(std::string text, dir.ReadText("tokenizer.json"));
    auto tok = TokenizerFromHfJson(text, file);
    if (!tok.ok()) return tok.status();
    b.tokenizer = std::move(tok).value();
    b.provenance.tokenizer_source = "tokenizer.json";
  }
  if (b.tokenizer.pieces.size() > static_cast<size_t>(c.vocab_size)) {
    return FormatError(dir.dir() + ": tokenizer has " + std::to_string(b.tokenizer.pieces.size()) +
                       " pieces, config.json vocab_size is " + std::to_string(c.vocab_size));
  }

  b.provenance.source_format = "hf-safetensors";
  b.provenance.source_path = BaseName(dir.dir());
  if (shard_digests.size() == 1) {
    b.provenance.source_sha256 = DigestHex(shard_digests[0]);
  } else {
    Sha256 h;
    for (const Digest& d : shard_digests) h.Update(std::span<const uint8_t>(d));
    b.provenance.source_sha256 = DigestHex(h.Finish());
  }
  if (!converted.empty()) {
    std::string list;
    for (const std::string& n : converted) {
      if (!list.empty()) list += ", ";
      list += n;
    }
    b.provenance.notes = list + " tensors widened to f32 on import";
  }
  return b;
}

}  // namespace
}  // namespace slm

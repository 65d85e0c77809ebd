#include "adapter/peft.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "adapter/validate.h"
#include "base/file.h"
#include "base/json.h"
#include "import/dequant.h"
#include "import/folder.h"
#include "import/hf_import.h"
#include "import/safetensors.h"

namespace slm {
namespace lora_import {

void PermuteQkRows(std::vector<float>* b, int32_t n_head, int32_t head_dim, int64_t cols,
                   bool to_interleaved) {
  std::vector<float> out(b->size());
  const size_t row = static_cast<size_t>(cols);
  for (int32_t h = 0; h < n_head; ++h) {
    for (int32_t i = 0; i < head_dim / 2; ++i) {
      for (int32_t s = 0; s < 2; ++s) {
        const size_t inter = static_cast<size_t>(h * head_dim + 2 * i + s);
        const size_t half = static_cast<size_t>(h * head_dim + s * (head_dim / 2) + i);
        const size_t from = to_interleaved ? half : inter;
        const size_t to = to_interleaved ? inter : half;
        std::memcpy(out.data() + to * row, b->data() + from * row, row * sizeof(float));
      }
    }
  }
  *b = std::move(out);
}

int32_t QkHeads(const std::string& target, const ModelConfig& c) {
  auto ends = [&](const char* s) {
    const size_t n = std::strlen(s);
    return target.size() >= n && target.compare(target.size() - n, n, s) == 0;
  };
  if (target.rfind("blk.", 0) != 0) return 0;
  if (ends(".attn_q.weight")) return c.n_heads;
  if (ends(".attn_k.weight")) return c.n_kv_heads;
  return 0;
}

Status AddLowRank(const Package& base, const std::string& target, std::vector<float> a,
                  std::vector<int64_t> a_shape, std::vector<float> b, std::vector<int64_t> b_shape,
                  float scale, const std::string& what, Adapter* out) {
  const TensorData* t = base.FindTensor(target);
  if (!t) {
    return NotFound(what + ": target '" + target + "' is not a tensor of the base (" +
                    std::to_string(base.config().n_layers) + " layers, arch " + base.config().arch +
                    ")");
  }
  if (t->shape.size() != 2) {
    return InvalidArgument(what + ": target '" + target + "' is 1-D " + ShapeString(t->shape) +
                           "; a LoRA needs a matrix");
  }
  const int64_t rows = t->shape[0], cols = t->shape[1];
  if (a_shape.size() != 2 || b_shape.size() != 2 || a_shape[1] != cols || b_shape[0] != rows ||
      a_shape[0] != b_shape[1] || a_shape[0] <= 0) {
    return InvalidArgument(what + ": '" + target + "' is " + ShapeString(t->shape) +
                           " in the base, so lora_A must be [r, " + std::to_string(cols) +
                           "] and lora_B [" + std::to_string(rows) + ", r]; found A " +
                           ShapeString(a_shape) + ", B " + ShapeString(b_shape));
  }
  TensorDelta d;
  d.target = target;
  d.kind = DeltaKind::kLowRank;
  d.shape = t->shape;
  d.rank = static_cast<int32_t>(a_shape[0]);
  d.a = std::move(a);
  d.b = std::move(b);
  d.scale = scale;
  for (float v : d.a) {
    if (!std::isfinite(v))
      return InvalidArgument(what + ": lora_A of '" + target + "' is not finite");
  }
  for (float v : d.b) {
    if (!std::isfinite(v))
      return InvalidArgument(what + ": lora_B of '" + target + "' is not finite");
  }
  out->deltas.push_back(std::move(d));
  return Status::Ok();
}

Status Finish(const Package& base, Adapter* a) {
  std::sort(a->deltas.begin(), a->deltas.end(),
            [](const TensorDelta& x, const TensorDelta& y) { return x.target < y.target; });
  for (size_t i = 1; i < a->deltas.size(); ++i) {
    if (a->deltas[i].target == a->deltas[i - 1].target) {
      return InvalidArgument("two LoRA pairs target '" + a->deltas[i].target + "'");
    }
  }
  if (a->deltas.empty()) return InvalidArgument("the adapter has no LoRA pairs");
  a->base_compat = CompatibilityDigest(base);
  a->base_tokenizer = base.tokenizer_digest();
  return Status::Ok();
}

}  // namespace lora_import

namespace {

std::string BaseName(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

struct Pair {
  const SafetensorsTensor* a = nullptr;
  const SafetensorsTensor* b = nullptr;
};

StatusOr<std::vector<float>> Widen(const SafetensorsTensor& t, const std::string& file) {
  uint64_t n = 0;
  ShapeElements(t.shape, &n);
  std::vector<float> out;
  Status s = DequantizeToF32(t.dtype, t.data, n, &out);
  if (!s.ok()) return s.WithContext(file + ": tensor '" + t.name + "'");
  return out;
}

}  // namespace

bool IsPeftFolder(const std::string& path) {
  return IsDirectory(path) && FileExists(path + "/adapter_config.json");
}

namespace {
StatusOr<Adapter> ImportPeftIn(const Folder& dir, const Package& base);
}  // namespace

StatusOr<Adapter> ImportPeft(const std::string& folder, const Package& base) {
  if (!IsDirectory(folder)) return NotFound("'" + folder + "' is not a directory");
  return ImportPeftIn(Folder::OnDisk(folder), base);
}

StatusOr<Adapter> ImportPeftFromMemory(const std::string& folder,
                                       const std::map<std::string, std::span<const uint8_t>>& files,
                                       const Package& base) {
  return ImportPeftIn(Folder::InMemory(folder, &files), base);
}

namespace {

// PEFT's embedding LoRA: lora_embedding_A [r, vocab], lora_embedding_B [dim, r];
// token id's embedding gains scale * B A[:, id], so Delta E [vocab, dim] =
// scale * A^T B^T. As a low-rank delta (Delta = B' A'): A' = B^T [r, dim],
// B' = A^T [vocab, r]. In: *a, *b as stored; out: A', B' and their shapes.
Status EmbeddingLowRank(const Package& base, const SafetensorsTensor& ta,
                        const SafetensorsTensor& tb, const std::string& what, std::vector<float>* a,
                        std::vector<float>* b, std::vector<int64_t>* a_shape,
                        std::vector<int64_t>* b_shape) {
  const TensorData* e = base.FindTensor("token_embd.weight");
  if (e == nullptr || e->shape.size() != 2) {
    return NotFound(what + ": the base has no token_embd.weight matrix");
  }
  const int64_t vocab = e->shape[0], dim = e->shape[1], r = ta.shape[0];
  if (ta.shape[1] != vocab || tb.shape.size() != 2 || tb.shape[0] != dim || tb.shape[1] != r) {
    return InvalidArgument(what + ": token_embd.weight is " + ShapeString(e->shape) +
                           " in the base, so lora_embedding_A must be [r, " +
                           std::to_string(vocab) + "] and lora_embedding_B [" +
                           std::to_string(dim) + ", r]; found A " + ShapeString(ta.shape) + ", B " +
                           ShapeString(tb.shape));
  }
  std::vector<float> at(a->size()), bt(b->size());
  for (int64_t j = 0; j < r; ++j) {
    for (int64_t v = 0; v < vocab; ++v) at[v * r + j] = (*a)[j * vocab + v];
    for (int64_t i = 0; i < dim; ++i) bt[j * dim + i] = (*b)[i * r + j];
  }
  *a = std::move(bt);
  *b = std::move(at);
  *a_shape = {r, dim};
  *b_shape = {vocab, r};
  return Status::Ok();
}

StatusOr<Adapter> ImportPeftIn(const Folder& dir, const Package& base) {
  using namespace lora_import;
  const std::string& folder = dir.dir();
  const std::string cfg_path = dir.Path("adapter_config.json");
  if (!dir.Exists("adapter_config.json"))
    return NotFound(folder + ": no adapter_config.json (not a PEFT folder)");
  SLM_ASSIGN_OR_RETURN(std::string text, dir.ReadText("adapter_config.json"));
  SLM_ASSIGN_OR_RETURN(JsonValue cfg, ParseJson(text, cfg_path));
  if (!cfg.is_object()) return FormatError(cfg_path + ": not a JSON object");
  if (auto pt = cfg.GetString("peft_type"); pt.ok() && *pt != "LORA") {
    return Unsupported(cfg_path + ": peft_type '" + *pt + "' (only LORA is supported)");
  }
  const JsonValue* rv = cfg.Find("r");
  if (!rv || rv->is_null()) return InvalidArgument(cfg_path + ": missing 'r' (the LoRA rank)");
  auto r = cfg.GetInt("r");
  if (!r.ok()) return r.status().WithContext(cfg_path);
  if (*r <= 0 || *r > (1 << 16)) {
    return InvalidArgument(cfg_path + ": 'r' = " + std::to_string(*r) + " is out of range");
  }
  const JsonValue* av = cfg.Find("lora_alpha");
  if (!av || av->is_null()) return InvalidArgument(cfg_path + ": missing 'lora_alpha'");
  auto alpha = cfg.GetNumber("lora_alpha");
  if (!alpha.ok()) return alpha.status().WithContext(cfg_path);
  if (!std::isfinite(*alpha)) return InvalidArgument(cfg_path + ": 'lora_alpha' is not finite");
  bool rslora = false;
  if (const JsonValue* v = cfg.Find("use_rslora"); v && !v->is_null()) {
    if (!v->is_bool()) return FormatError(cfg_path + ": 'use_rslora' is not a bool");
    rslora = v->as_bool();
  }
  for (const char* flag : {"use_dora", "fan_in_fan_out"}) {
    if (const JsonValue* v = cfg.Find(flag); v && v->is_bool() && v->as_bool()) {
      return Unsupported(cfg_path + ": '" + flag + "' = true is not supported");
    }
  }
  for (const char* pat : {"rank_pattern", "alpha_pattern"}) {
    if (const JsonValue* v = cfg.Find(pat); v && v->is_object() && v->size() > 0) {
      return Unsupported(cfg_path + ": per-module '" + pat + "' is not supported");
    }
  }
  std::set<std::string> targets;
  bool check_targets = false;
  if (const JsonValue* tm = cfg.Find("target_modules"); tm && tm->is_array()) {
    check_targets = true;
    for (const JsonValue& v : tm->items()) {
      if (!v.is_string()) return FormatError(cfg_path + ": 'target_modules' has a non-string");
      targets.insert(v.as_string());
    }
  }
  const float scale = static_cast<float>(rslora ? *alpha / std::sqrt(static_cast<double>(*r))
                                                : *alpha / static_cast<double>(*r));
  if (!std::isfinite(scale)) {  // e.g. lora_alpha 1e66: finite as a double, not as a float
    char v[32];
    std::snprintf(v, sizeof v, "%.9g", *alpha);
    return InvalidArgument(cfg_path + ": 'lora_alpha' = " + v + " gives a scale (lora_alpha / " +
                           (rslora ? "sqrt(r)" : "r") + ") beyond the float range");
  }

  const std::string st_path = dir.Path("adapter_model.safetensors");
  if (!dir.Exists("adapter_model.safetensors")) {
    if (dir.Exists("adapter_model.bin")) {
      return Unsupported(folder +
                         ": adapter_model.bin (pickle) is not supported; save with "
                         "safe_serialization=True");
    }
    return NotFound(folder + ": no adapter_model.safetensors");
  }
  SLM_ASSIGN_OR_RETURN(auto mapped, dir.Map("adapter_model.safetensors"));
  SLM_ASSIGN_OR_RETURN(auto st, SafetensorsFile::Parse(std::move(mapped)));

  std::map<std::string, Pair> pairs;        // by our target name
  std::map<std::string, std::string> from;  // target -> HF module (for errors)
  for (const SafetensorsTensor& t : st->tensors()) {
    std::string n = t.name;
    const std::string what = st_path + ": tensor '" + t.name + "'";
    const std::string prefix = "base_model.model.";
    if (n.rfind(prefix, 0) != 0) return FormatError(what + ": expected a 'base_model.model.' name");
    n = n.substr(prefix.size());
    bool is_a = false, is_embedding = false;
    std::string module;
    for (const char* suffix :
         {".lora_A.weight", ".lora_A.default.weight", ".lora_B.weight", ".lora_B.default.weight",
          ".lora_embedding_A", ".lora_embedding_A.default", ".lora_embedding_B",
          ".lora_embedding_B.default"}) {
      const size_t sl = std::strlen(suffix);
      if (n.size() > sl && n.compare(n.size() - sl, sl, suffix) == 0) {
        module = n.substr(0, n.size() - sl);
        is_a = std::strstr(suffix, "_A") != nullptr;
        is_embedding = std::strstr(suffix, "embedding") != nullptr;
        break;
      }
    }
    if (module.empty()) {
      return Unsupported(what +
                         ": not a lora_A / lora_B / lora_embedding_A / lora_embedding_B weight "
                         "(bias or modules_to_save tensors are not supported)");
    }
    const size_t dot = module.find_last_of('.');
    const std::string leaf = dot == std::string::npos ? module : module.substr(dot + 1);
    if (check_targets && !targets.count(leaf)) {
      std::string list;
      for (const std::string& x : targets) list += (list.empty() ? "" : ", ") + x;
      return InvalidArgument(what + ": module '" + leaf + "' is not in target_modules [" + list +
                             "]");
    }
    const std::string target = HfToGgufName(module + ".weight");
    if (target.empty()) {
      return Unsupported(what + ": module '" + module + "' has no llama-family counterpart");
    }
    if (is_embedding != (target == "token_embd.weight")) {
      return Unsupported(what + (is_embedding ? ": lora_embedding_A/B on a module that is not the "
                                                "token embedding"
                                              : ": lora_A/B on the token embedding (PEFT writes "
                                                "lora_embedding_A/B there)"));
    }
    Pair& p = pairs[target];
    from[target] = module;
    if ((is_a ? p.a : p.b) != nullptr) return FormatError(what + ": appears twice");
    (is_a ? p.a : p.b) = &t;
  }

  Adapter out;
  const ModelConfig& c = base.config();
  const bool permute = c.rope_style == RopeStyle::kInterleaved;
  bool permuted = false;
  for (const auto& [target, p] : pairs) {
    const std::string what = st_path + ": " + from[target];
    const std::string kind = target == "token_embd.weight" ? "lora_embedding_" : "lora_";
    if (!p.a || !p.b) {
      return FormatError(what + ": has " + kind + (p.a ? "A" : "B") + " but no " + kind +
                         (p.a ? "B" : "A"));
    }
    if (p.a->shape.size() != 2 || p.a->shape[0] != *r) {
      return InvalidArgument(what + ": lora_A shape " + ShapeString(p.a->shape) +
                             " does not have r = " + std::to_string(*r) + " rows");
    }
    SLM_ASSIGN_OR_RETURN(std::vector<float> a, Widen(*p.a, st_path));
    SLM_ASSIGN_OR_RETURN(std::vector<float> b, Widen(*p.b, st_path));
    std::vector<int64_t> a_shape = p.a->shape, b_shape = p.b->shape;
    if (target == "token_embd.weight") {
      SLM_RETURN_IF_ERROR(EmbeddingLowRank(base, *p.a, *p.b, what, &a, &b, &a_shape, &b_shape));
    }
    if (const int32_t heads = QkHeads(target, c); heads > 0 && permute) {
      if (p.b->shape.size() == 2 && p.b->shape[0] == int64_t{heads} * c.head_dim) {
        PermuteQkRows(&b, heads, c.head_dim, p.b->shape[1], /*to_interleaved=*/true);
        permuted = true;
      }  // else AddLowRank reports the shape
    }
    SLM_RETURN_IF_ERROR(
        AddLowRank(base, target, std::move(a), a_shape, std::move(b), b_shape, scale, what, &out));
  }
  SLM_RETURN_IF_ERROR(Finish(base, &out).WithContext(folder));
  out.name = BaseName(folder);
  char buf[160];
  std::snprintf(buf, sizeof(buf), "peft import (r=%lld, lora_alpha=%.9g, %s, scale=%.9g)",
                static_cast<long long>(*r), *alpha, rslora ? "rsLoRA alpha/sqrt(r)" : "alpha/r",
                static_cast<double>(scale));
  out.lineage.method = buf;
  if (auto bm = cfg.GetString("base_model_name_or_path"); bm.ok()) {
    out.lineage.notes = "trained on " + *bm;
  }
  if (permuted) {
    out.lineage.notes += std::string(out.lineage.notes.empty() ? "" : "; ") +
                         "q/k lora_B rows permuted from HF half-split to interleaved order";
  }
  return out;
}

}  // namespace
}  // namespace slm

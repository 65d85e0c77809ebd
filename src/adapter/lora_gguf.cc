#include "adapter/lora_gguf.h"

#include <cmath>
#include <cstdio>
#include <map>

#include "adapter/peft.h"
#include "import/dequant.h"

namespace slm {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string BaseName(const std::string& p) {
  const size_t s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

StatusOr<std::vector<float>> Decode(const GgufTensorInfo& t, const std::string& what,
                                    std::vector<int64_t>* shape) {
  DTypeInfo info;
  if (!GetDTypeInfo(t.ggml_type, &info)) {
    return Unsupported(what + ": ggml type " + std::to_string(t.ggml_type) + " is not supported");
  }
  if (t.ne.size() != 2) {
    return InvalidArgument(what + ": expected 2 dims, found " + std::to_string(t.ne.size()));
  }
  // A zero dim (rank 0, or an empty matrix) holds no delta; refused here, as
  // later loops run over the other dim (up to 2^62) with nothing to read.
  if (t.ne[0] <= 0 || t.ne[1] <= 0) {
    return InvalidArgument(what + ": empty tensor (ne " + std::to_string(t.ne[0]) + " x " +
                           std::to_string(t.ne[1]) + ")");
  }
  shape->assign(t.ne.rbegin(), t.ne.rend());  // GGUF lists dims innermost first
  std::vector<float> out;
  Status s = DequantizeToF32(static_cast<DType>(t.ggml_type), t.data,
                             static_cast<uint64_t>(t.ne[0] * t.ne[1]), &out);
  if (!s.ok()) return s.WithContext(what);
  return out;
}

}  // namespace

bool IsLoraGguf(const GgufFile& f) {
  auto t = f.GetString("general.type");
  return t.ok() && *t == "adapter";
}

StatusOr<Adapter> ImportLoraGguf(const std::string& path, const Package& base) {
  SLM_ASSIGN_OR_RETURN(auto f, GgufFile::Open(path));
  return ImportLoraGgufFile(std::move(f), base);
}

StatusOr<Adapter> ImportLoraGgufFile(std::unique_ptr<GgufFile> f, const Package& base) {
  using namespace lora_import;
  const std::string path = f->path();
  auto type = f->GetString("general.type");
  if (!type.ok() || *type != "adapter") {
    return InvalidArgument(path + ": not a LoRA adapter GGUF: general.type is " +
                           (type.ok() ? "'" + *type + "'" : std::string("absent")) +
                           ", expected 'adapter'");
  }
  auto atype = f->GetString("adapter.type");
  if (!atype.ok() || *atype != "lora") {
    return Unsupported(path + ": adapter.type is " +
                       (atype.ok() ? "'" + *atype + "'" : std::string("absent")) +
                       ", expected 'lora'");
  }
  double alpha = 0;
  if (f->Find("adapter.lora.alpha")) {
    SLM_ASSIGN_OR_RETURN(alpha, f->GetFloat("adapter.lora.alpha"));
    if (!std::isfinite(alpha)) return InvalidArgument(path + ": adapter.lora.alpha is not finite");
  }
  const ModelConfig& c = base.config();
  std::string arch = c.arch;
  if (f->Find("general.architecture")) {
    SLM_ASSIGN_OR_RETURN(arch, f->GetString("general.architecture"));
    if (arch != c.arch) {
      return InvalidArgument(path + ": general.architecture is '" + arch + "', the base is '" +
                             c.arch + "'");
    }
  }
  // Row order of q/k in the file: convert_hf_to_gguf permutes llama only.
  const RopeStyle file_style = arch == "llama" ? RopeStyle::kInterleaved : RopeStyle::kHalfSplit;

  struct Pair {
    const GgufTensorInfo* a = nullptr;
    const GgufTensorInfo* b = nullptr;
  };
  std::map<std::string, Pair> pairs;
  int skipped_norms = 0;
  for (const GgufTensorInfo& t : f->tensors()) {
    const std::string what = path + ": tensor '" + t.name + "'";
    const bool is_a = EndsWith(t.name, ".lora_a"), is_b = EndsWith(t.name, ".lora_b");
    if (!is_a && !is_b) {
      if (EndsWith(t.name, "_norm.weight")) {
        ++skipped_norms;
        continue;
      }
      return InvalidArgument(what + ": expected a name ending in .lora_a or .lora_b");
    }
    const std::string target = t.name.substr(0, t.name.size() - 7);
    Pair& p = pairs[target];
    if ((is_a ? p.a : p.b) != nullptr) return FormatError(what + ": appears twice");
    (is_a ? p.a : p.b) = &t;
  }

  Adapter out;
  bool permuted = false;
  int32_t rank = 0;
  for (const auto& [target, p] : pairs) {
    const std::string what = path + ": '" + target + "'";
    if (!p.a || !p.b) {
      return FormatError(what + ": has lora_" + (p.a ? "a" : "b") + " but no lora_" +
                         (p.a ? "b" : "a"));
    }
    std::vector<int64_t> as, bs;
    SLM_ASSIGN_OR_RETURN(std::vector<float> a, Decode(*p.a, what + " lora_a", &as));
    SLM_ASSIGN_OR_RETURN(std::vector<float> b, Decode(*p.b, what + " lora_b", &bs));
    if (target == "token_embd.weight") {
      // llama.cpp: a [vocab, r], b [dim, r]; Delta E [vocab, dim] = a b^T.
      const int64_t r = as[1], dim = bs[0];
      if (bs[1] != r) {
        return InvalidArgument(what + ": lora_a " + ShapeString(as) + " and lora_b " +
                               ShapeString(bs) + " disagree on the rank");
      }
      std::vector<float> bt(static_cast<size_t>(r * dim));  // b^T [r, dim]
      for (int64_t i = 0; i < dim; ++i) {
        for (int64_t j = 0; j < r; ++j)
          bt[static_cast<size_t>(j * dim + i)] = b[static_cast<size_t>(i * r + j)];
      }
      std::swap(a, b);
      a = std::move(bt);
      std::swap(as, bs);
      as = {r, dim};
    }
    const int64_t r = as[0];
    const float scale = alpha != 0 ? static_cast<float>(alpha / static_cast<double>(r)) : 1.0f;
    if (!std::isfinite(scale)) {  // an f64 alpha beyond the float range
      return InvalidArgument(what + ": adapter.lora.alpha / r is beyond the float range");
    }
    rank = static_cast<int32_t>(r);
    if (const int32_t heads = QkHeads(target, c); heads > 0 && file_style != c.rope_style) {
      if (bs[0] == int64_t{heads} * c.head_dim) {
        PermuteQkRows(&b, heads, c.head_dim, bs[1],
                      /*to_interleaved=*/c.rope_style == RopeStyle::kInterleaved);
        permuted = true;
      }
    }
    SLM_RETURN_IF_ERROR(
        AddLowRank(base, target, std::move(a), as, std::move(b), bs, scale, what, &out));
  }
  SLM_RETURN_IF_ERROR(Finish(base, &out).WithContext(path));
  out.name = BaseName(path);
  char buf[160];
  std::snprintf(buf, sizeof(buf), "llama.cpp lora gguf import (r=%d, adapter.lora.alpha=%.9g)",
                rank, alpha);
  out.lineage.method = buf;
  if (auto n = f->GetString("general.name"); n.ok()) out.lineage.notes = "general.name " + *n;
  auto note = [&](const std::string& s) {
    out.lineage.notes += (out.lineage.notes.empty() ? "" : "; ") + s;
  };
  if (permuted) note("q/k lora_b rows permuted to the base's RoPE row order");
  if (skipped_norms > 0) {
    note(std::to_string(skipped_norms) + " *_norm.weight tensors skipped (as llama.cpp does)");
  }
  return out;
}

}  // namespace slm

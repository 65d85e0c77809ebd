#include "package/sections.h"

#include <cstring>
#include <set>

#include "package/format.h"

namespace slm::pkg {

void PutU32(std::vector<uint8_t>* out, uint32_t v) { PutBytes(out, &v, 4); }
void PutU64(std::vector<uint8_t>* out, uint64_t v) { PutBytes(out, &v, 8); }
void PutBytes(std::vector<uint8_t>* out, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);  // host is little-endian (x86, wasm)
}
void PutString32(std::vector<uint8_t>* out, const std::string& s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  PutBytes(out, s.data(), s.size());
}

namespace {

// ---- metadata ----------------------------------------------------------

struct MetaValue {
  uint32_t type = 0;
  std::string s;
  int64_t i = 0;
  float f = 0;
  bool b = false;
};

const char* RopeStyleName(RopeStyle s) {
  return s == RopeStyle::kHalfSplit ? "half_split" : "interleaved";
}

MetaValue Str(std::string s) { MetaValue v; v.type = kMetaString; v.s = std::move(s); return v; }
MetaValue I64(int64_t i) { MetaValue v; v.type = kMetaI64; v.i = i; return v; }
MetaValue F32(float f) { MetaValue v; v.type = kMetaF32; v.f = f; return v; }
MetaValue Bool(bool b) { MetaValue v; v.type = kMetaBool; v.b = b; return v; }

const char* MetaTypeName(uint32_t t) {
  switch (t) {
    case kMetaString: return "string";
    case kMetaI64: return "i64";
    case kMetaF32: return "f32";
    case kMetaBool: return "bool";
    default: return "unknown";
  }
}

// The model.* keys, all required.
constexpr const char* kModelKeys[] = {
    "model.arch",       "model.dim",        "model.head_dim",   "model.hidden_dim",
    "model.max_seq_len", "model.n_heads",   "model.n_kv_heads", "model.n_layers",
    "model.norm_eps",   "model.qkv_bias",   "model.rope_style", "model.rope_theta",
    "model.tied_output", "model.vocab_size",
};

bool IsReserved(const std::string& key) {
  return key.rfind("model.", 0) == 0 || key.rfind("source.", 0) == 0;
}

}  // namespace

StatusOr<std::vector<uint8_t>> EncodeMetadata(const ModelConfig& c, const Provenance& p,
                                              const std::map<std::string, std::string>& extra) {
  std::map<std::string, MetaValue> kv;  // sorted by key: the canonical order
  kv["model.arch"] = Str(c.arch);
  kv["model.dim"] = I64(c.dim);
  kv["model.hidden_dim"] = I64(c.hidden_dim);
  kv["model.n_layers"] = I64(c.n_layers);
  kv["model.n_heads"] = I64(c.n_heads);
  kv["model.n_kv_heads"] = I64(c.n_kv_heads);
  kv["model.head_dim"] = I64(c.head_dim);
  kv["model.vocab_size"] = I64(c.vocab_size);
  kv["model.max_seq_len"] = I64(c.max_seq_len);
  kv["model.norm_eps"] = F32(c.norm_eps);
  kv["model.rope_theta"] = F32(c.rope_theta);
  kv["model.rope_style"] = Str(RopeStyleName(c.rope_style));
  kv["model.tied_output"] = Bool(c.tied_output);
  kv["model.qkv_bias"] = Bool(c.qkv_bias);
  auto opt = [&](const char* key, const std::string& v) {
    if (!v.empty()) kv[key] = Str(v);
  };
  opt("source.format", p.source_format);
  opt("source.path", p.source_path);
  opt("source.sha256", p.source_sha256);
  opt("source.tokenizer", p.tokenizer_source);
  opt("source.notes", p.notes);
  for (const auto& [k, v] : extra) {
    if (k.empty() || k.size() > kMaxKeyLen) {
      return InvalidArgument("metadata key '" + k + "' must have 1.." +
                             std::to_string(kMaxKeyLen) + " bytes");
    }
    if (IsReserved(k)) {
      return InvalidArgument("metadata key '" + k +
                             "' uses a reserved prefix (model., source.)");
    }
    kv[k] = Str(v);
  }
  std::vector<uint8_t> out;
  PutU32(&out, static_cast<uint32_t>(kv.size()));
  for (const auto& [k, v] : kv) {
    PutString32(&out, k);
    PutU32(&out, v.type);
    switch (v.type) {
      case kMetaString: PutString32(&out, v.s); break;
      case kMetaI64: PutU32(&out, 8); PutBytes(&out, &v.i, 8); break;
      case kMetaF32: PutU32(&out, 4); PutBytes(&out, &v.f, 4); break;
      case kMetaBool: { uint8_t b = v.b; PutU32(&out, 1); PutBytes(&out, &b, 1); break; }
    }
  }
  return out;
}

Status DecodeMetadata(ByteReader& r, ModelConfig* c, Provenance* p,
                      std::map<std::string, std::string>* extra) {
  uint32_t count = 0;
  SLM_RETURN_IF_ERROR(r.ReadU32(&count, "entry count"));
  // Each entry takes at least 12 bytes (key length, type, value length).
  if (count > r.remaining() / 12) {
    return r.ErrorAt(r.offset() - 4, "entry count " + std::to_string(count) +
                                         " cannot fit in the remaining " +
                                         std::to_string(r.remaining()) + " bytes");
  }
  std::map<std::string, MetaValue> kv;
  std::string prev;
  for (uint32_t e = 0; e < count; ++e) {
    size_t at = r.offset();
    uint32_t key_len = 0, type = 0, value_len = 0;
    SLM_RETURN_IF_ERROR(r.ReadU32(&key_len, "key length"));
    if (key_len == 0 || key_len > kMaxKeyLen) {
      return r.ErrorAt(at, "entry #" + std::to_string(e) + ": key length " +
                               std::to_string(key_len) + ", expected 1.." +
                               std::to_string(kMaxKeyLen));
    }
    std::string key;
    SLM_RETURN_IF_ERROR(r.ReadString(key_len, &key, "key"));
    if (e > 0 && !(prev < key)) {
      return r.ErrorAt(at, "key '" + key + "' is not after '" + prev +
                               "' (keys must be unique and sorted)");
    }
    prev = key;
    SLM_RETURN_IF_ERROR(r.ReadU32(&type, "type of '" + key + "'"));
    size_t vat = r.offset();
    SLM_RETURN_IF_ERROR(r.ReadU32(&value_len, "value length of '" + key + "'"));
    std::span<const uint8_t> value;
    SLM_RETURN_IF_ERROR(r.ReadSpan(value_len, &value, "value of '" + key + "'"));
    MetaValue v;
    v.type = type;
    size_t want = type == kMetaI64 ? 8 : type == kMetaF32 ? 4 : type == kMetaBool ? 1 : value_len;
    if (want != value_len) {
      return r.ErrorAt(vat, "'" + key + "': " + MetaTypeName(type) + " value has " +
                                std::to_string(value_len) + " bytes, expected " +
                                std::to_string(want));
    }
    switch (type) {
      case kMetaString: v.s.assign(reinterpret_cast<const char*>(value.data()), value.size()); break;
      case kMetaI64: std::memcpy(&v.i, value.data(), 8); break;
      case kMetaF32: std::memcpy(&v.f, value.data(), 4); break;
      case kMetaBool:
        if (value[0] > 1) return r.ErrorAt(vat + 4, "'" + key + "': bool value " + std::to_string(value[0]));
        v.b = value[0] == 1;
        break;
      default:
        // Unknown types are skipped (their bytes are still covered by the
        // section digest) unless they claim a reserved key.
        if (IsReserved(key)) {
          return r.ErrorAt(at, "'" + key + "': unknown value type " + std::to_string(type));
        }
        continue;
    }
    kv.emplace(key, std::move(v));
  }
  if (r.remaining() != 0) {
    return r.Error(std::to_string(r.remaining()) + " unexpected bytes after the last entry");
  }
  const std::string where = r.source() + ": ";
  std::set<std::string> model_keys(std::begin(kModelKeys), std::end(kModelKeys));
  for (const char* k : kModelKeys) {
    if (!kv.count(k)) return FormatError(where + "missing required key '" + k + "'");
  }
  auto want_type = [&](const std::string& k, uint32_t t) -> Status {
    const MetaValue& v = kv.at(k);
    if (v.type != t) {
      return FormatError(where + "key '" + k + "' has type " + MetaTypeName(v.type) +
                         ", expected " + MetaTypeName(t));
    }
    return Status::Ok();
  };
  auto get_i32 = [&](const char* k, int32_t* out) -> Status {
    SLM_RETURN_IF_ERROR(want_type(k, kMetaI64));
    int64_t v = kv.at(k).i;
    if (v < INT32_MIN || v > INT32_MAX) {
      return FormatError(where + "key '" + k + "' = " + std::to_string(v) + " is out of range");
    }
    *out = static_cast<int32_t>(v);
    return Status::Ok();
  };
  SLM_RETURN_IF_ERROR(want_type("model.arch", kMetaString));
  c->arch = kv.at("model.arch").s;
  SLM_RETURN_IF_ERROR(get_i32("model.dim", &c->dim));
  SLM_RETURN_IF_ERROR(get_i32("model.hidden_dim", &c->hidden_dim));
  SLM_RETURN_IF_ERROR(get_i32("model.n_layers", &c->n_layers));
  SLM_RETURN_IF_ERROR(get_i32("model.n_heads", &c->n_heads));
  SLM_RETURN_IF_ERROR(get_i32("model.n_kv_heads", &c->n_kv_heads));
  SLM_RETURN_IF_ERROR(get_i32("model.head_dim", &c->head_dim));
  SLM_RETURN_IF_ERROR(get_i32("model.vocab_size", &c->vocab_size));
  SLM_RETURN_IF_ERROR(get_i32("model.max_seq_len", &c->max_seq_len));
  SLM_RETURN_IF_ERROR(want_type("model.norm_eps", kMetaF32));
  c->norm_eps = kv.at("model.norm_eps").f;
  SLM_RETURN_IF_ERROR(want_type("model.rope_theta", kMetaF32));
  c->rope_theta = kv.at("model.rope_theta").f;
  SLM_RETURN_IF_ERROR(want_type("model.rope_style", kMetaString));
  const std::string& rs = kv.at("model.rope_style").s;
  if (rs == "interleaved") {
    c->rope_style = RopeStyle::kInterleaved;
  } else if (rs == "half_split") {
    c->rope_style = RopeStyle::kHalfSplit;
  } else {
    return FormatError(where + "model.rope_style '" + rs +
                       "', expected 'interleaved' or 'half_split'");
  }
  SLM_RETURN_IF_ERROR(want_type("model.tied_output", kMetaBool));
  c->tied_output = kv.at("model.tied_output").b;
  SLM_RETURN_IF_ERROR(want_type("model.qkv_bias", kMetaBool));
  c->qkv_bias = kv.at("model.qkv_bias").b;

  struct { const char* key; std::string* field; } src[] = {
      {"source.format", &p->source_format},   {"source.path", &p->source_path},
      {"source.sha256", &p->source_sha256},   {"source.tokenizer", &p->tokenizer_source},
      {"source.notes", &p->notes},
  };
  for (auto& [k, v] : kv) {
    if (k.rfind("model.", 0) == 0) {
      // A hyperparameter this reader does not know could change the math:
      // refuse rather than run the model wrongly.
      if (!model_keys.count(k)) {
        return Unsupported(where + "unknown model hyperparameter '" + k + "'");
      }
      continue;
    }
    if (k.rfind("source.", 0) == 0) {
      // Unknown source.* keys are future provenance fields: informational.
      for (auto& s : src) {
        if (k == s.key) {
          SLM_RETURN_IF_ERROR(want_type(k, kMetaString));
          *s.field = v.s;
        }
      }
      continue;
    }
    if (v.type == kMetaString) (*extra)[k] = v.s;
  }
  return Status::Ok();
}

// ---- tokenizer ---------------------------------------------------------

std::vector<uint8_t> EncodeTokenizer(const TokenizerData& t) {
  std::vector<uint8_t> out;
  PutU32(&out, static_cast<uint32_t>(t.type));
  for (int32_t id : {t.bos_id, t.eos_id, t.unk_id, t.pad_id}) PutBytes(&out, &id, 4);
  uint8_t flags[4] = {static_cast<uint8_t>(t.add_bos), static_cast<uint8_t>(t.add_space_prefix), 0, 0};
  PutBytes(&out, flags, 4);
  PutString32(&out, t.pre);
  PutU32(&out, static_cast<uint32_t>(t.pieces.size()));
  PutU32(&out, static_cast<uint32_t>(t.scores.size()));
  PutU32(&out, static_cast<uint32_t>(t.attrs.size()));
  PutU32(&out, static_cast<uint32_t>(t.merges.size()));
  for (const std::string& s : t.pieces) PutString32(&out, s);
  PutBytes(&out, t.scores.data(), t.scores.size() * 4);
  PutBytes(&out, t.attrs.data(), t.attrs.size() * 4);
  for (const std::string& s : t.merges) PutString32(&out, s);
  return out;
}

namespace {
Status ReadStrings(ByteReader& r, uint32_t n, std::vector<std::string>* out, const char* what) {
  out->resize(n);
  for (uint32_t k = 0; k < n; ++k) {
    size_t at = r.offset();
    uint32_t len = 0;
    SLM_RETURN_IF_ERROR(r.ReadU32(&len, std::string(what) + " length"));
    if (len > kMaxPieceLen) {
      return r.ErrorAt(at, std::string(what) + " #" + std::to_string(k) + ": length " +
                               std::to_string(len) + " exceeds " + std::to_string(kMaxPieceLen));
    }
    SLM_RETURN_IF_ERROR(r.ReadString(len, &(*out)[k], what));
  }
  return Status::Ok();
}
}  // namespace

Status DecodeTokenizer(ByteReader& r, TokenizerData* t) {
  uint32_t type = 0;
  SLM_RETURN_IF_ERROR(r.ReadU32(&type, "tokenizer type"));
  if (type > 1) {
    return r.ErrorAt(r.offset() - 4, "tokenizer type " + std::to_string(type) +
                                         ", expected 0 (sentencepiece) or 1 (byte-level bpe)");
  }
  t->type = static_cast<TokenizerType>(type);
  SLM_RETURN_IF_ERROR(r.ReadI32(&t->bos_id, "bos id"));
  SLM_RETURN_IF_ERROR(r.ReadI32(&t->eos_id, "eos id"));
  SLM_RETURN_IF_ERROR(r.ReadI32(&t->unk_id, "unk id"));
  SLM_RETURN_IF_ERROR(r.ReadI32(&t->pad_id, "pad id"));
  size_t at = r.offset();
  uint8_t f[4] = {};
  for (auto& b : f) SLM_RETURN_IF_ERROR(r.ReadU8(&b, "flags"));
  if (f[0] > 1 || f[1] > 1 || f[2] != 0 || f[3] != 0) {
    return r.ErrorAt(at, "flag bytes must be 0/1, 0/1, 0, 0");
  }
  t->add_bos = f[0];
  t->add_space_prefix = f[1];
  at = r.offset();
  uint32_t pre_len = 0;
  SLM_RETURN_IF_ERROR(r.ReadU32(&pre_len, "pre-tokenizer length"));
  if (pre_len > kMaxKeyLen) return r.ErrorAt(at, "pre-tokenizer name length " + std::to_string(pre_len));
  SLM_RETURN_IF_ERROR(r.ReadString(pre_len, &t->pre, "pre-tokenizer"));
  at = r.offset();
  uint32_t n[4] = {};
  const char* names[4] = {"piece count", "score count", "attr count", "merge count"};
  for (int k = 0; k < 4; ++k) SLM_RETURN_IF_ERROR(r.ReadU32(&n[k], names[k]));
  // Every element takes at least 4 bytes: bound the counts before allocating.
  uint64_t min_bytes = 4ull * n[0] + 4ull * n[1] + 4ull * n[2] + 4ull * n[3];
  if (min_bytes > r.remaining()) {
    return r.ErrorAt(at, "counts (pieces " + std::to_string(n[0]) + ", scores " +
                             std::to_string(n[1]) + ", attrs " + std::to_string(n[2]) +
                             ", merges " + std::to_string(n[3]) + ") need at least " +
                             std::to_string(min_bytes) + " bytes, " +
                             std::to_string(r.remaining()) + " remain");
  }
  if ((n[1] != 0 && n[1] != n[0]) || (n[2] != 0 && n[2] != n[0])) {
    return r.ErrorAt(at, "score count " + std::to_string(n[1]) + " and attr count " +
                             std::to_string(n[2]) + " must be 0 or the piece count " +
                             std::to_string(n[0]));
  }
  SLM_RETURN_IF_ERROR(ReadStrings(r, n[0], &t->pieces, "piece"));
  t->scores.resize(n[1]);
  for (auto& s : t->scores) SLM_RETURN_IF_ERROR(r.ReadF32(&s, "score"));
  t->attrs.resize(n[2]);
  for (auto& a : t->attrs) SLM_RETURN_IF_ERROR(r.ReadI32(&a, "attr"));
  SLM_RETURN_IF_ERROR(ReadStrings(r, n[3], &t->merges, "merge"));
  if (r.remaining() != 0) {
    return r.Error(std::to_string(r.remaining()) + " unexpected bytes after the last merge");
  }
  return Status::Ok();
}

Status ValidateTokenizer(const TokenizerData& t, int32_t vocab_size, const std::string& where) {
  const size_t n = t.pieces.size();
  if (n == 0) return FormatError(where + "tokenizer has no pieces");
  if (n > static_cast<size_t>(vocab_size)) {
    return FormatError(where + "tokenizer has " + std::to_string(n) +
                       " pieces, more than the model's vocab_size " + std::to_string(vocab_size));
  }
  if (t.type != TokenizerType::kSentencePiece && t.type != TokenizerType::kByteLevelBpe) {
    return FormatError(where + "unknown tokenizer type " + std::to_string(static_cast<int>(t.type)));
  }
  if (!t.scores.empty() && t.scores.size() != n) {
    return FormatError(where + "tokenizer has " + std::to_string(t.scores.size()) +
                       " scores for " + std::to_string(n) + " pieces");
  }
  if (!t.attrs.empty() && t.attrs.size() != n) {
    return FormatError(where + "tokenizer has " + std::to_string(t.attrs.size()) +
                       " attrs for " + std::to_string(n) + " pieces");
  }
  struct { const char* name; int32_t id; } ids[] = {
      {"bos", t.bos_id}, {"eos", t.eos_id}, {"unk", t.unk_id}, {"pad", t.pad_id}};
  for (auto& [name, id] : ids) {
    if (id < -1 || id >= static_cast<int64_t>(n)) {
      return FormatError(where + "tokenizer " + name + " id " + std::to_string(id) +
                         " is outside -1.." + std::to_string(n - 1));
    }
  }
  for (size_t k = 0; k < n; ++k) {
    if (t.pieces[k].size() > kMaxPieceLen) {
      return FormatError(where + "piece #" + std::to_string(k) + " is longer than " +
                         std::to_string(kMaxPieceLen) + " bytes");
    }
  }
  for (size_t k = 0; k < t.merges.size(); ++k) {
    if (t.merges[k].size() > kMaxPieceLen) {
      return FormatError(where + "merge #" + std::to_string(k) + " is too long");
    }
  }
  if (t.pre.size() > kMaxKeyLen) return FormatError(where + "pre-tokenizer name is too long");
  return Status::Ok();
}

// ---- digest ------------------------------------------------------------

Digest PackageDigest(uint32_t version, uint32_t kind, uint32_t flags, const Digest& metadata,
                     const Digest& tokenizer, const std::vector<DigestTensor>& tensors,
                     const std::vector<DigestSection>& other_sections) {
  std::vector<uint8_t> buf;
  PutBytes(&buf, kDigestDomain, sizeof(kDigestDomain) - 1);
  PutU32(&buf, version);
  PutU32(&buf, kind);
  PutU32(&buf, flags);
  PutBytes(&buf, metadata.data(), 32);
  PutBytes(&buf, tokenizer.data(), 32);
  PutU64(&buf, tensors.size());
  for (const DigestTensor& t : tensors) {
    PutString32(&buf, *t.name);
    PutU32(&buf, t.dtype);
    PutU32(&buf, static_cast<uint32_t>(t.shape->size()));
    for (int64_t d : *t.shape) PutU64(&buf, static_cast<uint64_t>(d));
    PutU64(&buf, t.size);
    PutBytes(&buf, t.sha256->data(), 32);
  }
  for (const DigestSection& s : other_sections) {
    PutU32(&buf, s.id);
    PutU64(&buf, s.size);
    PutBytes(&buf, s.sha256->data(), 32);
  }
  return Sha256Of(buf);
}

}  // namespace slm::pkg

#include "tools/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

namespace slm::tools {
namespace {

constexpr uint64_t kAlignment = 32;
constexpr uint32_t kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8, kArray = 9;

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

class Buf {
 public:
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void F32(float v) { Raw(&v, 4); }
  void Str(const std::string& s) {
    U64(s.size());
    Raw(s.data(), s.size());
  }
  void Raw(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  // Key/value helpers.
  void KvU32(const std::string& k, uint32_t v) { Key(k, kU32); U32(v); }
  void KvF32(const std::string& k, float v) { Key(k, kF32); F32(v); }
  void KvBool(const std::string& k, bool v) { Key(k, kBool); uint8_t b = v; Raw(&b, 1); }
  void KvStr(const std::string& k, const std::string& v) { Key(k, kString); Str(v); }
  void KvStrArray(const std::string& k, const std::vector<std::string>& v) {
    Key(k, kArray);
    U32(kString);
    U64(v.size());
    for (const std::string& s : v) Str(s);
  }
  void KvF32Array(const std::string& k, const std::vector<float>& v) {
    Key(k, kArray);
    U32(kF32);
    U64(v.size());
    for (float f : v) F32(f);
  }
  void KvI32Array(const std::string& k, const std::vector<int32_t>& v) {
    Key(k, kArray);
    U32(kI32);
    U64(v.size());
    for (int32_t i : v) Raw(&i, 4);
  }
  std::vector<uint8_t> bytes;
  uint64_t kv_count = 0;

 private:
  void Key(const std::string& k, uint32_t type) {
    Str(k);
    U32(type);
    ++kv_count;
  }
};

// llama_ftype for the most common weight type.
uint32_t FileType(const std::vector<GgufTensorSpec>& tensors) {
  std::map<DType, uint64_t> count;
  for (const GgufTensorSpec& t : tensors) {
    if (t.shape.size() >= 2) count[t.dtype] += 1;
  }
  DType best = DType::kF32;
  uint64_t best_n = 0;
  for (auto& [t, n] : count) {
    if (n > best_n) best = t, best_n = n;
  }
  bool has_q6k = count.count(DType::kQ6_K) && best == DType::kQ4_K;
  switch (best) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ8_0: return 7;
    case DType::kQ4_K: return has_q6k ? 15 : 14;  // Q4_K_M : Q4_K_S
    case DType::kQ6_K: return 18;
    case DType::kBF16: return 32;
  }
  return 0;
}

struct FileCloser {
  void operator()(FILE* f) const { if (f) std::fclose(f); }
};

}  // namespace

Status WriteGgufStreaming(const GgufModelInfo& info, const std::vector<GgufTensorSpec>& tensors,
                          const GgufTensorSource& fill, const std::string& path) {
  const ModelConfig& c = info.config;
  SLM_RETURN_IF_ERROR(c.Validate());
  if (c.arch != "llama" && c.arch != "qwen2") return Unsupported("GGUF writer: arch '" + c.arch + "'");
  const bool rope_ok = (c.arch == "llama") == (c.rope_style == RopeStyle::kInterleaved);
  if (!rope_ok || (c.arch == "llama" && c.qkv_bias)) {
    return Unsupported("GGUF writer: arch '" + c.arch + "' implies its RoPE style and biases; config differs");
  }
  const TokenizerData& tk = info.tokenizer;
  if (tk.pieces.size() != static_cast<size_t>(c.vocab_size)) {
    return InvalidArgument("GGUF writer: tokenizer has " + std::to_string(tk.pieces.size()) +
                           " pieces, config vocab " + std::to_string(c.vocab_size));
  }

  Buf kv;
  const std::string p = c.arch + ".";
  kv.KvStr("general.architecture", c.arch);
  kv.KvStr("general.name", info.name);
  kv.KvU32("general.file_type", FileType(tensors));
  kv.KvU32("general.alignment", kAlignment);
  kv.KvU32(p + "context_length", c.max_seq_len);
  kv.KvU32(p + "embedding_length", c.dim);
  kv.KvU32(p + "block_count", c.n_layers);
  kv.KvU32(p + "feed_forward_length", c.hidden_dim);
  kv.KvU32(p + "rope.dimension_count", c.head_dim);
  kv.KvU32(p + "attention.head_count", c.n_heads);
  kv.KvU32(p + "attention.head_count_kv", c.n_kv_heads);
  kv.KvU32(p + "attention.key_length", c.head_dim);
  kv.KvU32(p + "attention.value_length", c.head_dim);
  kv.KvF32(p + "attention.layer_norm_rms_epsilon", c.norm_eps);
  kv.KvF32(p + "rope.freq_base", c.rope_theta);
  const bool spm = tk.type == TokenizerType::kSentencePiece;
  kv.KvStr("tokenizer.ggml.model", spm ? "llama" : "gpt2");
  if (!spm) kv.KvStr("tokenizer.ggml.pre", tk.pre);
  kv.KvStrArray("tokenizer.ggml.tokens", tk.pieces);
  if (!tk.scores.empty()) kv.KvF32Array("tokenizer.ggml.scores", tk.scores);
  if (!tk.attrs.empty()) kv.KvI32Array("tokenizer.ggml.token_type", tk.attrs);
  if (!tk.merges.empty()) kv.KvStrArray("tokenizer.ggml.merges", tk.merges);
  if (tk.bos_id >= 0) kv.KvU32("tokenizer.ggml.bos_token_id", tk.bos_id);
  if (tk.eos_id >= 0) kv.KvU32("tokenizer.ggml.eos_token_id", tk.eos_id);
  if (tk.unk_id >= 0) kv.KvU32("tokenizer.ggml.unknown_token_id", tk.unk_id);
  if (tk.pad_id >= 0) kv.KvU32("tokenizer.ggml.padding_token_id", tk.pad_id);
  kv.KvBool("tokenizer.ggml.add_bos_token", tk.add_bos);
  kv.KvBool("tokenizer.ggml.add_space_prefix", tk.add_space_prefix);

  Buf ti;
  std::vector<uint64_t> sizes;
  uint64_t cursor = 0;
  for (const GgufTensorSpec& t : tensors) {
    uint64_t n = 0, bytes = 0;
    if (!ShapeElements(t.shape, &n) || !DTypeBytes(t.dtype, n, &bytes)) {
      return InvalidArgument("GGUF writer: tensor '" + t.name + "' " + ShapeString(t.shape) +
                             " cannot be stored as " + DTypeName(t.dtype));
    }
    ti.Str(t.name);
    ti.U32(static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) ti.U64(static_cast<uint64_t>(*it));
    ti.U32(static_cast<uint32_t>(t.dtype));
    cursor = AlignUp(cursor, kAlignment);
    ti.U64(cursor);
    sizes.push_back(bytes);
    cursor += bytes;
  }

  Buf head;
  head.Raw("GGUF", 4);
  head.U32(3);
  head.U64(tensors.size());
  head.U64(kv.kv_count);
  head.Raw(kv.bytes.data(), kv.bytes.size());
  head.Raw(ti.bytes.data(), ti.bytes.size());
  head.bytes.resize(AlignUp(head.bytes.size(), kAlignment), 0);

  const std::string tmp = path + ".tmp";
  std::unique_ptr<FILE, FileCloser> f(std::fopen(tmp.c_str(), "wb"));
  if (!f) return IoError("cannot create '" + tmp + "'");
  auto write = [&](const void* data, size_t n) -> Status {
    if (n > 0 && std::fwrite(data, 1, n, f.get()) != n) return IoError("writing '" + tmp + "' failed");
    return Status::Ok();
  };
  Status s = write(head.bytes.data(), head.bytes.size());
  uint64_t pos = 0;
  static const uint8_t kZeros[kAlignment] = {};
  for (size_t i = 0; s.ok() && i < tensors.size(); ++i) {
    const uint64_t pad = AlignUp(pos, kAlignment) - pos;
    s = write(kZeros, pad);
    pos += pad;
    if (!s.ok()) break;
    auto bytes = fill(i);
    if (!bytes.ok()) {
      s = bytes.status().WithContext("tensor '" + tensors[i].name + "': ");
      break;
    }
    if (bytes->size() != sizes[i]) {
      s = Internal("tensor '" + tensors[i].name + "': source gave " + std::to_string(bytes->size()) +
                   " bytes, expected " + std::to_string(sizes[i]));
      break;
    }
    s = write(bytes->data(), bytes->size());
    pos += bytes->size();
  }
  if (s.ok() && std::fflush(f.get()) != 0) s = IoError("writing '" + tmp + "' failed");
  FILE* raw = f.release();
  if (std::fclose(raw) != 0 && s.ok()) s = IoError("closing '" + tmp + "' failed");
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    s = IoError("cannot rename '" + tmp + "' to '" + path + "'");
  }
  if (!s.ok()) std::remove(tmp.c_str());
  return s;
}

Status WriteGguf(const ModelBundle& b, const std::string& path) {
  GgufModelInfo info;
  info.config = b.config;
  info.tokenizer = b.tokenizer;
  auto it = b.metadata.find("general.name");
  info.name = it != b.metadata.end() ? it->second : "slm";
  std::vector<GgufTensorSpec> specs;
  for (const TensorData& t : b.tensors) specs.push_back({t.name, t.shape, t.dtype});
  return WriteGgufStreaming(
      info, specs,
      [&](size_t i) -> StatusOr<std::vector<uint8_t>> {
        auto bytes = b.tensors[i].bytes();
        return std::vector<uint8_t>(bytes.begin(), bytes.end());
      },
      path);
}

}  // namespace slm::tools

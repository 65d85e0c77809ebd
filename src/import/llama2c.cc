#include "import/llama2c.h"

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "base/byte_reader.h"
#include "base/sha256.h"
#include "tokenizer/load.h"

namespace slm {
namespace {

constexpr uint32_t kMagicAk42 = 0x616b3432;
constexpr size_t kInt8HeaderBytes = 256;

struct RawHeader {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

Status ReadRawHeader(ByteReader* r, RawHeader* h) {
  SLM_RETURN_IF_ERROR(r->ReadI32(&h->dim, "dim"));
  SLM_RETURN_IF_ERROR(r->ReadI32(&h->hidden_dim, "hidden_dim"));
  SLM_RETURN_IF_ERROR(r->ReadI32(&h->n_layers, "n_layers"));
  SLM_RETURN_IF_ERROR(r->ReadI32(&h->n_heads, "n_heads"));
  SLM_RETURN_IF_ERROR(r->ReadI32(&h->n_kv_heads, "n_kv_heads"));
  SLM_RETURN_IF_ERROR(r->ReadI32(&h->vocab_size, "vocab_size"));
  SLM_RETURN_IF_ERROR(r->ReadI32(&h->seq_len, "seq_len"));
  return Status::Ok();
}

// Header -> ModelConfig, refusing absurd values with the field name and value.
Status ConfigFromHeader(const RawHeader& h, bool shared, const std::string& source,
                        ModelConfig* c) {
  auto check = [&](const char* field, int32_t v, int32_t max) -> Status {
    if (v <= 0 || v > max) {
      return FormatError(source + ": header field " + field + " = " + std::to_string(v) +
                         ", expected 1.." + std::to_string(max));
    }
    return Status::Ok();
  };
  SLM_RETURN_IF_ERROR(check("dim", h.dim, 1 << 16));
  SLM_RETURN_IF_ERROR(check("hidden_dim", h.hidden_dim, 1 << 18));
  SLM_RETURN_IF_ERROR(check("n_layers", h.n_layers, 1024));
  SLM_RETURN_IF_ERROR(check("n_heads", h.n_heads, h.dim));
  SLM_RETURN_IF_ERROR(check("n_kv_heads", h.n_kv_heads, h.n_heads));
  SLM_RETURN_IF_ERROR(check("vocab_size", h.vocab_size, 1 << 22));
  SLM_RETURN_IF_ERROR(check("seq_len", h.seq_len, 1 << 22));
  if (h.dim % h.n_heads != 0) {
    return FormatError(source + ": header field n_heads = " + std::to_string(h.n_heads) +
                       " does not divide dim = " + std::to_string(h.dim));
  }
  c->arch = "llama";
  c->dim = h.dim;
  c->hidden_dim = h.hidden_dim;
  c->n_layers = h.n_layers;
  c->n_heads = h.n_heads;
  c->n_kv_heads = h.n_kv_heads;
  c->head_dim = h.dim / h.n_heads;
  c->vocab_size = h.vocab_size;
  c->max_seq_len = h.seq_len;
  c->norm_eps = 1e-5f;
  c->rope_theta = 10000.0f;
  c->rope_style = RopeStyle::kInterleaved;
  c->tied_output = shared;
  c->qkv_bias = false;
  Status s = c->Validate();
  if (!s.ok()) return s.WithContext(source);
  return Status::Ok();
}

// One named weight of the llama2.c layout: its GGUF-style name and [out, in] shape.
struct Slot {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t elements;
};

Slot MakeSlot(std::string name, std::vector<int64_t> shape) {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);  // dims <= 2^22 each, two dims: no overflow
  return {std::move(name), std::move(shape), n};
}

std::string LayerName(int32_t l, const char* what) {
  return "blk." + std::to_string(l) + "." + what + ".weight";
}

// The per-layer matrices in llama2.c file order: all layers of wq, then of wk, ...
std::vector<Slot> MatrixSlots(const ModelConfig& c) {
  const int64_t dim = c.dim, hidden = c.hidden_dim, kv = c.kv_dim(), qd = c.q_dim();
  struct Kind {
    const char* name;
    int64_t out, in;
  };
  const Kind kinds[] = {{"attn_q", qd, dim},         {"attn_k", kv, dim},
                        {"attn_v", kv, dim},         {"attn_output", dim, qd},
                        {"ffn_gate", hidden, dim},   {"ffn_down", dim, hidden},
                        {"ffn_up", hidden, dim}};
  std::vector<Slot> slots;
  for (const Kind& k : kinds) {
    for (int32_t l = 0; l < c.n_layers; ++l) slots.push_back(MakeSlot(LayerName(l, k.name), {k.out, k.in}));
  }
  return slots;
}

TensorData ViewTensor(const Slot& s, std::span<const uint8_t> bytes, uint64_t offset) {
  TensorData t;
  t.name = s.name;
  t.dtype = DType::kF32;
  t.shape = s.shape;
  t.view = bytes.subspan(offset, s.elements * 4);
  return t;
}

std::string SizeMismatch(const std::string& source, const char* what, uint64_t expected,
                         uint64_t found) {
  return source + ": " + what + " needs " + std::to_string(expected) + " bytes, the file has " +
         std::to_string(found);
}

Status ImportF32(std::span<const uint8_t> bytes, const std::string& source, ModelBundle* b) {
  ByteReader r(bytes, source);
  RawHeader h;
  SLM_RETURN_IF_ERROR(ReadRawHeader(&r, &h));
  const bool shared = h.vocab_size > 0;
  if (h.vocab_size == std::numeric_limits<int32_t>::min()) {  // -INT32_MIN overflows
    return FormatError(source + ": header field vocab_size = " + std::to_string(h.vocab_size) +
                       ", expected 1..4194304 (negative: unshared classifier)");
  }
  if (h.vocab_size < 0) h.vocab_size = -h.vocab_size;
  SLM_RETURN_IF_ERROR(ConfigFromHeader(h, shared, source, &b->config));
  const ModelConfig& c = b->config;
  const int64_t dim = c.dim, L = c.n_layers, vocab = c.vocab_size;

  // File order with the names we give each piece (norms are split per layer).
  std::vector<Slot> order;
  order.push_back(MakeSlot("token_embd.weight", {vocab, dim}));
  for (int32_t l = 0; l < L; ++l) order.push_back(MakeSlot(LayerName(l, "attn_norm"), {dim}));
  std::vector<Slot> mats = MatrixSlots(c);
  // wq, wk, wv, wo come before rms_ffn; w1, w2, w3 after it.
  const size_t attn_mats = static_cast<size_t>(4 * L);
  order.insert(order.end(), mats.begin(), mats.begin() + attn_mats);
  for (int32_t l = 0; l < L; ++l) order.push_back(MakeSlot(LayerName(l, "ffn_norm"), {dim}));
  order.insert(order.end(), mats.begin() + attn_mats, mats.end());
  order.push_back(MakeSlot("output_norm.weight", {dim}));
  const uint64_t freq_elems = static_cast<uint64_t>(c.max_seq_len) * (c.head_dim / 2) * 2;
  order.push_back(MakeSlot("", {static_cast<int64_t>(freq_elems)}));  // freq_cis: skipped
  if (!shared) order.push_back(MakeSlot("output.weight", {vocab, dim}));

  uint64_t need = 28;
  for (const Slot& s : order) need += s.elements * 4;  // each < 2^46: the sum cannot overflow
  if (need != bytes.size()) {
    return FormatError(SizeMismatch(source, "llama2.c f32 checkpoint with this header", need,
                                    bytes.size()));
  }
  uint64_t off = 28;
  for (const Slot& s : order) {
    if (!s.name.empty()) b->tensors.push_back(ViewTensor(s, bytes, off));
    off += s.elements * 4;
  }
  b->provenance.source_format = "llama2c-f32";
  b->provenance.notes = "llama2.c legacy float32 checkpoint; freq_cis tables ignored";
  return Status::Ok();
}

Status ImportInt8(std::span<const uint8_t> bytes, const std::string& source, ModelBundle* b) {
  ByteReader r(bytes, source);
  uint32_t magic = 0;
  int32_t version = 0, group_size = 0;
  uint8_t shared_byte = 0;
  SLM_RETURN_IF_ERROR(r.ReadU32(&magic, "magic"));
  SLM_RETURN_IF_ERROR(r.ReadI32(&version, "version"));
  if (version != 2) {
    return Unsupported(source + ": llama2.c 'ak42' export version " + std::to_string(version) +
                       ", only version 2 (int8) is supported");
  }
  RawHeader h;
  SLM_RETURN_IF_ERROR(ReadRawHeader(&r, &h));
  SLM_RETURN_IF_ERROR(r.ReadU8(&shared_byte, "shared_classifier"));
  SLM_RETURN_IF_ERROR(r.ReadI32(&group_size, "group_size"));
  if (shared_byte > 1) {
    return FormatError(source + ": header field shared_classifier = " +
                       std::to_string(shared_byte) + ", expected 0 or 1");
  }
  SLM_RETURN_IF_ERROR(ConfigFromHeader(h, shared_byte == 1, source, &b->config));
  const ModelConfig& c = b->config;
  if (group_size <= 0 || group_size > (1 << 16)) {
    return FormatError(source + ": header field group_size = " + std::to_string(group_size) +
                       ", expected 1..65536");
  }
  const int64_t dim = c.dim, L = c.n_layers, vocab = c.vocab_size;
  std::vector<Slot> norms;
  for (int32_t l = 0; l < L; ++l) norms.push_back(MakeSlot(LayerName(l, "attn_norm"), {dim}));
  for (int32_t l = 0; l < L; ++l) norms.push_back(MakeSlot(LayerName(l, "ffn_norm"), {dim}));
  norms.push_back(MakeSlot("output_norm.weight", {dim}));
  std::vector<Slot> quant;
  quant.push_back(MakeSlot("token_embd.weight", {vocab, dim}));
  std::vector<Slot> mats = MatrixSlots(c);
  quant.insert(quant.end(), mats.begin(), mats.end());
  if (!c.tied_output) quant.push_back(MakeSlot("output.weight", {vocab, dim}));

  uint64_t need = kInt8HeaderBytes;
  for (const Slot& s : norms) need += s.elements * 4;
  for (const Slot& s : quant) {
    if (s.elements % static_cast<uint64_t>(group_size) != 0) {
      return FormatError(source + ": tensor " + s.name + " has " + std::to_string(s.elements) +
                         " elements, not a multiple of group_size " + std::to_string(group_size));
    }
    need += s.elements + s.elements / group_size * 4;
  }
  if (need != bytes.size()) {
    return FormatError(SizeMismatch(source, "llama2.c int8 checkpoint with this header", need,
                                    bytes.size()));
  }
  uint64_t off = kInt8HeaderBytes;
  for (const Slot& s : norms) {
    b->tensors.push_back(ViewTensor(s, bytes, off));
    off += s.elements * 4;
  }
  for (const Slot& s : quant) {
    TensorData t;
    t.name = s.name;
    t.dtype = DType::kF32;
    t.shape = s.shape;
    t.owned.resize(s.elements * 4);
    const uint8_t* q = bytes.data() + off;
    const uint8_t* sc = q + s.elements;
    float* out = reinterpret_cast<float*>(t.owned.data());
    for (uint64_t g = 0; g < s.elements / group_size; ++g) {
      float scale;
      std::memcpy(&scale, sc + g * 4, 4);
      for (int32_t i = 0; i < group_size; ++i) {
        const uint64_t idx = g * group_size + i;
        out[idx] = static_cast<float>(static_cast<int8_t>(q[idx])) * scale;
      }
    }
    off += s.elements + s.elements / group_size * 4;
    b->tensors.push_back(std::move(t));
  }
  b->provenance.source_format = "llama2c-int8";
  b->provenance.notes = "llama2.c int8 (version 2, group_size " + std::to_string(group_size) +
                        ") tensors dequantized to f32 on import (value = q * scale); lossy source";
  return Status::Ok();
}

}  // namespace

StatusOr<ModelBundle> ImportLlama2c(const std::string& path, const std::string& tokenizer_path) {
  SLM_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  return ImportLlama2cFile(std::move(file), tokenizer_path);
}

StatusOr<ModelBundle> ImportLlama2cFile(std::unique_ptr<MappedFile> file,
                                        const std::string& tokenizer_path) {
  const std::string path = file->path();
  std::span<const uint8_t> bytes = file->bytes();
  ModelBundle b;
  uint32_t magic = 0;
  if (bytes.size() >= 4) std::memcpy(&magic, bytes.data(), 4);
  if (magic == kMagicAk42) {
    SLM_RETURN_IF_ERROR(ImportInt8(bytes, path, &b));
  } else {
    SLM_RETURN_IF_ERROR(ImportF32(bytes, path, &b));
  }
  b.provenance.source_path = path;
  b.provenance.source_sha256 = DigestHex(Sha256Of(bytes));
  b.metadata["general.architecture"] = "llama";
  if (!tokenizer_path.empty()) {
    SLM_ASSIGN_OR_RETURN(b.tokenizer, LoadTokenizerFile(tokenizer_path));
    b.provenance.tokenizer_source = tokenizer_path;
    if (static_cast<int32_t>(b.tokenizer.pieces.size()) != b.config.vocab_size) {
      return FormatError(tokenizer_path + ": tokenizer has " +
                         std::to_string(b.tokenizer.pieces.size()) + " tokens, " + path +
                         " expects vocab_size " + std::to_string(b.config.vocab_size));
    }
  }
  b.keep_alive.push_back(std::move(file));
  return b;
}

}  // namespace slm

#include "adapter/validate.h"

#include <algorithm>
#include <cstring>

#include "adapter/adapter_package.h"
#include "package/sections.h"

namespace slm {
namespace {

struct TensorKey {
  const std::string* name;
  uint32_t dtype;
  const std::vector<int64_t>* shape;
  Digest sha;
};

Digest Compat(const ModelConfig& c, std::vector<TensorKey> ts, const Digest& tokenizer) {
  std::sort(ts.begin(), ts.end(),
            [](const TensorKey& a, const TensorKey& b) { return *a.name < *b.name; });
  std::vector<uint8_t> b;
  const char kDomain[] = "slm compat digest v1";
  pkg::PutBytes(&b, kDomain, sizeof(kDomain) - 1);
  pkg::PutString32(&b, c.arch);
  for (int64_t v : {c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim,
                    c.vocab_size, c.max_seq_len}) {
    pkg::PutU64(&b, static_cast<uint64_t>(v));
  }
  uint32_t bits = 0;
  std::memcpy(&bits, &c.norm_eps, 4);
  pkg::PutU32(&b, bits);
  std::memcpy(&bits, &c.rope_theta, 4);
  pkg::PutU32(&b, bits);
  pkg::PutU32(&b, static_cast<uint32_t>(c.rope_style));
  b.push_back(c.tied_output ? 1 : 0);
  b.push_back(c.qkv_bias ? 1 : 0);
  pkg::PutU64(&b, ts.size());
  for (const TensorKey& t : ts) {
    pkg::PutString32(&b, *t.name);
    pkg::PutU32(&b, t.dtype);
    pkg::PutU32(&b, static_cast<uint32_t>(t.shape->size()));
    for (int64_t d : *t.shape) pkg::PutU64(&b, static_cast<uint64_t>(d));
    pkg::PutBytes(&b, t.sha.data(), 32);
  }
  pkg::PutBytes(&b, tokenizer.data(), 32);
  return Sha256Of(b);
}

}  // namespace

Digest CompatibilityDigest(const Package& base) {
  std::vector<TensorKey> ts;
  for (size_t i = 0; i < base.tensors().size(); ++i) {
    const TensorData& t = base.tensors()[i];
    ts.push_back({&t.name, static_cast<uint32_t>(t.dtype), &t.shape, base.tensor_digest(i)});
  }
  return Compat(base.config(), std::move(ts), base.tokenizer_digest());
}

Digest TokenizerDigest(const ModelBundle& b) { return Sha256Of(pkg::EncodeTokenizer(b.tokenizer)); }

Digest CompatibilityDigest(const ModelBundle& b) {
  std::vector<TensorKey> ts;
  for (const TensorData& t : b.tensors)
    ts.push_back({&t.name, static_cast<uint32_t>(t.dtype), &t.shape, Sha256Of(t.bytes())});
  return Compat(b.config, std::move(ts), TokenizerDigest(b));
}

Status ValidateAdapter(const Package& base, const Adapter& a) {
  const std::string who = "adapter '" + a.name + "'";
  if (a.base_tokenizer != base.tokenizer_digest()) {
    return InvalidArgument(who + " was made for a base with tokenizer digest " +
                           DigestHex(a.base_tokenizer) + ", but " + base.name() +
                           " has tokenizer digest " + base.tokenizer_digest_hex() +
                           " (wrong tokenizer)");
  }
  const Digest compat = CompatibilityDigest(base);
  if (a.base_compat != compat) {
    return InvalidArgument(who + " was made for a base with compatibility digest " +
                           DigestHex(a.base_compat) + ", but " + base.name() +
                           " has compatibility digest " + DigestHex(compat) +
                           " (wrong base: different architecture, tensors, dtypes or weights)");
  }
  SLM_RETURN_IF_ERROR(CheckAdapterStructure(a));
  for (const TensorDelta& d : a.deltas) {
    const TensorData* t = base.FindTensor(d.target);
    if (t == nullptr) {
      return NotFound(who + ": target tensor '" + d.target + "' is not in the base " + base.name());
    }
    if (t->shape != d.shape) {
      return InvalidArgument(who + ": delta for '" + d.target + "' has shape " +
                             ShapeString(d.shape) + ", the base tensor has " +
                             ShapeString(t->shape));
    }
    if (t->shape.size() == 1 && t->dtype != DType::kF32) {
      return Unsupported(who + ": 1-D target '" + d.target + "' is " + DTypeName(t->dtype) +
                         " in the base (1-D weights are f32)");
    }
  }
  return Status::Ok();
}

}  // namespace slm

#include "import/gguf_import.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "import/dequant.h"
#include "import/gguf.h"
#include "import/import.h"
#include "package/package.h"
#include "quant/quant.h"
#include "test_util.h"

namespace slm {
namespace {

// ---- dequantizers ------------------------------------------------------

TEST(Dequant, F16AndBf16) {
  EXPECT_EQ(F16ToF32(0x3c00), 1.0f);
  EXPECT_EQ(F16ToF32(0xc000), -2.0f);
  EXPECT_EQ(F16ToF32(0x7bff), 65504.0f);
  EXPECT_EQ(F16ToF32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(F16ToF32(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(F16ToF32(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(F16ToF32(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isinf(F16ToF32(0x7c00)));
  EXPECT_TRUE(std::isnan(F16ToF32(0x7e00)));
  EXPECT_TRUE(std::signbit(F16ToF32(0x8000)));
  EXPECT_EQ(Bf16ToF32(0x3f80), 1.0f);
  EXPECT_EQ(Bf16ToF32(0xc0a0), -5.0f);
}

TEST(Dequant, Q8_0AndQ4_0Blocks) {
  std::vector<uint8_t> q8(34);
  q8[0] = 0x00;
  q8[1] = 0x38;  // d = 0.5
  for (int j = 0; j < 32; ++j) q8[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  std::vector<float> y;
  ASSERT_TRUE(DequantizeToF32(DType::kQ8_0, q8, 32, &y).ok());
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 0.5f * (j - 16));

  std::vector<uint8_t> q4(18);
  q4[0] = 0x00;
  q4[1] = 0x40;  // d = 2
  for (int j = 0; j < 16; ++j) q4[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  ASSERT_TRUE(DequantizeToF32(DType::kQ4_0, q4, 32, &y).ok());
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 2.0f * (j - 8)) << j;            // low nibbles: first half
    EXPECT_EQ(y[j + 16], 2.0f * ((15 - j) - 8)) << j;  // high nibbles: second half
  }
  EXPECT_FALSE(DequantizeToF32(DType::kQ8_0, q8, 64, &y).ok());  // size mismatch
}

// Two independent decoders (this one and src/quant's) agree bit for bit.
TEST(Dequant, AgreesWithQuantModule) {
  std::vector<float> x(1024);
  uint32_t s = 12345;
  for (float& v : x) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<int32_t>(s >> 8) - (1 << 23)) / (1 << 22);
  }
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K, DType::kF16, DType::kBF16}) {
    uint64_t nb = 0;
    ASSERT_TRUE(DTypeBytes(t, x.size(), &nb));
    std::vector<uint8_t> q(nb);
    ASSERT_EQ(quant::QuantizeRow(t, x, q), nb) << DTypeName(t);
    std::vector<float> mine, theirs(x.size());
    ASSERT_TRUE(DequantizeToF32(t, q, x.size(), &mine).ok()) << DTypeName(t);
    quant::DequantizeRow(t, q, theirs);
    EXPECT_EQ(std::memcmp(mine.data(), theirs.data(), x.size() * 4), 0) << DTypeName(t);
  }
}

// ---- GGUF re-writing: stories260K with some tensors in other types -----

uint16_t F32ToF16(float f) {  // round half up; good enough for fixtures
  uint32_t b;
  std::memcpy(&b, &f, 4);
  uint32_t sign = (b >> 16) & 0x8000;
  int32_t exp = static_cast<int32_t>((b >> 23) & 0xff) - 127 + 15;
  uint32_t mant = b & 0x7fffff;
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - exp);
    return static_cast<uint16_t>(sign | ((mant + (1u << (shift - 1))) >> shift));
  }
  uint32_t h = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  h += (mant >> 12) & 1;  // may carry into the exponent: still correct rounding
  return static_cast<uint16_t>(sign | h);
}

void PutU16(std::vector<uint8_t>* o, uint16_t v) { o->push_back(v & 0xff); o->push_back(v >> 8); }

// Encodes f32 values as `t`; returns the bytes and the values a reader should decode.
std::vector<uint8_t> Encode(DType t, const float* x, size_t n, std::vector<float>* expect) {
  std::vector<uint8_t> o;
  expect->clear();
  if (t == DType::kF16) {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h = F32ToF16(x[i]);
      PutU16(&o, h);
      expect->push_back(F16ToF32(h));
    }
  } else if (t == DType::kBF16) {
    for (size_t i = 0; i < n; ++i) {
      uint32_t b;
      std::memcpy(&b, &x[i], 4);
      PutU16(&o, static_cast<uint16_t>(b >> 16));
      expect->push_back(Bf16ToF32(static_cast<uint16_t>(b >> 16)));
    }
  } else if (t == DType::kQ8_0) {
    for (size_t b = 0; b < n; b += 32) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b + j]));
      uint16_t dh = F32ToF16(amax / 127);
      float d = F16ToF32(dh), id = d ? 1 / d : 0;
      PutU16(&o, dh);
      for (int j = 0; j < 32; ++j) {
        int q = std::clamp(static_cast<int>(std::lround(x[b + j] * id)), -127, 127);
        o.push_back(static_cast<uint8_t>(static_cast<int8_t>(q)));
        expect->push_back(d * static_cast<float>(q));
      }
    }
  } else if (t == DType::kQ4_0) {
    for (size_t b = 0; b < n; b += 32) {
      float amax = 0, max = 0;
      for (int j = 0; j < 32; ++j) {
        if (std::fabs(x[b + j]) > amax) { amax = std::fabs(x[b + j]); max = x[b + j]; }
      }
      uint16_t dh = F32ToF16(max / -8);
      float d = F16ToF32(dh), id = d ? 1 / d : 0;
      PutU16(&o, dh);
      int q[32];
      for (int j = 0; j < 32; ++j) q[j] = std::clamp(static_cast<int>(x[b + j] * id + 8.5f), 0, 15);
      for (int j = 0; j < 16; ++j) o.push_back(static_cast<uint8_t>(q[j] | (q[j + 16] << 4)));
      expect->resize(b + 32);
      for (int j = 0; j < 32; ++j) (*expect)[b + j] = d * static_cast<float>(q[j] - 8);
    }
  } else if (t == DType::kQ4_K || t == DType::kQ6_K) {
    uint64_t nb = 0;
    EXPECT_TRUE(DTypeBytes(t, n, &nb));
    o.resize(nb);
    quant::QuantizeRow(t, std::span<const float>(x, n), o);
    expect->resize(n);
    quant::DequantizeRow(t, o, *expect);
  } else {
    o.resize(n * 4);
    std::memcpy(o.data(), x, n * 4);
    expect->assign(x, x + n);
  }
  return o;
}

struct Rewrite {
  std::function<DType(const std::string&)> type = [](const std::string&) { return DType::kF32; };
  std::function<bool(const std::string&)> drop = [](const std::string&) { return false; };
  std::function<void(const std::string&, std::vector<int64_t>*)> ne = nullptr;
  bool to_qwen2 = false;  // rename llama.* keys and the architecture to qwen2
  struct Extra {
    std::string name;
    std::vector<int64_t> ne;
    std::vector<float> values;
  };
  std::vector<Extra> extra;  // appended f32 tensors
};

// Same-length byte replacement inside the kv section: "llama." -> "qwen2."
// in keys and general.architecture's value (tokenizer.ggml.model stays "llama").
void ToQwen2(std::vector<uint8_t>* kv) {
  const std::string from = "llama.", to = "qwen2.";
  for (size_t i = 0; i + from.size() <= kv->size(); ++i) {
    if (std::memcmp(kv->data() + i, from.data(), from.size()) == 0) {
      std::memcpy(kv->data() + i, to.data(), to.size());
    }
  }
  const std::string key = "general.architecture";
  auto it = std::search(kv->begin(), kv->end(), key.begin(), key.end());
  ASSERT_NE(it, kv->end());
  size_t value = static_cast<size_t>(it - kv->begin()) + key.size() + 4 + 8;
  ASSERT_EQ(std::memcmp(kv->data() + value, "llama", 5), 0);
  std::memcpy(kv->data() + value, "qwen2", 5);
}

// Copies stories260K.gguf's header and kv section verbatim and writes a new
// tensor table + data section. Returns the path; *expect gets, per kept
// tensor, the f32 values the importer must produce.
std::string RewriteGguf(const std::string& name, const Rewrite& rw,
                        std::map<std::string, std::vector<float>>* expect) {
  std::string src = test::ModelPath("stories260K.gguf");
  auto g = GgufFile::Open(src);
  EXPECT_TRUE(g.ok());
  auto bytes = (*g)->bytes();
  // The tensor table starts with the first tensor's u64 name length + name.
  const std::string& first = (*g)->tensors()[0].name;
  std::vector<uint8_t> pat(8);
  uint64_t len = first.size();
  std::memcpy(pat.data(), &len, 8);
  pat.insert(pat.end(), first.begin(), first.end());
  auto it = std::search(bytes.begin(), bytes.end(), pat.begin(), pat.end());
  EXPECT_NE(it, bytes.end());
  size_t table_at = static_cast<size_t>(it - bytes.begin());
  std::vector<uint8_t> out(bytes.begin(), bytes.begin() + table_at);
  if (rw.to_qwen2) ToQwen2(&out);
  std::vector<uint8_t> table, data;
  uint64_t count = 0;
  std::vector<Rewrite::Extra> all;
  for (const GgufTensorInfo& ti : (*g)->tensors()) {
    if (rw.drop(ti.name)) continue;
    Rewrite::Extra e{ti.name, ti.ne, std::vector<float>(ti.size / 4)};
    std::memcpy(e.values.data(), ti.data.data(), ti.size);
    all.push_back(std::move(e));
  }
  all.insert(all.end(), rw.extra.begin(), rw.extra.end());
  for (const Rewrite::Extra& ti : all) {
    ++count;
    DType t = rw.type(ti.name);
    const std::vector<float>& f = ti.values;
    std::vector<uint8_t> enc = Encode(t, f.data(), f.size(), &(*expect)[ti.name]);
    while (data.size() % 32) data.push_back(0);
    uint64_t n = ti.name.size(), off = data.size();
    table.insert(table.end(), reinterpret_cast<uint8_t*>(&n), reinterpret_cast<uint8_t*>(&n) + 8);
    table.insert(table.end(), ti.name.begin(), ti.name.end());
    std::vector<int64_t> ne = ti.ne;
    if (rw.ne) rw.ne(ti.name, &ne);
    uint32_t nd = static_cast<uint32_t>(ne.size()), type = static_cast<uint32_t>(t);
    table.insert(table.end(), reinterpret_cast<uint8_t*>(&nd), reinterpret_cast<uint8_t*>(&nd) + 4);
    for (int64_t e : ne) {
      table.insert(table.end(), reinterpret_cast<uint8_t*>(&e), reinterpret_cast<uint8_t*>(&e) + 8);
    }
    table.insert(table.end(), reinterpret_cast<uint8_t*>(&type), reinterpret_cast<uint8_t*>(&type) + 4);
    table.insert(table.end(), reinterpret_cast<uint8_t*>(&off), reinterpret_cast<uint8_t*>(&off) + 8);
    data.insert(data.end(), enc.begin(), enc.end());
  }
  std::memcpy(out.data() + 8, &count, 8);  // tensor count
  out.insert(out.end(), table.begin(), table.end());
  while (out.size() % 32) out.push_back(0);
  out.insert(out.end(), data.begin(), data.end());
  std::string path = test::TempPath(name);
  EXPECT_TRUE(WriteFileAtomic(path, out).ok());
  return path;
}

// ---- importer ----------------------------------------------------------

TEST(ImportGguf, Stories260K) {
  std::string path = test::ModelPath("stories260K.gguf");
  ASSERT_FALSE(path.empty());
  auto b = ImportGguf(path);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const ModelConfig& c = b->config;
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.rope_style, RopeStyle::kInterleaved);
  EXPECT_FALSE(c.tied_output);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_EQ(b->tensors.size(), 48u);
  EXPECT_EQ(b->tokenizer.pieces.size(), 512u);
  EXPECT_EQ(b->provenance.source_format, "gguf");
  EXPECT_EQ(b->provenance.source_path, "stories260K.gguf");
  EXPECT_EQ(b->provenance.source_sha256,
            "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
  EXPECT_TRUE(b->provenance.notes.empty());
  // f32 tensors are views into the kept-alive mapping, shapes [out, in].
  auto g = GgufFile::Open(path);
  ASSERT_TRUE(g.ok());
  for (const TensorData& t : b->tensors) {
    EXPECT_TRUE(t.owned.empty()) << t.name;
    const GgufTensorInfo* gi = nullptr;
    for (const auto& x : (*g)->tensors()) if (x.name == t.name) gi = &x;
    ASSERT_NE(gi, nullptr);
    EXPECT_EQ(t.shape, std::vector<int64_t>(gi->ne.rbegin(), gi->ne.rend())) << t.name;
    EXPECT_TRUE(std::equal(t.bytes().begin(), t.bytes().end(), gi->data.begin(), gi->data.end()));
  }
  const TensorData* k = nullptr;
  for (const auto& t : b->tensors) if (t.name == "blk.0.attn_k.weight") k = &t;
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->shape, (std::vector<int64_t>{32, 64}));
}

TEST(ImportGguf, KeepsQuantizedMatricesAndDecodesTheRest) {
  ASSERT_FALSE(test::ModelPath("stories260K.gguf").empty());
  std::map<std::string, std::vector<float>> expect;
  Rewrite rw;
  rw.type = [](const std::string& n) {
    if (n == "token_embd.weight") return DType::kBF16;
    if (n == "output.weight") return DType::kF16;
    if (n == "blk.0.attn_q.weight") return DType::kQ8_0;
    if (n == "blk.1.ffn_up.weight") return DType::kQ4_0;
    if (n == "blk.2.ffn_gate.weight") return DType::kQ4_K;  // rows of 64: not whole 256-blocks
    if (n == "blk.3.attn_output.weight") return DType::kQ6_K;  // rows of 64 as well
    if (n == "blk.4.attn_norm.weight") return DType::kF16;     // 1-D: decoded
    return DType::kF32;
  };
  std::string path = RewriteGguf("mixed.gguf", rw, &expect);
  auto b = ImportGguf(path);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->provenance.notes,
            "f16, q4_k, q6_k norm/bias tensors (or rows not whole blocks) dequantized to f32 on import");
  auto g = GgufFile::Open(path);
  ASSERT_TRUE(g.ok());
  const std::map<std::string, DType> kept = {{"token_embd.weight", DType::kBF16},
                                             {"output.weight", DType::kF16},
                                             {"blk.0.attn_q.weight", DType::kQ8_0},
                                             {"blk.1.ffn_up.weight", DType::kQ4_0}};
  for (const TensorData& t : b->tensors) {
    auto it = kept.find(t.name);
    const std::vector<float>& want = expect.at(t.name);
    if (it != kept.end()) {
      // Stored as-is: same dtype, the very bytes of the GGUF file, no copy.
      EXPECT_EQ(t.dtype, it->second) << t.name;
      EXPECT_TRUE(t.owned.empty()) << t.name;
      const GgufTensorInfo* gi = nullptr;
      for (const auto& x : (*g)->tensors()) if (x.name == t.name) gi = &x;
      ASSERT_NE(gi, nullptr);
      EXPECT_TRUE(std::equal(t.bytes().begin(), t.bytes().end(), gi->data.begin(), gi->data.end()));
      std::vector<float> decoded;
      ASSERT_TRUE(DequantizeToF32(t.dtype, t.bytes(), want.size(), &decoded).ok());
      EXPECT_EQ(decoded, want) << t.name;
      continue;
    }
    EXPECT_EQ(t.dtype, DType::kF32) << t.name;
    ASSERT_EQ(t.bytes().size(), want.size() * 4) << t.name;
    EXPECT_EQ(std::memcmp(t.bytes().data(), want.data(), t.bytes().size()), 0) << t.name;
  }
  // The package records the types as imported and the notes (what `slm inspect` shows).
  auto bytes = SerializePackage(*b);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto p = Package::FromMemory(*bytes, "mixed.slm");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->provenance().notes, b->provenance.notes);
  EXPECT_EQ((*p)->FindTensor("blk.0.attn_q.weight")->dtype, DType::kQ8_0);
}

TEST(ImportGguf, MissingOutputMeansTied) {
  ASSERT_FALSE(test::ModelPath("stories260K.gguf").empty());
  std::map<std::string, std::vector<float>> expect;
  Rewrite rw;
  rw.drop = [](const std::string& n) { return n == "output.weight"; };
  auto b = ImportGguf(RewriteGguf("tied.gguf", rw, &expect));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->config.tied_output);
  EXPECT_EQ(b->tensors.size(), 47u);
}

TEST(ImportGguf, WrongShapeNamesTensorAndShapes) {
  ASSERT_FALSE(test::ModelPath("stories260K.gguf").empty());
  std::map<std::string, std::vector<float>> expect;
  Rewrite rw;
  rw.ne = [](const std::string& n, std::vector<int64_t>* ne) {
    if (n == "blk.2.attn_k.weight") std::swap((*ne)[0], (*ne)[1]);
  };
  auto b = ImportGguf(RewriteGguf("badshape.gguf", rw, &expect));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("badshape.gguf"), std::string::npos) << b.status().message();
  EXPECT_NE(b.status().message().find("'blk.2.attn_k.weight': expected shape [32, 64], found [64, 32]"),
            std::string::npos) << b.status().message();
}

TEST(ImportGguf, Qwen2ArchHasBiasesAndHalfSplitRope) {
  ASSERT_FALSE(test::ModelPath("stories260K.gguf").empty());
  std::map<std::string, std::vector<float>> expect;
  Rewrite rw;
  rw.to_qwen2 = true;
  for (int l = 0; l < 5; ++l) {
    for (auto [n, d] : {std::pair{"q", 64}, {"k", 32}, {"v", 32}}) {
      std::vector<float> v(static_cast<size_t>(d));
      for (int i = 0; i < d; ++i) v[static_cast<size_t>(i)] = 0.01f * static_cast<float>(i - l);
      rw.extra.push_back({"blk." + std::to_string(l) + ".attn_" + n + ".bias", {d}, v});
    }
  }
  auto b = ImportGguf(RewriteGguf("qwen2.gguf", rw, &expect));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->config.arch, "qwen2");
  EXPECT_TRUE(b->config.qkv_bias);
  EXPECT_EQ(b->config.rope_style, RopeStyle::kHalfSplit);
  EXPECT_EQ(b->tensors.size(), 48u + 15u);
  // Canonical order puts biases right after their weights.
  EXPECT_EQ(b->tensors[5].name, "blk.0.attn_q.bias");
  for (const TensorData& t : b->tensors) {
    const std::vector<float>& want = expect.at(t.name);
    ASSERT_EQ(t.bytes().size(), want.size() * 4) << t.name;
    EXPECT_EQ(std::memcmp(t.bytes().data(), want.data(), t.bytes().size()), 0) << t.name;
  }
  auto bytes = SerializePackage(*b);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto p = Package::FromMemory(*bytes, "qwen2.slm");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_NE((*p)->FindTensor("blk.4.attn_v.bias"), nullptr);

  // Without the biases a qwen2 file is refused, naming the first missing one.
  rw.extra.clear();
  auto nb = ImportGguf(RewriteGguf("qwen2_nobias.gguf", rw, &expect));
  ASSERT_FALSE(nb.ok());
  EXPECT_NE(nb.status().message().find("blk.0.attn_q.bias"), std::string::npos)
      << nb.status().message();
}

TEST(ImportModel, DetectsFormats) {
  std::string gguf = test::ModelPath("stories260K.gguf");
  ASSERT_FALSE(gguf.empty());
  std::string why;
  EXPECT_EQ(DetectModelFormat(gguf, &why), "gguf");
  EXPECT_EQ(DetectModelFormat(test::ModelPath("stories260K.bin"), &why), "llama2c");
  EXPECT_EQ(DetectModelFormat(test::ModelPath("stories260K-q8.bin"), &why), "llama2c");
  auto b = ImportModel(gguf, {});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->provenance.source_format, "gguf");

  std::string junk = test::TempPath("junk.bin");
  std::vector<uint8_t> bytes = {'J', 'U', 'N', 'K', 0xff, 0xff, 0xff, 0xff, 1, 2, 3};
  ASSERT_TRUE(WriteFileAtomic(junk, bytes).ok());
  auto j = ImportModel(junk, {});
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(j.status().message().find("4a554e4b"), std::string::npos) << j.status().message();
  EXPECT_NE(j.status().message().find("\"JUNK\""), std::string::npos) << j.status().message();

  auto missing = ImportModel(test::TempPath("does-not-exist"), {});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace slm

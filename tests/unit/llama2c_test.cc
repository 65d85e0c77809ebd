// llama2.c importers: the real stories260K files (f32 and int8 "ak42"), small
// synthetic files for the untied-classifier paths, and hostile headers.
#include "import/llama2c.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/prng.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace slm {
namespace {

std::map<std::string, const TensorData*> ByName(const ModelBundle& b) {
  std::map<std::string, const TensorData*> m;
  for (const TensorData& t : b.tensors) m[t.name] = &t;
  return m;
}

const float* F(const TensorData* t) { return reinterpret_cast<const float*>(t->bytes().data()); }

void Put(std::vector<uint8_t>* out, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);
}
void PutI32(std::vector<uint8_t>* out, int32_t v) { Put(out, &v, 4); }
void PutF32s(std::vector<uint8_t>* out, size_t n, Prng* rng) {
  for (size_t i = 0; i < n; ++i) {
    float v = (rng->NextFloat() - 0.5f) * 0.5f;
    Put(out, &v, 4);
  }
}

std::string WriteTemp(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = test::TempPath(name);
  EXPECT_TRUE(WriteFileAtomic(path, bytes).ok());
  return path;
}

// Tiny model: dim 8, hidden 12, 2 layers, 2 heads, 1 kv head, vocab 16, seq 8.
constexpr int32_t kDim = 8, kHidden = 12, kLayers = 2, kHeads = 2, kKv = 1, kVocab = 16, kSeq = 8;
constexpr int32_t kKvDim = kKv * (kDim / kHeads);

std::vector<uint8_t> SyntheticF32(bool shared) {
  std::vector<uint8_t> b;
  for (int32_t v : {kDim, kHidden, kLayers, kHeads, kKv, shared ? kVocab : -kVocab, kSeq}) PutI32(&b, v);
  Prng rng(99);
  const size_t L = kLayers;
  PutF32s(&b, kVocab * kDim, &rng);
  PutF32s(&b, L * kDim, &rng);                         // rms_att
  PutF32s(&b, L * kDim * kDim, &rng);                  // wq
  PutF32s(&b, L * kKvDim * kDim * 2, &rng);            // wk, wv
  PutF32s(&b, L * kDim * kDim, &rng);                  // wo
  PutF32s(&b, L * kDim, &rng);                         // rms_ffn
  PutF32s(&b, L * kHidden * kDim * 3, &rng);           // w1, w2, w3
  PutF32s(&b, kDim, &rng);                             // rms_final
  PutF32s(&b, kSeq * (kDim / kHeads / 2) * 2, &rng);   // freq_cis
  if (!shared) PutF32s(&b, kVocab * kDim, &rng);       // wcls
  return b;
}

TEST(Llama2c, ImportsStories260KF32) {
  const std::string path = test::ModelPath("stories260K.bin");
  ASSERT_FALSE(path.empty());
  auto b = ImportLlama2c(path, "");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const ModelConfig& c = b->config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.max_seq_len, 512);
  EXPECT_TRUE(c.tied_output);
  EXPECT_EQ(c.rope_style, RopeStyle::kInterleaved);
  EXPECT_EQ(c.norm_eps, 1e-5f);
  EXPECT_EQ(c.rope_theta, 10000.0f);
  EXPECT_EQ(b->tensors.size(), 2u + 5u * 9u);
  EXPECT_EQ(b->provenance.source_format, "llama2c-f32");
  EXPECT_EQ(b->provenance.source_sha256,
            "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696");
  auto m = ByName(*b);
  ASSERT_TRUE(m.count("blk.4.ffn_down.weight"));
  EXPECT_EQ(m["blk.4.ffn_down.weight"]->shape, (std::vector<int64_t>{64, 172}));
  EXPECT_EQ(m["blk.0.attn_k.weight"]->shape, (std::vector<int64_t>{32, 64}));
  EXPECT_FALSE(m.count("output.weight"));
  EXPECT_TRUE(Model::Create(b->config, b->tensors).ok());
}

TEST(Llama2c, ImportsStories260KInt8AndDequantizes) {
  const std::string f32_path = test::ModelPath("stories260K.bin");
  const std::string q8_path = test::ModelPath("stories260K-q8.bin");
  ASSERT_FALSE(f32_path.empty());
  ASSERT_FALSE(q8_path.empty());
  auto f = ImportLlama2c(f32_path, "");
  auto q = ImportLlama2c(q8_path, "");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->provenance.source_format, "llama2c-int8");
  EXPECT_NE(q->provenance.notes.find("dequantized"), std::string::npos);
  EXPECT_EQ(q->provenance.source_sha256,
            "cd3a552807272f83aac2ec175b7dc5dd622598ff41ad7d039d4da301e00d3015");
  ASSERT_EQ(q->tensors.size(), f->tensors.size());
  EXPECT_TRUE(q->config.tied_output);
  auto fm = ByName(*f), qm = ByName(*q);
  for (const auto& [name, ft] : fm) {
    ASSERT_TRUE(qm.count(name)) << name;
    const TensorData* qt = qm[name];
    ASSERT_EQ(qt->shape, ft->shape) << name;
    const size_t n = ft->bytes().size() / 4;
    double worst = 0;
    for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(double(F(ft)[i]) - F(qt)[i]));
    if (ft->shape.size() == 1) {
      EXPECT_EQ(worst, 0.0) << name << ": norms are stored in f32 and must be identical";
    } else {
      EXPECT_LT(worst, 0.007) << name;
      EXPECT_GT(worst, 0.0) << name;
    }
  }
}

TEST(Llama2c, UntiedClassifierF32) {
  auto shared = ImportLlama2c(WriteTemp("tied.bin", SyntheticF32(true)), "");
  auto untied = ImportLlama2c(WriteTemp("untied.bin", SyntheticF32(false)), "");
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  ASSERT_TRUE(untied.ok()) << untied.status().ToString();
  EXPECT_TRUE(shared->config.tied_output);
  EXPECT_FALSE(untied->config.tied_output);
  EXPECT_EQ(untied->config.vocab_size, kVocab);
  auto um = ByName(*untied);
  ASSERT_TRUE(um.count("output.weight"));
  EXPECT_EQ(um["output.weight"]->shape, (std::vector<int64_t>{kVocab, kDim}));
  auto model = Model::Create(untied->config, untied->tensors);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto s = Session::Create(**model);
  ASSERT_TRUE(s.ok());
  std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE((*s)->Prefill(ids).ok());
  for (float v : (*s)->logits()) EXPECT_TRUE(std::isfinite(v));
}

// int8 file built from the synthetic f32 weights: header, norms, then each
// tensor as q[n] followed by its scales.
std::vector<uint8_t> SyntheticInt8(bool shared, int32_t group, std::vector<float>* first_tensor) {
  std::vector<uint8_t> b;
  uint32_t magic = 0x616b3432;
  Put(&b, &magic, 4);
  PutI32(&b, 2);
  for (int32_t v : {kDim, kHidden, kLayers, kHeads, kKv, kVocab, kSeq}) PutI32(&b, v);
  uint8_t sh = shared ? 1 : 0;
  Put(&b, &sh, 1);
  PutI32(&b, group);
  b.resize(256, 0);
  Prng rng(5);
  PutF32s(&b, (2 * kLayers + 1) * kDim, &rng);
  std::vector<size_t> sizes = {size_t{kVocab} * kDim};
  for (size_t each : {kDim * kDim, kKvDim * kDim, kKvDim * kDim, kDim * kDim, kHidden * kDim,
                      kHidden * kDim, kHidden * kDim}) {
    for (int l = 0; l < kLayers; ++l) sizes.push_back(each);
  }
  if (!shared) sizes.push_back(size_t{kVocab} * kDim);
  for (size_t t = 0; t < sizes.size(); ++t) {
    std::vector<int8_t> q(sizes[t]);
    std::vector<float> s(sizes[t] / group);
    for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(static_cast<int>(rng.Next() % 255) - 127);
    for (float& v : s) v = rng.NextFloat() * 0.01f;
    Put(&b, q.data(), q.size());
    Put(&b, s.data(), s.size() * 4);
    if (t == sizes.size() - 1 && first_tensor) {
      first_tensor->resize(q.size());
      for (size_t i = 0; i < q.size(); ++i) (*first_tensor)[i] = static_cast<float>(q[i]) * s[i / group];
    }
  }
  return b;
}

TEST(Llama2c, Int8UntiedClassifierDequantizedExactly) {
  std::vector<float> wcls;
  auto b = ImportLlama2c(WriteTemp("untied_q8.bin", SyntheticInt8(false, 4, &wcls)), "");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_FALSE(b->config.tied_output);
  auto m = ByName(*b);
  ASSERT_TRUE(m.count("output.weight"));
  ASSERT_EQ(m["output.weight"]->bytes().size(), wcls.size() * 4);
  EXPECT_EQ(std::memcmp(m["output.weight"]->bytes().data(), wcls.data(), wcls.size() * 4), 0);
  EXPECT_NE(b->provenance.notes.find("group_size 4"), std::string::npos);
  EXPECT_TRUE(Model::Create(b->config, b->tensors).ok());
  // group_size that does not divide a tensor is refused.
  auto bad = ImportLlama2c(WriteTemp("bad_group.bin", SyntheticInt8(true, 5, nullptr)), "");
  EXPECT_FALSE(bad.ok());
}

TEST(Llama2c, RejectsTruncationsAndTrailingBytes) {
  for (bool q8 : {false, true}) {
    std::vector<uint8_t> full = q8 ? SyntheticInt8(true, 4, nullptr) : SyntheticF32(true);
    for (size_t cut : {size_t{0}, size_t{3}, size_t{20}, size_t{27}, size_t{28}, size_t{100},
                       size_t{255}, size_t{256}, full.size() / 2, full.size() - 1}) {
      std::vector<uint8_t> part(full.begin(), full.begin() + cut);
      auto b = ImportLlama2c(WriteTemp("cut.bin", part), "");
      EXPECT_FALSE(b.ok()) << "q8 " << q8 << " cut " << cut;
    }
    full.push_back(0);
    auto b = ImportLlama2c(WriteTemp("long.bin", full), "");
    EXPECT_EQ(b.status().code(), StatusCode::kFormatError);
    EXPECT_NE(b.status().message().find("bytes"), std::string::npos) << b.status().message();
  }
}

TEST(Llama2c, RefusesAbsurdHeaders) {
  struct Case {
    int32_t header[7];
    const char* expect;
  };
  const Case kCases[] = {
      {{1 << 30, 12, 2, 2, 1, 16, 8}, "dim = 1073741824"},
      {{8, -12, 2, 2, 1, 16, 8}, "hidden_dim = -12"},
      {{8, 12, 100000, 2, 1, 16, 8}, "n_layers = 100000"},
      {{8, 12, 2, 3, 1, 16, 8}, "n_heads = 3"},
      {{8, 12, 2, 2, 4, 16, 8}, "n_kv_heads = 4"},
      {{8, 12, 2, 2, 1, 0, 8}, "vocab_size = 0"},
      {{8, 12, 2, 2, 1, 16, 1 << 30}, "seq_len = 1073741824"},
  };
  for (const Case& c : kCases) {
    std::vector<uint8_t> b;
    for (int32_t v : c.header) PutI32(&b, v);
    b.resize(4096, 0);
    auto r = ImportLlama2c(WriteTemp("absurd.bin", b), "");
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
  // int8: bad version, bad shared flag, bad group size.
  std::vector<uint8_t> q = SyntheticInt8(true, 4, nullptr);
  std::vector<uint8_t> v3 = q;
  v3[4] = 3;
  EXPECT_EQ(ImportLlama2c(WriteTemp("v3.bin", v3), "").status().code(), StatusCode::kUnsupported);
  std::vector<uint8_t> sh = q;
  sh[36] = 7;
  EXPECT_NE(ImportLlama2c(WriteTemp("sh.bin", sh), "").status().message().find("shared_classifier"),
            std::string::npos);
  std::vector<uint8_t> g = q;
  int32_t zero = 0;
  std::memcpy(g.data() + 37, &zero, 4);
  EXPECT_NE(ImportLlama2c(WriteTemp("g.bin", g), "").status().message().find("group_size = 0"),
            std::string::npos);
  EXPECT_FALSE(ImportLlama2c(test::TempPath("does_not_exist.bin"), "").ok());
}

}  // namespace
}  // namespace slm

namespace slm {
namespace {

TEST(Llama2c, LoadsTheMatchingTokenizerAndRefusesAMismatch) {
  const std::string model = test::ModelPath("stories260K.bin");
  const std::string tok = test::ModelPath("tok512.bin");
  const std::string big_tok = test::ModelPath("llama2-tokenizer.bin");
  ASSERT_FALSE(model.empty());
  ASSERT_FALSE(tok.empty());
  ASSERT_FALSE(big_tok.empty());
  auto b = ImportLlama2c(model, tok);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->tokenizer.pieces.size(), 512u);
  EXPECT_EQ(b->tokenizer.bos_id, 1);
  EXPECT_EQ(b->tokenizer.eos_id, 2);
  EXPECT_EQ(b->provenance.tokenizer_source, tok);
  auto bad = ImportLlama2c(model, big_tok);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("32000"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace slm

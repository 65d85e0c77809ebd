// slm synth's library part (src/tools/synth.h) and the GGUF writer
// (src/tools/gguf_writer.h): same seed -> same package digest, value
// statistics, a usable dummy tokenizer, preset shapes, and GGUF output that
// our reader and importer read back with identical tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "import/gguf.h"
#include "import/gguf_import.h"
#include "package/package.h"
#include "runtime/model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tools/gguf_writer.h"
#include "tools/synth.h"

namespace slm::tools {
namespace {

// Small, but with 256-wide rows so the k-quants apply.
SynthSpec Tiny(QuantScheme s, uint64_t seed) {
  SynthSpec spec;
  ModelConfig& c = spec.config;
  c.dim = 256;
  c.hidden_dim = 512;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 64;
  c.vocab_size = 320;
  c.max_seq_len = 64;
  c.tied_output = false;
  spec.scheme = s;
  spec.seed = seed;
  spec.label = "tiny";
  return spec;
}

std::string DigestOf(const SynthSpec& s) {
  auto b = SynthBundle(s);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  auto bytes = SerializePackage(*b);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto p = Package::FromMemory(*bytes, "synth.slm");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? (*p)->digest_hex() : "";
}

TEST(Synth, SameSeedSameDigest) {
  for (QuantScheme s : {QuantScheme::kF32, QuantScheme::kQ8_0, QuantScheme::kQ4_K}) {
    const std::string a = DigestOf(Tiny(s, 7)), b = DigestOf(Tiny(s, 7));
    EXPECT_EQ(a, b) << QuantSchemeName(s);
    EXPECT_NE(a, DigestOf(Tiny(s, 8))) << QuantSchemeName(s);
  }
}

TEST(Synth, ValuesAreNormal002AndNormsOne) {
  std::vector<float> v(1 << 16);
  SynthTensorValues(3, "blk.0.attn_q.weight", 2, v);
  double sum = 0, sq = 0;
  for (float x : v) sum += x, sq += double(x) * x;
  const double mean = sum / v.size(), sd = std::sqrt(sq / v.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.001);
  EXPECT_NEAR(sd, 0.02, 0.0005);
  // Independent of other tensors: another name gives other values.
  std::vector<float> w(16);
  SynthTensorValues(3, "blk.0.attn_k.weight", 2, w);
  EXPECT_NE(std::memcmp(v.data(), w.data(), 16 * sizeof(float)), 0);
  // Known answer: the documented transform (synth.h) transcribed in Python
  // (splitmix64 / xoshiro256** / math.log, cos, sin) gives these bits.
  const uint32_t kWant[4] = {0xbb96db89, 0xbc58ae52, 0xbb392991, 0xbd212bf4};
  for (int i = 0; i < 4; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    EXPECT_EQ(bits, kWant[i]) << i;
  }
  std::vector<float> norm(8);
  SynthTensorValues(3, "blk.0.attn_norm.weight", 1, norm);
  for (float x : norm) EXPECT_EQ(x, 1.0f);
}

TEST(Synth, TokenizerEncodesText) {
  TokenizerData d = SynthTokenizer(32000);
  ASSERT_EQ(d.pieces.size(), 32000u);
  auto tok = Tokenizer::Create(d);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto ids = (*tok)->Encode("hello world, 42!", true);
  ASSERT_TRUE(ids.ok());
  ASSERT_FALSE(ids->empty());
  EXPECT_EQ((*ids)[0], 1);
  for (int32_t id : *ids) EXPECT_NE(id, 0);  // no <unk>
  EXPECT_EQ((*tok)->Decode(*ids), "hello world, 42!");
}

TEST(Synth, PresetsHaveTheRealShapes) {
  ModelConfig c;
  ASSERT_TRUE(SynthPresetConfig("s15m", &c));
  EXPECT_EQ(c.dim, 288);
  EXPECT_TRUE(c.tied_output);
  ASSERT_TRUE(SynthPresetConfig("s110m", &c));
  EXPECT_EQ(c.hidden_dim, 2048);
  ASSERT_TRUE(SynthPresetConfig("tl1b", &c));
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_FALSE(c.tied_output);
  EXPECT_FALSE(SynthPresetConfig("s7b", &c));
  SynthSpec s;
  s.config = c;
  s.scheme = QuantScheme::kF32;
  auto list = SynthTensorList(s);
  ASSERT_TRUE(list.ok());
  uint64_t params = 0;
  for (const auto& t : *list) params += t.bytes / 4;
  EXPECT_EQ(params, 1100048384u);  // TinyLlama-1.1B
}

TEST(Synth, RunsInTheRuntime) {
  auto b = SynthBundle(Tiny(QuantScheme::kF32, 1));
  ASSERT_TRUE(b.ok());
  auto m = Model::Create(b->config, b->tensors);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
}

class GgufWriter : public ::testing::TestWithParam<QuantScheme> {};

TEST_P(GgufWriter, ReaderAndImporterSeeTheSameModel) {
  const SynthSpec spec = Tiny(GetParam(), 5);
  auto b = SynthBundle(spec);
  ASSERT_TRUE(b.ok());
  const std::string path = test::TempPath(std::string("synth_") + QuantSchemeName(GetParam()) + ".gguf");
  Status s = WriteGguf(*b, path);
  ASSERT_TRUE(s.ok()) << s.ToString();

  auto g = GgufFile::Open(path);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->version(), 3u);
  EXPECT_EQ(*(*g)->GetString("general.architecture"), "llama");
  EXPECT_EQ(*(*g)->GetInt("llama.attention.head_count_kv"), 2);
  ASSERT_EQ((*g)->tensors().size(), b->tensors.size());
  for (size_t i = 0; i < b->tensors.size(); ++i) {
    const GgufTensorInfo& ti = (*g)->tensors()[i];
    const TensorData& t = b->tensors[i];
    EXPECT_EQ(ti.name, t.name);
    EXPECT_EQ(std::vector<int64_t>(ti.ne.rbegin(), ti.ne.rend()), t.shape);
    EXPECT_EQ(ti.ggml_type, static_cast<uint32_t>(t.dtype));
    EXPECT_EQ(ti.offset % 32, 0u);
    ASSERT_EQ(ti.data.size(), t.bytes().size());
    EXPECT_EQ(std::memcmp(ti.data.data(), t.bytes().data(), ti.data.size()), 0) << t.name;
  }

  auto imp = ImportGguf(path);
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  const ModelConfig &a = imp->config, &c = b->config;
  EXPECT_EQ(a.dim, c.dim);
  EXPECT_EQ(a.hidden_dim, c.hidden_dim);
  EXPECT_EQ(a.n_layers, c.n_layers);
  EXPECT_EQ(a.n_heads, c.n_heads);
  EXPECT_EQ(a.n_kv_heads, c.n_kv_heads);
  EXPECT_EQ(a.head_dim, c.head_dim);
  EXPECT_EQ(a.vocab_size, c.vocab_size);
  EXPECT_EQ(a.max_seq_len, c.max_seq_len);
  EXPECT_EQ(a.tied_output, c.tied_output);
  EXPECT_EQ(imp->tokenizer.pieces, b->tokenizer.pieces);
  EXPECT_EQ(imp->tokenizer.scores, b->tokenizer.scores);
  EXPECT_EQ(imp->tokenizer.attrs, b->tokenizer.attrs);
  EXPECT_EQ(imp->tokenizer.bos_id, 1);
  ASSERT_EQ(imp->tensors.size(), b->tensors.size());
  for (size_t i = 0; i < b->tensors.size(); ++i) {
    const TensorData& t = b->tensors[i];
    const TensorData& u = imp->tensors[i];
    EXPECT_EQ(u.name, t.name);
    EXPECT_EQ(u.shape, t.shape);
    // The importer may keep the type or decode it to f32: either way the
    // values are exactly the ones we wrote.
    auto want = DecodeTensor(t), got = DecodeTensor(u);
    ASSERT_TRUE(want.ok() && got.ok()) << t.name;
    EXPECT_TRUE(*want == *got) << t.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Types, GgufWriter,
                         ::testing::Values(QuantScheme::kF32, QuantScheme::kQ8_0, QuantScheme::kQ4_0,
                                           QuantScheme::kQ4_K, QuantScheme::kQ6_K,
                                           QuantScheme::kMixed),
                         [](const auto& info) { return std::string(QuantSchemeName(info.param)); });

}  // namespace
}  // namespace slm::tools

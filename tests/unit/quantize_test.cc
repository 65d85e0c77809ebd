// slm quantize's library part (src/tools/quantize.h, kl.h) on stories260K:
// every scheme round-trips into a valid package with the policy's dtypes and a
// smaller size, the KL figure is finite and ordered, and q8_0 keeps the f32
// greedy continuation. Plus the mixed policy on a shape with 256-wide rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "base/file.h"
#include "import/gguf_import.h"
#include "package/package.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tools/kl.h"
#include "tools/quantize.h"
#include "tools/synth.h"

namespace slm::tools {
namespace {

class Quantize : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = test::ModelPath("stories260K.gguf");
    ASSERT_FALSE(path.empty());
    auto b = ImportGguf(path);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    f32_ = new ModelBundle(std::move(b).value());
    auto text = ReadFileToString(test::SourceDir() + "/tests/data/kl_text.txt");
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto tok = Tokenizer::Create(f32_->tokenizer);
    ASSERT_TRUE(tok.ok());
    auto ids = (*tok)->Encode(*text, true);
    ASSERT_TRUE(ids.ok());
    ids_ = new std::vector<int32_t>(std::move(ids).value());
  }
  static void TearDownTestSuite() {
    delete f32_;
    delete ids_;
  }
  static uint64_t Bytes(const ModelBundle& b) {
    uint64_t n = 0;
    for (const TensorData& t : b.tensors) n += t.bytes().size();
    return n;
  }
  static std::vector<int32_t> Greedy(const std::vector<TensorData>& tensors, int n) {
    auto m = Model::Create(f32_->config, tensors);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return {};
    SessionOptions so;
    so.n_ctx = 64;
    so.n_threads = 1;
    auto s = Session::Create(**m, so);
    EXPECT_TRUE(s.ok());
    std::vector<int32_t> out;
    int32_t id = 1;  // BOS
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE((*s)->Decode(id).ok());
      auto lg = (*s)->logits();
      size_t best = 0;
      for (size_t v = 1; v < lg.size(); ++v) best = lg[v] > lg[best] ? v : best;
      id = static_cast<int32_t>(best);
      out.push_back(id);
    }
    return out;
  }
  static ModelBundle* f32_;
  static std::vector<int32_t>* ids_;
};
ModelBundle* Quantize::f32_ = nullptr;
std::vector<int32_t>* Quantize::ids_ = nullptr;

TEST(QuantizePolicy, ParseAndNames) {
  QuantScheme s;
  for (const char* n : {"f32", "q8_0", "q4_0", "q4_k", "q6_k", "mixed"}) {
    ASSERT_TRUE(ParseQuantScheme(n, &s)) << n;
    EXPECT_STREQ(QuantSchemeName(s), n);
  }
  EXPECT_TRUE(ParseQuantScheme("Q4_K", &s));
  EXPECT_EQ(s, QuantScheme::kQ4_K);
  EXPECT_FALSE(ParseQuantScheme("q5_k", &s));
  EXPECT_FALSE(ParseQuantScheme("", &s));
}

TEST(QuantizePolicy, FallbacksFollowRowLength) {
  ModelConfig c;
  c.n_layers = 4;
  const std::vector<int64_t> r64 = {8, 64}, r172 = {8, 172}, r256 = {8, 256}, norm = {64};
  std::string why;
  EXPECT_EQ(ChooseTensorType(c, "blk.0.attn_norm.weight", norm, QuantScheme::kQ8_0), DType::kF32);
  EXPECT_EQ(ChooseTensorType(c, "blk.0.attn_q.weight", r256, QuantScheme::kQ4_K), DType::kQ4_K);
  EXPECT_EQ(ChooseTensorType(c, "blk.0.attn_q.weight", r64, QuantScheme::kQ4_K, &why), DType::kQ4_0);
  EXPECT_NE(why.find("q4_k -> q4_0"), std::string::npos) << why;
  EXPECT_EQ(ChooseTensorType(c, "blk.0.attn_q.weight", r64, QuantScheme::kQ6_K), DType::kQ8_0);
  EXPECT_EQ(ChooseTensorType(c, "blk.0.ffn_down.weight", r172, QuantScheme::kQ8_0), DType::kF32);
  EXPECT_EQ(ChooseTensorType(c, "blk.0.ffn_down.weight", r172, QuantScheme::kQ4_K), DType::kF32);
  EXPECT_EQ(ChooseTensorType(c, "blk.0.attn_q.weight", r64, QuantScheme::kQ8_0, &why), DType::kQ8_0);
  EXPECT_TRUE(why.empty());
}

TEST(QuantizePolicy, MixedIsLikeQ4KM) {
  ModelConfig c;
  c.n_layers = 8;  // use_more_bits: layers 0, 3, 6, 7
  const std::vector<int64_t> w = {512, 256};
  EXPECT_EQ(ChooseTensorType(c, "token_embd.weight", w, QuantScheme::kMixed), DType::kQ6_K);
  EXPECT_EQ(ChooseTensorType(c, "output.weight", w, QuantScheme::kMixed), DType::kQ6_K);
  const std::vector<bool> more = {true, false, false, true, false, false, true, true};
  for (int i = 0; i < 8; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    const DType want = more[i] ? DType::kQ6_K : DType::kQ4_K;
    EXPECT_EQ(ChooseTensorType(c, p + "attn_v.weight", w, QuantScheme::kMixed), want) << i;
    EXPECT_EQ(ChooseTensorType(c, p + "ffn_down.weight", w, QuantScheme::kMixed), want) << i;
    EXPECT_EQ(ChooseTensorType(c, p + "attn_q.weight", w, QuantScheme::kMixed), DType::kQ4_K);
    EXPECT_EQ(ChooseTensorType(c, p + "ffn_up.weight", w, QuantScheme::kMixed), DType::kQ4_K);
  }
  // 22 layers (TinyLlama): n/8 = 2, 7n/8 = 19.
  c.n_layers = 22;
  int n6 = 0;
  for (int i = 0; i < 22; ++i) {
    n6 += ChooseTensorType(c, "blk." + std::to_string(i) + ".attn_v.weight", w,
                           QuantScheme::kMixed) == DType::kQ6_K;
  }
  EXPECT_EQ(n6, 10);  // layers 0, 1, 4, 7, 10, 13, 16, 19, 20, 21
}

TEST_F(Quantize, EverySchemeMakesAValidSmallerPackageWithThePolicyTypes) {
  const uint64_t f32_bytes = Bytes(*f32_);
  for (QuantScheme s : {QuantScheme::kQ8_0, QuantScheme::kQ4_0, QuantScheme::kQ4_K,
                        QuantScheme::kQ6_K, QuantScheme::kMixed}) {
    SCOPED_TRACE(QuantSchemeName(s));
    std::vector<TensorPlan> plan;
    auto q = QuantizeBundle(*f32_, s, "00ff", "stories260K.slm", &plan);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    ASSERT_EQ(plan.size(), f32_->tensors.size());
    auto bytes = SerializePackage(*q);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto pkg = Package::FromMemory(*bytes, "q.slm");
    ASSERT_TRUE(pkg.ok()) << pkg.status().ToString();
    EXPECT_TRUE((*pkg)->VerifyAll().ok());
    EXPECT_EQ((*pkg)->provenance().notes,
              std::string("quantized from 00ff with --type ") + QuantSchemeName(s));
    EXPECT_EQ((*pkg)->provenance().source_sha256, "00ff");
    for (size_t i = 0; i < plan.size(); ++i) {
      const TensorData& t = (*pkg)->tensors()[i];
      EXPECT_EQ(t.name, plan[i].name);
      EXPECT_EQ(t.dtype, ChooseTensorType(f32_->config, t.name, t.shape, s)) << t.name;
      if (t.shape.size() == 1) {
        EXPECT_EQ(t.dtype, DType::kF32) << t.name;
      }
      // stories260K: dim 64 (not a multiple of 256), hidden 172 (not of 32).
      if (t.shape.size() == 2 && t.shape[1] == 172) {
        EXPECT_EQ(t.dtype, DType::kF32) << t.name;
      }
      if (t.shape.size() == 2 && t.shape[1] == 64) {
        // 64-wide rows: k-quants fall back (q4_k -> q4_0, q6_k -> q8_0).
        const bool wide = s == QuantScheme::kQ8_0 || s == QuantScheme::kQ6_K;
        if (s != QuantScheme::kMixed) {
          EXPECT_EQ(t.dtype, wide ? DType::kQ8_0 : DType::kQ4_0) << t.name;
        } else {
          EXPECT_TRUE(t.dtype == DType::kQ8_0 || t.dtype == DType::kQ4_0) << t.name;
        }
      }
    }
    EXPECT_LT(Bytes(*q), f32_bytes / 2);
  }
}

TEST_F(Quantize, AlreadyInTargetTypeIsCopiedUnchanged) {
  auto q8 = QuantizeBundle(*f32_, QuantScheme::kQ8_0, "a", "a", nullptr);
  ASSERT_TRUE(q8.ok());
  auto again = QuantizeBundle(*q8, QuantScheme::kQ8_0, "b", "b", nullptr);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < q8->tensors.size(); ++i) {
    auto a = q8->tensors[i].bytes(), b = again->tensors[i].bytes();
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << q8->tensors[i].name;
  }
}

TEST(Kl, FromLogits) {
  const std::vector<float> a = {1, 2, 3, 4}, b = {1, 2, 3, 4}, c = {0, 0, 0, 0};
  EXPECT_EQ(KlFromLogits(a, b), 0.0);
  // KL(softmax(a) || uniform) = log 4 - H(softmax(a)).
  double z = 0, h = 0;
  for (float v : a) z += std::exp(double(v));
  for (float v : a) h -= std::exp(double(v)) / z * std::log(std::exp(double(v)) / z);
  EXPECT_NEAR(KlFromLogits(a, c), std::log(4.0) - h, 1e-12);
  // Shift invariance: logits + constant give the same distribution.
  const std::vector<float> a5 = {6, 7, 8, 9};
  EXPECT_NEAR(KlFromLogits(a, a5), 0.0, 1e-12);
}

TEST_F(Quantize, KlIsFiniteOrderedAndSmallForQ8) {
  std::map<QuantScheme, KlReport> r;
  for (QuantScheme s : {QuantScheme::kQ8_0, QuantScheme::kQ4_0, QuantScheme::kMixed}) {
    auto q = QuantizeBundle(*f32_, s, "x", "x", nullptr);
    ASSERT_TRUE(q.ok());
    auto deq = DequantizeTensors(q->tensors);
    ASSERT_TRUE(deq.ok()) << deq.status().ToString();
    auto k = KlDivergence(f32_->config, f32_->tensors, *deq, *ids_);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    EXPECT_EQ(k->positions, static_cast<int32_t>(ids_->size()));
    EXPECT_TRUE(std::isfinite(k->mean) && std::isfinite(k->max)) << QuantSchemeName(s);
    EXPECT_GE(k->max, k->mean);
    r[s] = *k;
  }
  EXPECT_GT(ids_->size(), 300u);  // the text is a few hundred tokens
  // Measured: q8_0 mean 2.8e-4, max 3.4e-3; q4_0 mean 0.088; mixed 0.056.
  EXPECT_LT(r[QuantScheme::kQ8_0].mean, 2e-3);
  EXPECT_LT(r[QuantScheme::kQ8_0].max, 2e-2);
  EXPECT_GT(r[QuantScheme::kQ8_0].top1_agree, 0.95);
  EXPECT_LT(r[QuantScheme::kQ8_0].mean, r[QuantScheme::kQ4_0].mean);
  EXPECT_LT(r[QuantScheme::kMixed].mean, r[QuantScheme::kQ4_0].mean);
  // The f32 model against itself: exactly zero.
  auto self = KlDivergence(f32_->config, f32_->tensors, f32_->tensors,
                           std::span<const int32_t>(*ids_).first(16));
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->max, 0.0);
  EXPECT_EQ(self->top1_agree, 1.0);
}

TEST_F(Quantize, Q8KeepsTheGreedyContinuation) {
  auto q = QuantizeBundle(*f32_, QuantScheme::kQ8_0, "x", "x", nullptr);
  ASSERT_TRUE(q.ok());
  const std::vector<int32_t> want = Greedy(f32_->tensors, 32);
  ASSERT_EQ(want.size(), 32u);
  // Through the dequantize path (the quantized weights' exact values, f32 math).
  auto deq = DequantizeTensors(q->tensors);
  ASSERT_TRUE(deq.ok());
  EXPECT_EQ(Greedy(*deq, 32), want);
  // Through the quantized kernels (issue 3's target: q8_0 keeps 32 tokens).
  EXPECT_EQ(Greedy(q->tensors, 32), want);
}

TEST_F(Quantize, RuntimeKlIsCloseToWeightsOnlyKl) {
  // The quantized kernels add the 8-bit activation error on top of the
  // weight error; for q8_0 both stay small.
  auto q = QuantizeBundle(*f32_, QuantScheme::kQ8_0, "x", "x", nullptr);
  ASSERT_TRUE(q.ok());
  auto k = KlDivergence(f32_->config, f32_->tensors, q->tensors, *ids_);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_TRUE(std::isfinite(k->mean));
  EXPECT_LT(k->mean, 4e-3);  // measured 5.9e-4
  EXPECT_GT(k->top1_agree, 0.9);
}

TEST(QuantizeKQuants, KlOrderedOnA256WideModel) {
  // stories260K is too narrow for the k-quants (64-wide rows fall back), so
  // check their KL on a seeded random model with 256-wide rows.
  SynthSpec spec;
  ModelConfig& c = spec.config;
  c.dim = 256;
  c.hidden_dim = 512;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 4;
  c.head_dim = 64;
  c.vocab_size = 512;
  c.max_seq_len = 32;
  spec.seed = 11;
  spec.label = "kq";
  auto f32 = SynthBundle(spec);
  ASSERT_TRUE(f32.ok());
  std::vector<int32_t> ids;
  for (int i = 0; i < 32; ++i) ids.push_back(3 + (i * 37) % 500);
  std::map<QuantScheme, double> kl;
  for (QuantScheme s : {QuantScheme::kQ8_0, QuantScheme::kQ6_K, QuantScheme::kQ4_K,
                        QuantScheme::kQ4_0}) {
    std::vector<TensorPlan> plan;
    auto q = QuantizeBundle(*f32, s, "x", "x", &plan);
    ASSERT_TRUE(q.ok());
    for (const TensorPlan& p : plan) {
      if (p.shape.size() == 2) {
        EXPECT_TRUE(p.why.empty()) << p.name << ": " << p.why;  // no fallback
      }
    }
    auto deq = DequantizeTensors(q->tensors);
    ASSERT_TRUE(deq.ok());
    auto k = KlDivergence(c, f32->tensors, *deq, ids);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    kl[s] = k->mean;
  }
  EXPECT_LT(kl[QuantScheme::kQ8_0], kl[QuantScheme::kQ6_K]);
  EXPECT_LT(kl[QuantScheme::kQ6_K], kl[QuantScheme::kQ4_K]);
  EXPECT_LT(kl[QuantScheme::kQ4_K], kl[QuantScheme::kQ4_0]);
}

}  // namespace
}  // namespace slm::tools

// PEFT LoRA folders (src/adapter/peft.h) and llama.cpp LoRA GGUF files
// (src/adapter/lora_gguf.h) on the torch fixture in tests/adapter/: a LoRA
// (r 4, alpha 8) trained on stories260K, saved both ways.
//
// Tolerance: base + LoRA through the assembly vs the float64 reference
// (expected.json, merged weights W + 2 B A): final-prompt logits within 1e-3
// (measured max 1.2e-5); greedy ids exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "adapter/adapter_package.h"
#include "adapter/assembly.h"
#include "adapter/lora_gguf.h"
#include "adapter/peft.h"
#include "adapter/validate.h"
#include "adapter_test_util.h"
#include "base/file.h"
#include "base/json.h"
#include "import/import.h"
#include "import/safetensors.h"
#include "package/package.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace slm {
namespace {

using adapter_test::FixturePath;
using adapter_test::GenRun;
using adapter_test::Greedy;
using adapter_test::Ints;

constexpr double kLogitTolVsReference = 1e-3;

std::unique_ptr<AdapterAssembly> Assemble(const Package& base, const Adapter& a) {
  auto d = AdapterContentDigest(a);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  AssemblyEntry e{&a, d.ok() ? *d : Digest{}, 1.0f};
  auto asmb = AdapterAssembly::Build(base, std::span<const AssemblyEntry>(&e, 1));
  EXPECT_TRUE(asmb.ok()) << asmb.status().ToString();
  return asmb.ok() ? std::move(asmb).value() : nullptr;
}

std::string OursToHf(const std::string& n) {
  if (n == "token_embd.weight") return "model.embed_tokens.weight";
  if (n == "output_norm.weight") return "model.norm.weight";
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  const size_t dot = n.find('.', 4);
  const std::string layer = n.substr(4, dot - 4), rest = n.substr(dot + 1);
  for (auto [ours, hf] : kLayer) {
    if (rest == ours) return "model.layers." + layer + "." + hf;
  }
  return "";
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class ImportFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string model = test::ModelPath("stories260K.bin");
    const std::string tok = test::ModelPath("tok512.bin");
    ASSERT_FALSE(model.empty());
    ASSERT_FALSE(tok.empty());
    auto b = ImportModel(model, {tok});
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    const std::string path = test::TempPath("lora_base.slm");
    ASSERT_TRUE(WritePackage(*b, path).ok());
    auto p = Package::Open(path);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    base_ = std::move(p).value();
    auto text = ReadFileToString(FixturePath("expected.json"));
    ASSERT_TRUE(text.ok());
    auto j = ParseJson(*text, "expected.json");
    ASSERT_TRUE(j.ok());
    expected_ = std::move(j).value();
    prompt_ = Ints(*expected_.Find("prompt_ids"));
    n_greedy_ = static_cast<int>(expected_.Find("n_greedy")->as_number());
  }

  // A PEFT folder under the temp dir: `config` as adapter_config.json and
  // the fixture's tensors after `edit`.
  std::string PeftCopy(const std::string& name, const std::string& config,
                       const std::function<void(std::vector<SafetensorsTensor>*)>& edit = {}) {
    const std::string dir = test::TempPath(name);
    std::filesystem::create_directories(dir);
    WriteText(dir + "/adapter_config.json", config);
    auto st = SafetensorsFile::Open(FixturePath("peft/adapter_model.safetensors"));
    EXPECT_TRUE(st.ok());
    std::vector<SafetensorsTensor> ts = (*st)->tensors();
    if (edit) edit(&ts);
    auto bytes = WriteSafetensors(ts);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_TRUE(WriteFileAtomic(dir + "/adapter_model.safetensors", *bytes).ok());
    return dir;
  }
  std::string Config(const std::string& extra = "", const std::string& r = "\"r\": 4, ") {
    return "{" + r +
           "\"lora_alpha\": 8, \"peft_type\": \"LORA\", \"target_modules\": [\"q_proj\", "
           "\"k_proj\", \"v_proj\", \"o_proj\", \"gate_proj\", \"up_proj\", \"down_proj\"]" +
           extra + "}";
  }
  // Config() with embed_tokens in target_modules.
  std::string EmbdConfig() {
    const std::string c = Config();
    return c.substr(0, c.size() - 2) + ", \"embed_tokens\"]}";
  }

  std::unique_ptr<Package> base_;
  JsonValue expected_;
  std::vector<int32_t> prompt_;
  int n_greedy_ = 0;
};

TEST_F(ImportFixture, PeftReproducesTheTorchLora) {
  auto a = ImportPeft(FixturePath("peft"), *base_);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->deltas.size(), 35u);  // 5 layers x 7 modules
  for (const TensorDelta& d : a->deltas) {
    EXPECT_EQ(d.kind, DeltaKind::kLowRank);
    EXPECT_EQ(d.rank, 4);
    EXPECT_EQ(d.scale, 2.0f);  // alpha / r
  }
  EXPECT_EQ(a->deltas[0].target, "blk.0.attn_k.weight");  // sorted
  EXPECT_EQ(a->base_compat, CompatibilityDigest(*base_));
  EXPECT_EQ(a->base_tokenizer, base_->tokenizer_digest());
  EXPECT_EQ(a->name, "peft");
  EXPECT_NE(a->lineage.method.find("r=4, lora_alpha=8, alpha/r"), std::string::npos);
  EXPECT_NE(a->lineage.notes.find("permuted"), std::string::npos);
  ASSERT_TRUE(ValidateAdapter(*base_, *a).ok()) << ValidateAdapter(*base_, *a).ToString();

  auto asmb = Assemble(*base_, *a);
  ASSERT_NE(asmb, nullptr);
  const GenRun got = Greedy(base_->config(), base_->tensors(), prompt_, n_greedy_, asmb.get());
  const JsonValue& ref = *expected_.Find("base_plus_lora");
  EXPECT_EQ(got.greedy, Ints(*ref.Find("greedy")));
  double worst = 0;
  const auto& want = ref.Find("logits")->items();
  ASSERT_EQ(want.size(), got.logits.size());
  for (size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, std::fabs(got.logits[i] - want[i].as_number()));
  }
  std::printf("PEFT LoRA via assembly: max |logit - float64 ref| = %.3g\n", worst);
  EXPECT_LE(worst, kLogitTolVsReference);
  // And it is not the base's continuation.
  EXPECT_NE(got.greedy, Ints(*expected_.Find("base")->Find("greedy")));
}

TEST_F(ImportFixture, PeftWithoutThePermutationWouldBeWrong) {
  // The stored q/k lora_B rows are in HF order; the imported ones are not.
  auto a = ImportPeft(FixturePath("peft"), *base_);
  ASSERT_TRUE(a.ok());
  auto st = SafetensorsFile::Open(FixturePath("peft/adapter_model.safetensors"));
  ASSERT_TRUE(st.ok());
  const SafetensorsTensor* qb =
      (*st)->Find("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
  const SafetensorsTensor* vb =
      (*st)->Find("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight");
  ASSERT_NE(qb, nullptr);
  ASSERT_NE(vb, nullptr);
  for (const TensorDelta& d : a->deltas) {
    if (d.target == "blk.0.attn_q.weight") {
      std::vector<float> stored(qb->data.size() / 4);
      std::memcpy(stored.data(), qb->data.data(), qb->data.size());
      EXPECT_NE(d.b, stored);
      lora_import::PermuteQkRows(&stored, 8, 8, 4, /*to_interleaved=*/true);
      EXPECT_EQ(d.b, stored);
      lora_import::PermuteQkRows(&stored, 8, 8, 4, /*to_interleaved=*/false);
      lora_import::PermuteQkRows(&stored, 8, 8, 4, /*to_interleaved=*/true);
      EXPECT_EQ(d.b, stored);  // the two directions are inverses
    }
    if (d.target == "blk.0.attn_v.weight") {  // v is never permuted
      EXPECT_EQ(std::memcmp(d.b.data(), vb->data.data(), vb->data.size()), 0);
    }
  }
}

TEST_F(ImportFixture, GgufLoraEqualsPeftImport) {
  auto p = ImportPeft(FixturePath("peft"), *base_);
  auto g = ImportLoraGguf(FixturePath("lora.gguf"), *base_);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(p->deltas.size(), g->deltas.size());
  for (size_t i = 0; i < p->deltas.size(); ++i) {
    const TensorDelta &x = p->deltas[i], &y = g->deltas[i];
    EXPECT_EQ(x.target, y.target);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.shape, y.shape);
    EXPECT_EQ(x.rank, y.rank);
    EXPECT_EQ(x.scale, y.scale);
    EXPECT_EQ(x.a, y.a) << x.target;
    EXPECT_EQ(x.b, y.b) << x.target;
  }
  EXPECT_EQ(g->base_compat, p->base_compat);
  EXPECT_EQ(g->name, "lora.gguf");
  EXPECT_NE(g->lineage.method.find("adapter.lora.alpha=8"), std::string::npos);
  // Same deltas, so the same package content digest.
  auto dp = AdapterContentDigest(*p);
  auto dg = AdapterContentDigest(*g);
  ASSERT_TRUE(dp.ok() && dg.ok());
  EXPECT_NE(*dp, *dg);  // names and lineage differ...
  Adapter g2 = *g;
  g2.name = p->name;
  g2.lineage = p->lineage;
  EXPECT_EQ(*AdapterContentDigest(g2), *dp);  // ...the deltas do not
}

TEST_F(ImportFixture, HfLayoutBaseTakesPeftRowsAsStored) {
  // The same base as an HF folder (half-split RoPE, q/k rows un-permuted):
  // PEFT rows are used as stored, the GGUF LoRA's are un-permuted, and both
  // give the torch LoRA's tokens.
  const ModelConfig& c = base_->config();
  const std::string dir = test::TempPath("lora_hf_base");
  std::filesystem::create_directories(dir);
  std::vector<std::vector<uint8_t>> storage;
  storage.reserve(base_->tensors().size());
  std::vector<SafetensorsTensor> ts;
  for (const TensorData& t : base_->tensors()) {
    std::vector<float> w(t.bytes().size() / 4);
    std::memcpy(w.data(), t.bytes().data(), t.bytes().size());
    if (lora_import::QkHeads(t.name, c) > 0) {
      lora_import::PermuteQkRows(&w, lora_import::QkHeads(t.name, c), c.head_dim, t.shape[1],
                                 /*to_interleaved=*/false);
    }
    storage.emplace_back(w.size() * 4);
    std::memcpy(storage.back().data(), w.data(), storage.back().size());
    SafetensorsTensor s;
    s.name = OursToHf(t.name);
    ASSERT_FALSE(s.name.empty()) << t.name;
    s.dtype = DType::kF32;
    s.shape = t.shape;
    s.data = storage.back();
    ts.push_back(s);
  }
  auto bytes = WriteSafetensors(ts);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/model.safetensors", *bytes).ok());
  WriteText(dir + "/config.json",
            "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, "
            "\"intermediate_size\": 172, \"num_hidden_layers\": 5, \"num_attention_heads\": 8, "
            "\"num_key_value_heads\": 4, \"vocab_size\": 512, \"max_position_embeddings\": 512, "
            "\"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"tie_word_embeddings\": true, "
            "\"hidden_act\": \"silu\"}");
  auto hb = ImportModel(dir, {test::ModelPath("tok512.bin")});
  ASSERT_TRUE(hb.ok()) << hb.status().ToString();
  ASSERT_EQ(hb->config.rope_style, RopeStyle::kHalfSplit);
  const std::string pkg_path = test::TempPath("lora_hf_base.slm");
  ASSERT_TRUE(WritePackage(*hb, pkg_path).ok());
  auto hf = Package::Open(pkg_path);
  ASSERT_TRUE(hf.ok());

  auto p = ImportPeft(FixturePath("peft"), **hf);
  auto g = ImportLoraGguf(FixturePath("lora.gguf"), **hf);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(p->lineage.notes.find("permuted"), std::string::npos);
  EXPECT_NE(g->lineage.notes.find("permuted"), std::string::npos);
  for (size_t i = 0; i < p->deltas.size(); ++i) {
    EXPECT_EQ(p->deltas[i].b, g->deltas[i].b) << p->deltas[i].target;
  }
  EXPECT_NE(p->base_compat, CompatibilityDigest(*base_));  // a different base
  auto asmb = Assemble(**hf, *p);
  ASSERT_NE(asmb, nullptr);
  const GenRun got = Greedy((*hf)->config(), (*hf)->tensors(), prompt_, n_greedy_, asmb.get());
  EXPECT_EQ(got.greedy, Ints(*expected_.Find("base_plus_lora")->Find("greedy")));
  // An adapter made for the llama2.c base is refused on the HF one.
  auto ours = ImportPeft(FixturePath("peft"), *base_);
  ASSERT_TRUE(ours.ok());
  EXPECT_FALSE(ValidateAdapter(**hf, *ours).ok());
}

TEST_F(ImportFixture, RsLoraScaling) {
  const std::string dir = PeftCopy("peft_rslora", Config(", \"use_rslora\": true"));
  auto a = ImportPeft(dir, *base_);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  for (const TensorDelta& d : a->deltas) EXPECT_EQ(d.scale, 4.0f);  // 8 / sqrt(4)
  EXPECT_NE(a->lineage.method.find("rsLoRA"), std::string::npos);
}

void ExpectError(const StatusOr<Adapter>& a, const std::string& needle) {
  ASSERT_FALSE(a.ok()) << "expected an error containing: " << needle;
  EXPECT_NE(a.status().message().find(needle), std::string::npos) << a.status().message();
}

// n floats 0.01 * ((i * 37) % 17 - 8) as bytes (static storage: views outlive the call).
std::span<const uint8_t> EmbeddingBytes(size_t n) {
  static std::vector<std::vector<float>> keep;
  keep.emplace_back(n);
  for (size_t i = 0; i < n; ++i) keep.back()[i] = 0.01f * static_cast<float>((i * 37) % 17) - 0.08f;
  return {reinterpret_cast<const uint8_t*>(keep.back().data()), n * sizeof(float)};
}

TEST_F(ImportFixture, PeftEmbeddingLoraIsATransposedLowRankDelta) {
  // lora_embedding_A [4, 512], lora_embedding_B [64, 4] beside the fixture's 35 pairs.
  const auto a_bytes = EmbeddingBytes(4 * 512), b_bytes = EmbeddingBytes(64 * 4 + 3).subspan(12);
  const std::string dir = PeftCopy("peft_embd", Config(), [&](std::vector<SafetensorsTensor>* ts) {
    SafetensorsTensor e = ts->front();
    e.name = "base_model.model.model.embed_tokens.lora_embedding_A";
    e.shape = {4, 512};
    e.data = a_bytes;
    ts->push_back(e);
    e.name = "base_model.model.model.embed_tokens.lora_embedding_B";
    e.shape = {64, 4};
    e.data = b_bytes;
    ts->push_back(e);
  });
  // target_modules must name it like any other module.
  ExpectError(ImportPeft(dir, *base_), "module 'embed_tokens' is not in target_modules");
  WriteText(dir + "/adapter_config.json", EmbdConfig());
  auto a = ImportPeft(dir, *base_);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->deltas.size(), 36u);
  const TensorDelta* d = nullptr;
  for (const TensorDelta& x : a->deltas) {
    if (x.target == "token_embd.weight") d = &x;
  }
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->kind, DeltaKind::kLowRank);
  EXPECT_EQ(d->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(d->rank, 4);
  EXPECT_EQ(d->scale, 2.0f);
  ASSERT_TRUE(ValidateAdapter(*base_, *a).ok()) << ValidateAdapter(*base_, *a).ToString();
  // Delta E[v][i] = scale * sum_j A[j][v] B[i][j] (PEFT's embedding forward), from
  // the stored halves: B' A' with B' [512, 4], A' [4, 64].
  std::vector<float> A(4 * 512), B(64 * 4);
  std::memcpy(A.data(), a_bytes.data(), a_bytes.size());
  std::memcpy(B.data(), b_bytes.data(), b_bytes.size());
  for (int v : {0, 1, 77, 511}) {
    for (int i : {0, 5, 63}) {
      double want = 0, got = 0;
      for (int j = 0; j < 4; ++j) {
        want += double(A[j * 512 + v]) * B[i * 4 + j];
        got += double(d->b[v * 4 + j]) * d->a[j * 64 + i];
      }
      EXPECT_EQ(got, want) << "v " << v << " i " << i;
    }
  }
  // The assembly adds it to the embedding row (scale 2).
  auto asmb = Assemble(*base_, *a);
  ASSERT_NE(asmb, nullptr);
  std::vector<float> row(64, 0.0f);
  asmb->AddEmbedding(77, row.data());
  for (int i : {0, 5, 63}) {
    double want = 0;
    for (int j = 0; j < 4; ++j) want += double(A[j * 512 + 77]) * B[i * 4 + j];
    EXPECT_NEAR(row[i], 2.0 * want, 1e-6) << i;
  }
}

TEST_F(ImportFixture, PeftBadInputs) {
  // Missing r.
  ExpectError(ImportPeft(PeftCopy("peft_no_r", Config("", "")), *base_), "missing 'r'");
  // A finite double alpha whose scale overflows a float (found by fuzz_adapter_peft).
  ExpectError(ImportPeft(PeftCopy("peft_alpha", "{\"r\": 1, \"lora_alpha\": 1.22e66}"), *base_),
              "'lora_alpha' = 1.22e+66 gives a scale (lora_alpha / r) beyond the float range");
  // A module outside target_modules.
  ExpectError(
      ImportPeft(PeftCopy("peft_targets",
                          "{\"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"]}"),
                 *base_),
      "is not in target_modules [q_proj]");
  // A target the base does not have (layer 7 of 5).
  ExpectError(
      ImportPeft(PeftCopy("peft_layer7", Config(),
                          [](std::vector<SafetensorsTensor>* ts) {
                            for (SafetensorsTensor& t : *ts) {
                              if (t.name.find("layers.4.mlp.up_proj") != std::string::npos) {
                                t.name.replace(t.name.find("layers.4"), 8, "layers.7");
                              }
                            }
                          }),
                 *base_),
      "target 'blk.7.ffn_up.weight' is not a tensor of the base");
  // Shapes that disagree with the base: lora_A of v_proj [4, 32] instead of [4, 64].
  ExpectError(ImportPeft(PeftCopy("peft_shape", Config(),
                                  [](std::vector<SafetensorsTensor>* ts) {
                                    for (SafetensorsTensor& t : *ts) {
                                      if (t.name.find("layers.1.self_attn.v_proj.lora_A") !=
                                          std::string::npos) {
                                        t.shape = {4, 32};
                                        t.data = t.data.subspan(0, 4 * 32 * 4);
                                      }
                                    }
                                  }),
                         *base_),
              "lora_A must be [r, 64] and lora_B [32, r]; found A [4, 32], B [32, 4]");
  // A lone lora_A.
  ExpectError(ImportPeft(PeftCopy("peft_lone", Config(),
                                  [](std::vector<SafetensorsTensor>* ts) {
                                    std::erase_if(*ts, [](const SafetensorsTensor& t) {
                                      return t.name.find("layers.2.mlp.down_proj.lora_B") !=
                                             std::string::npos;
                                    });
                                  }),
                         *base_),
              "has lora_A but no lora_B");
  // Embedding LoRA: a lone half, a wrong shape, lora_A/B names on the embedding.
  ExpectError(ImportPeft(PeftCopy("peft_embd_lone", EmbdConfig(),
                                  [](std::vector<SafetensorsTensor>* ts) {
                                    SafetensorsTensor e = ts->front();
                                    e.name = "base_model.model.model.embed_tokens.lora_embedding_A";
                                    e.shape = {4, 512};
                                    e.data = EmbeddingBytes(4 * 512);
                                    ts->push_back(e);
                                  }),
                         *base_),
              "has lora_embedding_A but no lora_embedding_B");
  ExpectError(ImportPeft(PeftCopy("peft_embd_shape", EmbdConfig(),
                                  [](std::vector<SafetensorsTensor>* ts) {
                                    SafetensorsTensor e = ts->front();
                                    e.name = "base_model.model.model.embed_tokens.lora_embedding_A";
                                    e.shape = {4, 64};  // [r, dim]: the B layout
                                    e.data = EmbeddingBytes(4 * 64);
                                    ts->push_back(e);
                                    e.name = "base_model.model.model.embed_tokens.lora_embedding_B";
                                    ts->push_back(e);
                                  }),
                         *base_),
              "lora_embedding_A must be [r, 512] and lora_embedding_B [64, r]; found A [4, 64], "
              "B [4, 64]");
  ExpectError(ImportPeft(PeftCopy("peft_embd_names", EmbdConfig(),
                                  [](std::vector<SafetensorsTensor>* ts) {
                                    SafetensorsTensor e = ts->front();
                                    e.name = "base_model.model.model.embed_tokens.lora_A.weight";
                                    ts->push_back(e);
                                  }),
                         *base_),
              "lora_A/B on the token embedding (PEFT writes lora_embedding_A/B there)");
  // Truncated safetensors: the reader's bounds checks name the file.
  {
    const std::string dir = PeftCopy("peft_trunc", Config());
    auto full = ReadFileToString(dir + "/adapter_model.safetensors");
    ASSERT_TRUE(full.ok());
    const std::string half = full->substr(0, full->size() / 2);
    ASSERT_TRUE(WriteFileAtomic(dir + "/adapter_model.safetensors",
                                std::span<const uint8_t>(
                                    reinterpret_cast<const uint8_t*>(half.data()), half.size()))
                    .ok());
    auto a = ImportPeft(dir, *base_);
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.status().message().find("adapter_model.safetensors"), std::string::npos)
        << a.status().message();
  }
  // Not a folder / no safetensors / bad JSON.
  EXPECT_FALSE(ImportPeft(test::TempPath("no_such_dir"), *base_).ok());
  {
    const std::string dir = test::TempPath("peft_empty");
    std::filesystem::create_directories(dir);
    WriteText(dir + "/adapter_config.json", Config());
    ExpectError(ImportPeft(dir, *base_), "no adapter_model.safetensors");
    WriteText(dir + "/adapter_config.json", "{\"r\": 4,");
    EXPECT_FALSE(ImportPeft(dir, *base_).ok());
  }
  EXPECT_TRUE(IsPeftFolder(FixturePath("peft")));
  EXPECT_FALSE(IsPeftFolder(FixturePath("lora.gguf")));
}

// The fixture GGUF with every `from` replaced by `to` (same length).
std::string PatchedGguf(const std::string& name, const std::string& from, const std::string& to,
                        size_t truncate = 0) {
  auto bytes = ReadFileToString(FixturePath("lora.gguf"));
  EXPECT_TRUE(bytes.ok());
  std::string b = *bytes;
  if (!from.empty()) {
    size_t at = b.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    for (; at != std::string::npos; at = b.find(from, at + to.size())) {
      b.replace(at, from.size(), to);
    }
  }
  if (truncate) b.resize(truncate);
  const std::string path = test::TempPath(name);
  EXPECT_TRUE(WriteFileAtomic(path, std::span<const uint8_t>(
                                        reinterpret_cast<const uint8_t*>(b.data()), b.size()))
                  .ok());
  return path;
}

TEST_F(ImportFixture, GgufBadInputs) {
  ExpectError(ImportLoraGguf(PatchedGguf("lora_model.gguf", "adapter\x0c", "xdapter\x0c"), *base_),
              "general.type is 'xdapter', expected 'adapter'");
  ExpectError(ImportLoraGguf(PatchedGguf("lora_arch.gguf", "llama", "gemma"), *base_),
              "general.architecture is 'gemma', the base is 'llama'");
  ExpectError(ImportLoraGguf(PatchedGguf("lora_suffix.gguf", "blk.3.ffn_up.weight.lora_b",
                                         "blk.3.ffn_up.weight.lora_c"),
                             *base_),
              "expected a name ending in .lora_a or .lora_b");
  ExpectError(ImportLoraGguf(PatchedGguf("lora_target.gguf", "blk.3.ffn_up.weight.lora",
                                         "blk.9.ffn_up.weight.lora"),
                             *base_),
              "target 'blk.9.ffn_up.weight' is not a tensor of the base");
  ExpectError(ImportLoraGguf(PatchedGguf("lora_lone.gguf", "blk.3.ffn_up.weight.lora_a",
                                         "blk.3.ffn_up.weight.lora_x"),
                             *base_),
              "expected a name ending in .lora_a or .lora_b");
  auto t = ImportLoraGguf(PatchedGguf("lora_trunc.gguf", "", "", 5000), *base_);
  EXPECT_FALSE(t.ok());
  // A model GGUF is not an adapter.
  const std::string model = test::ModelPath("stories260K.gguf");
  ASSERT_FALSE(model.empty());
  ExpectError(ImportLoraGguf(model, *base_), "not a LoRA adapter GGUF");
}

// A minimal GGUF v3 writer for hand-made LoRA files: string kvs, f32
// tensors (shape outermost first, written as ne innermost first).
struct MiniTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};
void WriteMiniGguf(const std::string& path,
                   const std::vector<std::pair<std::string, std::string>>& kv,
                   const std::vector<MiniTensor>& ts) {
  std::string out = "GGUF";
  auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [&](uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); };
  auto str = [&](const std::string& x) {
    u64(x.size());
    out += x;
  };
  u32(3);
  u64(ts.size());
  u64(kv.size());
  for (const auto& [k, v] : kv) {
    str(k);
    u32(8);
    str(v);
  }
  uint64_t off = 0;
  for (const MiniTensor& t : ts) {
    str(t.name);
    u32(static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) u64(static_cast<uint64_t>(*it));
    u32(0);
    u64(off);
    off += (t.data.size() * 4 + 31) / 32 * 32;
  }
  out.resize((out.size() + 31) / 32 * 32, '\0');
  for (const MiniTensor& t : ts) {
    out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * 4);
    out.resize((out.size() + 31) / 32 * 32, '\0');
  }
  ASSERT_TRUE(WriteFileAtomic(path, std::span<const uint8_t>(
                                        reinterpret_cast<const uint8_t*>(out.data()), out.size()))
                  .ok());
}

TEST_F(ImportFixture, GgufTokenEmbdIsFlippedAndAlphaDefaultsToScaleOne) {
  // llama.cpp's token_embd LoRA: lora_a [vocab, r], lora_b [dim, r],
  // Delta E[t] = sum_j a[t, j] b[:, j]; no adapter.lora.alpha -> scale 1.
  const int64_t vocab = 512, dim = 64, r = 2;
  MiniTensor a{"token_embd.weight.lora_a", {vocab, r}, {}},
      b{"token_embd.weight.lora_b", {dim, r}, {}};
  for (int64_t i = 0; i < vocab * r; ++i) a.data.push_back(0.001f * static_cast<float>(i % 97));
  for (int64_t i = 0; i < dim * r; ++i)
    b.data.push_back(0.01f * static_cast<float>(i % 13) - 0.05f);
  const std::string path = test::TempPath("lora_embd.gguf");
  WriteMiniGguf(path, {{"general.type", "adapter"}, {"adapter.type", "lora"}}, {a, b});
  auto g = ImportLoraGguf(path, *base_);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->deltas.size(), 1u);
  const TensorDelta& d = g->deltas[0];
  EXPECT_EQ(d.target, "token_embd.weight");
  EXPECT_EQ(d.rank, r);
  EXPECT_EQ(d.scale, 1.0f);
  std::vector<float> row(dim);
  for (int64_t t : {0, 7, 511}) {
    DeltaRow(d, t, row.data());
    for (int64_t c = 0; c < dim; ++c) {
      double want = 0;
      for (int64_t j = 0; j < r; ++j) want += double{a.data[t * r + j]} * b.data[c * r + j];
      EXPECT_NEAR(row[c], want, 1e-6) << t << "," << c;
    }
  }
  EXPECT_TRUE(ValidateAdapter(*base_, *g).ok());
  // Shapes that do not fit the base are refused naming both.
  MiniTensor bad_a{"blk.0.attn_q.weight.lora_a", {r, 32}, std::vector<float>(r * 32, 0.5f)};
  MiniTensor bad_b{"blk.0.attn_q.weight.lora_b", {64, r}, std::vector<float>(64 * r, 0.5f)};
  WriteMiniGguf(path, {{"general.type", "adapter"}, {"adapter.type", "lora"}}, {bad_a, bad_b});
  ExpectError(ImportLoraGguf(path, *base_), "found A [2, 32], B [64, 2]");
  WriteMiniGguf(path, {{"general.type", "adapter"}, {"adapter.type", "ia3"}}, {bad_a, bad_b});
  ExpectError(ImportLoraGguf(path, *base_), "adapter.type is 'ia3', expected 'lora'");
}

}  // namespace
}  // namespace slm

// Hugging Face folder import. No HF model ships with the test data, so the
// fixture is made here from stories260K.gguf: GGUF q/k rows are un-permuted
// into HF's half-split layout (the inverse of llama.cpp convert_hf_to_gguf's
// `permute`), tensors get HF names, and config.json is written; the tokenizer
// comes from tok512.bin (--tokenizer override). The imported model must equal
// the GGUF one except for the RoPE style and the q/k row order; the lead's
// logits test checks both forward passes agree.
#include "import/hf_import.h"

#include <gtest/gtest.h>

#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "import/dequant.h"
#include "import/gguf_import.h"
#include "import/import.h"
#include "import/safetensors.h"
#include "package/package.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace slm {
namespace {

std::string OursToHf(const std::string& n) {
  if (n == "token_embd.weight") return "model.embed_tokens.weight";
  if (n == "output_norm.weight") return "model.norm.weight";
  if (n == "output.weight") return "lm_head.weight";
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
  size_t dot = n.find('.', 4);
  std::string layer = n.substr(4, dot - 4), rest = n.substr(dot + 1);
  for (auto [ours, hf] : kLayer) {
    if (rest == ours) return "model.layers." + layer + "." + hf;
  }
  return "";
}

// GGUF (interleaved pairs) -> HF (half-split) rows of a [n_head * D, in] weight:
// row h*D + 2i + s  ->  row h*D + s*D/2 + i.
std::vector<uint8_t> Unpermute(std::span<const uint8_t> w, int n_head, int head_dim, int in) {
  std::vector<uint8_t> out(w.size());
  const size_t row = static_cast<size_t>(in) * 4;
  for (int h = 0; h < n_head; ++h) {
    for (int i = 0; i < head_dim / 2; ++i) {
      for (int s = 0; s < 2; ++s) {
        size_t from = static_cast<size_t>(h * head_dim + 2 * i + s);
        size_t to = static_cast<size_t>(h * head_dim + s * head_dim / 2 + i);
        std::memcpy(out.data() + to * row, w.data() + from * row, row);
      }
    }
  }
  return out;
}

struct Fixture {
  std::string dir;
  ModelBundle gguf;
  std::map<std::string, std::vector<uint8_t>> hf_bytes;  // by our name, f32
};

struct FixtureOptions {
  bool tied = false;
  bool sharded = false;
  DType dtype = DType::kF32;  // F16 / BF16 to exercise widening
  std::string extra_config;   // appended to config.json members
  std::string rope_scaling = "null";
  std::string architecture = "LlamaForCausalLM";
  std::function<void(std::vector<SafetensorsTensor>*)> edit;
};

uint16_t ToBf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return static_cast<uint16_t>(b >> 16);
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

Fixture MakeFixture(const std::string& name, const FixtureOptions& o) {
  Fixture f;
  std::string gguf = test::ModelPath("stories260K.gguf");
  auto b = ImportGguf(gguf);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  f.gguf = std::move(b).value();
  const ModelConfig& c = f.gguf.config;
  f.dir = test::TempPath(name);
  std::filesystem::create_directories(f.dir);

  std::vector<std::vector<uint8_t>> storage;
  std::vector<SafetensorsTensor> ts;
  storage.reserve(f.gguf.tensors.size());
  for (const TensorData& t : f.gguf.tensors) {
    if (o.tied && t.name == "output.weight") continue;
    std::vector<uint8_t> w(t.bytes().begin(), t.bytes().end());
    if (t.name.find("attn_q.weight") != std::string::npos) w = Unpermute(w, c.n_heads, c.head_dim, c.dim);
    if (t.name.find("attn_k.weight") != std::string::npos) w = Unpermute(w, c.n_kv_heads, c.head_dim, c.dim);
    if (o.dtype == DType::kBF16) {
      // Round the f32 values to bf16 first so the expected result is exact.
      std::vector<uint8_t> h(w.size() / 2);
      for (size_t i = 0; i < w.size() / 4; ++i) {
        float v;
        std::memcpy(&v, &w[i * 4], 4);
        uint16_t x = ToBf16(v);
        std::memcpy(&h[i * 2], &x, 2);
        v = Bf16ToF32(x);
        std::memcpy(&w[i * 4], &v, 4);
      }
      f.hf_bytes[t.name] = w;
      storage.push_back(std::move(h));
    } else {
      f.hf_bytes[t.name] = w;
      storage.push_back(std::move(w));
    }
    SafetensorsTensor st;
    st.name = OursToHf(t.name);
    st.dtype = o.dtype;
    st.shape = t.shape;
    st.data = storage.back();
    ts.push_back(std::move(st));
  }
  std::reverse(ts.begin(), ts.end());  // file order must not matter
  if (o.edit) o.edit(&ts);
  if (o.sharded) {
    size_t half = ts.size() / 2;
    std::vector<SafetensorsTensor> a(ts.begin(), ts.begin() + half), bb(ts.begin() + half, ts.end());
    std::string index = "{\"metadata\":{},\"weight_map\":{";
    for (size_t i = 0; i < ts.size(); ++i) {
      index += (i ? ",\"" : "\"") + ts[i].name + "\":\"" +
               (i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors") + "\"";
    }
    index += "}}";
    WriteText(f.dir + "/model.safetensors.index.json", index);
    EXPECT_TRUE(WriteFileAtomic(f.dir + "/model-00001-of-00002.safetensors", *WriteSafetensors(a)).ok());
    EXPECT_TRUE(WriteFileAtomic(f.dir + "/model-00002-of-00002.safetensors", *WriteSafetensors(bb)).ok());
  } else {
    auto bytes = WriteSafetensors(ts);
    EXPECT_TRUE(bytes.ok());
    EXPECT_TRUE(WriteFileAtomic(f.dir + "/model.safetensors", *bytes).ok());
  }
  char eps[32];
  std::snprintf(eps, sizeof eps, "%.9g", static_cast<double>(c.norm_eps));
  std::string config = "{\n  \"architectures\": [\"" + o.architecture + "\"],\n"
      "  \"hidden_act\": \"silu\",\n  \"hidden_size\": " + std::to_string(c.dim) +
      ",\n  \"intermediate_size\": " + std::to_string(c.hidden_dim) +
      ",\n  \"num_hidden_layers\": " + std::to_string(c.n_layers) +
      ",\n  \"num_attention_heads\": " + std::to_string(c.n_heads) +
      ",\n  \"num_key_value_heads\": " + std::to_string(c.n_kv_heads) +
      ",\n  \"max_position_embeddings\": " + std::to_string(c.max_seq_len) +
      ",\n  \"rms_norm_eps\": " + eps + ",\n  \"rope_theta\": 10000.0,\n  \"rope_scaling\": " + o.rope_scaling +
      ",\n  \"tie_word_embeddings\": " + (o.tied ? "true" : "false") +
      ",\n  \"torch_dtype\": \"float32\",\n  \"vocab_size\": " + std::to_string(c.vocab_size) +
      o.extra_config + "\n}\n";
  WriteText(f.dir + "/config.json", config);
  return f;
}

TEST(ImportHf, NameMapping) {
  EXPECT_EQ(HfToGgufName("model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(HfToGgufName("lm_head.weight"), "output.weight");
  EXPECT_EQ(HfToGgufName("model.norm.weight"), "output_norm.weight");
  EXPECT_EQ(HfToGgufName("model.layers.12.self_attn.q_proj.weight"), "blk.12.attn_q.weight");
  EXPECT_EQ(HfToGgufName("model.layers.0.self_attn.v_proj.bias"), "blk.0.attn_v.bias");
  EXPECT_EQ(HfToGgufName("model.layers.3.mlp.down_proj.weight"), "blk.3.ffn_down.weight");
  EXPECT_EQ(HfToGgufName("model.layers.3.post_attention_layernorm.weight"), "blk.3.ffn_norm.weight");
  EXPECT_EQ(HfToGgufName("model.layers.x.mlp.up_proj.weight"), "");
  EXPECT_EQ(HfToGgufName("model.layers.01.mlp.up_proj.weight"), "");
  EXPECT_EQ(HfToGgufName("model.layers.1.mlp.fc1.weight"), "");
  EXPECT_EQ(HfToGgufName("transformer.wte.weight"), "");
}

void ExpectMatchesGguf(const Fixture& f, const ModelBundle& hf) {
  const ModelConfig &a = f.gguf.config, &b = hf.config;
  EXPECT_EQ(b.arch, "llama");
  EXPECT_EQ(b.dim, a.dim);
  EXPECT_EQ(b.hidden_dim, a.hidden_dim);
  EXPECT_EQ(b.n_layers, a.n_layers);
  EXPECT_EQ(b.n_heads, a.n_heads);
  EXPECT_EQ(b.n_kv_heads, a.n_kv_heads);
  EXPECT_EQ(b.head_dim, a.head_dim);
  EXPECT_EQ(b.vocab_size, a.vocab_size);
  EXPECT_EQ(b.max_seq_len, a.max_seq_len);
  EXPECT_EQ(b.norm_eps, a.norm_eps);
  EXPECT_EQ(b.rope_theta, a.rope_theta);
  EXPECT_EQ(b.rope_style, RopeStyle::kHalfSplit);
  EXPECT_EQ(a.rope_style, RopeStyle::kInterleaved);
  EXPECT_FALSE(b.qkv_bias);
  for (const TensorData& t : hf.tensors) {
    const std::vector<uint8_t>& want = f.hf_bytes.at(t.name);
    ASSERT_EQ(t.bytes().size(), want.size()) << t.name;
    EXPECT_EQ(std::memcmp(t.bytes().data(), want.data(), want.size()), 0) << t.name;
  }
  // Tensor order is canonical whatever the file order was.
  EXPECT_EQ(hf.tensors.front().name, "token_embd.weight");
  EXPECT_EQ(hf.tensors[1].name, "blk.0.attn_norm.weight");
  EXPECT_EQ(hf.tokenizer.pieces.size(), 512u);
  EXPECT_EQ(hf.provenance.source_format, "hf-safetensors");
  EXPECT_EQ(hf.provenance.tokenizer_source, "tok512.bin");
  EXPECT_EQ(hf.provenance.source_sha256.size(), 64u);
}

TEST(ImportHf, Stories260KRoundTripFromGguf) {
  ASSERT_FALSE(test::ModelPath("stories260K.gguf").empty());
  std::string tok = test::ModelPath("tok512.bin");
  ASSERT_FALSE(tok.empty());
  Fixture f = MakeFixture("hf_stories", {});
  auto hf = ImportHfFolder(f.dir, tok);
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  ExpectMatchesGguf(f, *hf);
  EXPECT_EQ(hf->tensors.size(), 48u);
  EXPECT_FALSE(hf->config.tied_output);
  EXPECT_TRUE(hf->provenance.notes.empty());
  // The q/k rows really are a permutation of the GGUF ones (not a copy).
  const TensorData* q = nullptr;
  for (const auto& t : hf->tensors) if (t.name == "blk.0.attn_q.weight") q = &t;
  ASSERT_NE(q, nullptr);
  const TensorData* gq = nullptr;
  for (const auto& t : f.gguf.tensors) if (t.name == "blk.0.attn_q.weight") gq = &t;
  EXPECT_NE(std::memcmp(q->bytes().data(), gq->bytes().data(), gq->bytes().size()), 0);
  // Through the dispatcher and into a package.
  auto viaDispatch = ImportModel(f.dir, {tok});
  ASSERT_TRUE(viaDispatch.ok()) << viaDispatch.status().ToString();
  std::string out = test::TempPath("hf_stories.slm");
  ASSERT_TRUE(WritePackage(*viaDispatch, out).ok());
  auto p = Package::Open(out);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->config().rope_style, RopeStyle::kHalfSplit);
  EXPECT_EQ((*p)->provenance().source_path, "hf_stories");
}

TEST(ImportHf, ShardedBf16Tied) {
  ASSERT_FALSE(test::ModelPath("stories260K.gguf").empty());
  std::string tok = test::ModelPath("tok512.bin");
  FixtureOptions o;
  o.tied = true;
  o.sharded = true;
  o.dtype = DType::kBF16;
  Fixture f = MakeFixture("hf_sharded", o);
  auto hf = ImportHfFolder(f.dir, tok);
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  ExpectMatchesGguf(f, *hf);
  EXPECT_TRUE(hf->config.tied_output);
  EXPECT_EQ(hf->tensors.size(), 47u);
  EXPECT_EQ(hf->provenance.notes, "BF16 tensors widened to f32 on import");
}

TEST(ImportHf, ErrorsNameFileTensorAndShapes) {
  ASSERT_FALSE(test::ModelPath("stories260K.gguf").empty());
  std::string tok = test::ModelPath("tok512.bin");
  FixtureOptions o;
  o.edit = [](std::vector<SafetensorsTensor>* ts) {
    for (auto& t : *ts) {
      if (t.name == "model.layers.1.self_attn.k_proj.weight") std::swap(t.shape[0], t.shape[1]);
    }
  };
  Fixture f = MakeFixture("hf_badshape", o);
  auto hf = ImportHfFolder(f.dir, tok);
  ASSERT_FALSE(hf.ok());
  EXPECT_NE(hf.status().message().find("model.safetensors: tensor "
                                       "'model.layers.1.self_attn.k_proj.weight' "
                                       "(blk.1.attn_k.weight): expected shape [32, 64], found [64, 32]"),
            std::string::npos) << hf.status().message();

  o.edit = [](std::vector<SafetensorsTensor>* ts) { ts->back().name = "model.layers.0.mlp.fc9.weight"; };
  f = MakeFixture("hf_unknown", o);
  hf = ImportHfFolder(f.dir, tok);
  ASSERT_FALSE(hf.ok());
  EXPECT_NE(hf.status().message().find("model.layers.0.mlp.fc9.weight"), std::string::npos)
      << hf.status().message();

  o.edit = [](std::vector<SafetensorsTensor>* ts) {
    ts->erase(std::remove_if(ts->begin(), ts->end(),
                             [](auto& t) { return t.name == "model.layers.4.mlp.up_proj.weight"; }),
              ts->end());
  };
  f = MakeFixture("hf_missing", o);
  hf = ImportHfFolder(f.dir, tok);
  ASSERT_FALSE(hf.ok());
  EXPECT_NE(hf.status().message().find("blk.4.ffn_up.weight"), std::string::npos)
      << hf.status().message();

  FixtureOptions scaled;
  scaled.rope_scaling = "{\"type\": \"linear\", \"factor\": 2.0}";
  f = MakeFixture("hf_scaling", scaled);
  hf = ImportHfFolder(f.dir, tok);
  EXPECT_EQ(hf.status().code(), StatusCode::kUnsupported) << hf.status().ToString();

  f = MakeFixture("hf_notok", {});
  hf = ImportHfFolder(f.dir, "");
  EXPECT_EQ(hf.status().code(), StatusCode::kNotFound);
  EXPECT_NE(hf.status().message().find("tokenizer.json"), std::string::npos);

  // A real tokenizer.json is read when no override is given (GPT-2's is far
  // larger than this model's vocabulary, which must be reported).
  std::string gpt2 = test::ModelPath("gpt2-tokenizer.json");
  ASSERT_FALSE(gpt2.empty());
  std::filesystem::copy_file(gpt2, f.dir + "/tokenizer.json");
  hf = ImportHfFolder(f.dir, "");
  ASSERT_FALSE(hf.ok());
  EXPECT_NE(hf.status().message().find("tokenizer has 50257 pieces, config.json vocab_size is 512"),
            std::string::npos) << hf.status().message();

  hf = ImportHfFolder(test::TempPath("no_such_dir"), tok);
  EXPECT_FALSE(hf.ok());
}

TEST(ImportHf, Qwen2WithBiases) {
  ASSERT_FALSE(test::ModelPath("stories260K.gguf").empty());
  std::string tok = test::ModelPath("tok512.bin");
  static std::vector<float> q_bias(64, 0.5f), kv_bias(32, -0.25f);
  FixtureOptions o;
  o.architecture = "Qwen2ForCausalLM";
  o.edit = [](std::vector<SafetensorsTensor>* ts) {
    for (int l = 0; l < 5; ++l) {
      for (const char* n : {"q", "k", "v"}) {
        SafetensorsTensor t;
        t.name = "model.layers." + std::to_string(l) + ".self_attn." + n + "_proj.bias";
        const std::vector<float>& v = n[0] == 'q' ? q_bias : kv_bias;
        t.shape = {static_cast<int64_t>(v.size())};
        t.data = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4);
        ts->push_back(std::move(t));
      }
    }
  };
  Fixture f = MakeFixture("hf_qwen2", o);
  auto hf = ImportHfFolder(f.dir, tok);
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  EXPECT_EQ(hf->config.arch, "qwen2");
  EXPECT_TRUE(hf->config.qkv_bias);
  EXPECT_EQ(hf->config.rope_style, RopeStyle::kHalfSplit);
  EXPECT_EQ(hf->tensors.size(), 63u);
  EXPECT_EQ(hf->tensors[5].name, "blk.0.attn_q.bias");
  EXPECT_EQ(std::memcmp(hf->tensors[5].bytes().data(), q_bias.data(), 256), 0);
  EXPECT_TRUE(SerializePackage(*hf).ok());

  o.edit = nullptr;  // qwen2 without biases
  f = MakeFixture("hf_qwen2_nobias", o);
  hf = ImportHfFolder(f.dir, tok);
  ASSERT_FALSE(hf.ok());
  EXPECT_NE(hf.status().message().find("attn_q.bias"), std::string::npos) << hf.status().message();
}

// The HF import (half-split RoPE, unpermuted q/k) and the GGUF import
// (interleaved RoPE, permuted q/k) are the same function: equal logits up to
// float summation order in the q.k dot products.
TEST(ImportHf, LogitsMatchGguf) {
  ASSERT_FALSE(test::ModelPath("stories260K.gguf").empty());
  std::string tok = test::ModelPath("tok512.bin");
  Fixture f = MakeFixture("hf_logits", {});
  auto hf = ImportHfFolder(f.dir, tok);
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  auto ma = Model::Create(f.gguf.config, f.gguf.tensors);
  auto mb = Model::Create(hf->config, hf->tensors);
  ASSERT_TRUE(ma.ok() && mb.ok());
  auto sa = Session::Create(**ma, {64});
  auto sb = Session::Create(**mb, {64});
  ASSERT_TRUE(sa.ok() && sb.ok());
  const int32_t prompt[] = {1, 403, 407, 261, 378, 429, 280, 32, 300, 418, 263, 300, 12, 9};
  float worst = 0;
  for (int32_t id : prompt) {
    ASSERT_TRUE((*sa)->Decode(id).ok());
    ASSERT_TRUE((*sb)->Decode(id).ok());
    auto la = (*sa)->logits(), lb = (*sb)->logits();
    ASSERT_EQ(la.size(), lb.size());
    for (size_t v = 0; v < la.size(); ++v) worst = std::max(worst, std::fabs(la[v] - lb[v]));
  }
  EXPECT_LT(worst, 1e-4f);
  RecordProperty("max_logit_diff", std::to_string(worst));
}

}  // namespace
}  // namespace slm

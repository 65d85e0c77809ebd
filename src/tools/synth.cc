#include "tools/synth.h"

#include <cstdio>
#include <cstring>

#include "base/math.h"
#include "base/prng.h"
#include "package/model_tensors.h"

namespace slm::tools {
namespace {

struct Preset {
  const char* name;
  int32_t dim, hidden, layers, heads, kv_heads, ctx;
  bool tied;
};
constexpr Preset kPresets[] = {
    {"s15m", 288, 768, 6, 6, 6, 256, true},
    {"s110m", 768, 2048, 12, 12, 12, 1024, true},
    {"tl1b", 2048, 5632, 22, 32, 4, 2048, false},
};

uint64_t Fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  return h;
}

constexpr double kTwoPi = 6.283185307179586;
constexpr double kTwoPow53 = 1.0 / 9007199254740992.0;

}  // namespace

bool SynthPresetConfig(const std::string& preset, ModelConfig* c) {
  for (const Preset& p : kPresets) {
    if (preset != p.name) continue;
    *c = ModelConfig{};
    c->arch = "llama";
    c->dim = p.dim;
    c->hidden_dim = p.hidden;
    c->n_layers = p.layers;
    c->n_heads = p.heads;
    c->n_kv_heads = p.kv_heads;
    c->head_dim = p.dim / p.heads;
    c->vocab_size = 32000;
    c->max_seq_len = p.ctx;
    c->norm_eps = 1e-5f;
    c->rope_theta = 10000.0f;
    c->rope_style = RopeStyle::kInterleaved;
    c->tied_output = p.tied;
    return true;
  }
  return false;
}

const char* SynthPresetNames() { return "s15m, s110m, tl1b"; }

void SynthTensorValues(uint64_t seed, const std::string& name, size_t rank, std::span<float> out) {
  if (rank < 2) {
    for (float& v : out) v = 1.0f;
    return;
  }
  uint64_t state = seed ^ Fnv1a64(name);
  Prng rng(SplitMix64Next(&state));
  for (size_t i = 0; i < out.size(); i += 2) {
    const double u1 = static_cast<double>((rng.Next() >> 11) + 1) * kTwoPow53;
    const double u2 = static_cast<double>(rng.Next() >> 11) * kTwoPow53;
    const double r = SqrtD(-2.0 * LogD(u1));
    const double a = kTwoPi * u2;
    out[i] = static_cast<float>(0.02 * (r * CosD(a)));
    if (i + 1 < out.size()) out[i + 1] = static_cast<float>(0.02 * (r * SinD(a)));
  }
}

TokenizerData SynthTokenizer(int32_t vocab_size) {
  TokenizerData d;
  d.type = TokenizerType::kSentencePiece;
  d.bos_id = 1;
  d.eos_id = 2;
  d.unk_id = 0;
  d.add_bos = true;
  d.add_space_prefix = true;
  auto add = [&](std::string piece, float score, TokenAttr attr) {
    if (static_cast<int32_t>(d.pieces.size()) >= vocab_size) return;
    d.pieces.push_back(std::move(piece));
    d.scores.push_back(score);
    d.attrs.push_back(static_cast<int32_t>(attr));
  };
  add("<unk>", 0, TokenAttr::kUnknown);
  add("<s>", 0, TokenAttr::kControl);
  add("</s>", 0, TokenAttr::kControl);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    add(buf, 0, TokenAttr::kByte);
  }
  const std::string kSpace = "\xE2\x96\x81";  // U+2581
  float score = -1;
  add(kSpace, score--, TokenAttr::kNormal);
  for (int ch = 33; ch < 127; ++ch) add(std::string(1, static_cast<char>(ch)), score--, TokenAttr::kNormal);
  // "▁" + a, b, ..., z, aa, ab, ...: letter strings in length order.
  for (uint64_t i = 0; static_cast<int32_t>(d.pieces.size()) < vocab_size; ++i) {
    std::string word;
    uint64_t k = i;
    while (true) {
      word.insert(word.begin(), static_cast<char>('a' + k % 26));
      if (k < 26) break;
      k = k / 26 - 1;
    }
    add(kSpace + word, score--, TokenAttr::kNormal);
  }
  return d;
}

StatusOr<std::vector<SynthTensorInfo>> SynthTensorList(const SynthSpec& s) {
  SLM_RETURN_IF_ERROR(s.config.Validate());
  std::vector<SynthTensorInfo> out;
  for (const ExpectedTensor& e : ExpectedModelTensors(s.config)) {
    SynthTensorInfo t;
    t.name = e.name;
    t.shape = e.shape;
    t.dtype = ChooseTensorType(s.config, e.name, e.shape, s.scheme);
    uint64_t n = 0;
    if (!ShapeElements(t.shape, &n) || !DTypeBytes(t.dtype, n, &t.bytes)) {
      return InvalidArgument("tensor '" + t.name + "' " + ShapeString(t.shape) + " as " +
                             DTypeName(t.dtype) + ": bad size");
    }
    out.push_back(std::move(t));
  }
  return out;
}

StatusOr<std::vector<uint8_t>> SynthTensorBytes(const SynthSpec& s, const SynthTensorInfo& info) {
  uint64_t n = 0;
  ShapeElements(info.shape, &n);
  std::vector<float> f(n);
  SynthTensorValues(s.seed, info.name, info.shape.size(), f);
  if (info.dtype == DType::kF32) {
    std::vector<uint8_t> out(n * sizeof(float));
    if (n > 0) std::memcpy(out.data(), f.data(), out.size());
    return out;
  }
  return EncodeTensor(info.dtype, f, info.shape);
}

StatusOr<ModelBundle> SynthBundle(const SynthSpec& s) {
  SLM_ASSIGN_OR_RETURN(std::vector<SynthTensorInfo> list, SynthTensorList(s));
  ModelBundle b;
  b.config = s.config;
  b.tokenizer = SynthTokenizer(s.config.vocab_size);
  for (const SynthTensorInfo& info : list) {
    TensorData t;
    t.name = info.name;
    t.shape = info.shape;
    t.dtype = info.dtype;
    SLM_ASSIGN_OR_RETURN(t.owned, SynthTensorBytes(s, info));
    b.tensors.push_back(std::move(t));
  }
  b.provenance.source_format = "synth";
  b.provenance.source_path = s.label;
  b.provenance.notes = "slm synth " + s.label + " --type " + QuantSchemeName(s.scheme) +
                       " --seed " + std::to_string(s.seed) +
                       ": random weights N(0, 0.02), norms 1 (tools/synth.h)";
  b.metadata["general.name"] = "synth-" + s.label;
  return b;
}

}  // namespace slm::tools

// The forward pass on a small random in-memory model against a float64
// forward written out here, covering what stories260K does not: q/k/v biases
// (qwen2), half-split RoPE, a large rope theta, an untied output and GQA.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/prng.h"
#include "runtime/model.h"
#include "runtime/session.h"

namespace slm {
namespace {

struct Tiny {
  ModelConfig c;
  std::vector<TensorData> tensors;
  std::vector<std::vector<double>> values;  // same data as double, by tensor index

  const std::vector<double>& W(const std::string& name) const {
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].name == name) return values[i];
    }
    static const std::vector<double> kEmpty;
    ADD_FAILURE() << "no tensor " << name;
    return kEmpty;
  }
};

Tiny MakeTiny(RopeStyle style, bool bias, bool tied) {
  Tiny t;
  ModelConfig& c = t.c;
  c.arch = bias ? "qwen2" : "llama";
  c.dim = 16;
  c.hidden_dim = 24;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 4;
  c.vocab_size = 10;
  c.max_seq_len = 16;
  c.norm_eps = 1e-6f;
  c.rope_theta = 1000000.0f;
  c.rope_style = style;
  c.tied_output = tied;
  c.qkv_bias = bias;
  Prng rng(31337);
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float center) {
    TensorData d;
    d.name = name;
    d.shape = shape;
    size_t n = 1;
    for (int64_t s : shape) n *= static_cast<size_t>(s);
    std::vector<float> f(n);
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = f[i] = center + (rng.NextFloat() - 0.5f) * 0.8f;
    d.owned.resize(n * 4);
    std::memcpy(d.owned.data(), f.data(), n * 4);
    t.tensors.push_back(std::move(d));
    t.values.push_back(std::move(v));
  };
  const int64_t dim = c.dim, hid = c.hidden_dim, q = c.q_dim(), kv = c.kv_dim(), V = c.vocab_size;
  add("token_embd.weight", {V, dim}, 0);
  add("output_norm.weight", {dim}, 1);
  if (!tied) add("output.weight", {V, dim}, 0);
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {dim}, 1);
    add(p + "attn_q.weight", {q, dim}, 0);
    add(p + "attn_k.weight", {kv, dim}, 0);
    add(p + "attn_v.weight", {kv, dim}, 0);
    if (bias) {
      add(p + "attn_q.bias", {q}, 0);
      add(p + "attn_k.bias", {kv}, 0);
      add(p + "attn_v.bias", {kv}, 0);
    }
    add(p + "attn_output.weight", {dim, q}, 0);
    add(p + "ffn_norm.weight", {dim}, 1);
    add(p + "ffn_gate.weight", {hid, dim}, 0);
    add(p + "ffn_up.weight", {hid, dim}, 0);
    add(p + "ffn_down.weight", {dim, hid}, 0);
  }
  return t;
}

using Vec = std::vector<double>;

Vec MatVec(const Vec& w, const Vec& x, size_t out) {
  Vec y(out, 0.0);
  const size_t in = x.size();
  for (size_t r = 0; r < out; ++r) {
    for (size_t i = 0; i < in; ++i) y[r] += w[r * in + i] * x[i];
  }
  return y;
}

Vec RmsNorm(const Vec& x, const Vec& w, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double inv = 1.0 / std::sqrt(ss / x.size() + eps);
  Vec o(x.size());
  for (size_t i = 0; i < x.size(); ++i) o[i] = w[i] * x[i] * inv;
  return o;
}

void Rope(Vec* v, int heads, int hd, int pos, double theta, RopeStyle style) {
  for (int h = 0; h < heads; ++h) {
    for (int j = 0; j < hd / 2; ++j) {
      const double ang = pos * std::pow(theta, -2.0 * j / hd);
      const int i0 = h * hd + (style == RopeStyle::kInterleaved ? 2 * j : j);
      const int i1 = h * hd + (style == RopeStyle::kInterleaved ? 2 * j + 1 : j + hd / 2);
      const double a = (*v)[i0], b = (*v)[i1];
      (*v)[i0] = a * std::cos(ang) - b * std::sin(ang);
      (*v)[i1] = a * std::sin(ang) + b * std::cos(ang);
    }
  }
}

// Float64 logits after each token of `ids`.
std::vector<Vec> Reference(const Tiny& t, const std::vector<int32_t>& ids) {
  const ModelConfig& c = t.c;
  const int hd = c.head_dim, kvd = c.kv_dim();
  std::vector<std::vector<Vec>> kc(c.n_layers), vc(c.n_layers);
  std::vector<Vec> all;
  for (size_t pos = 0; pos < ids.size(); ++pos) {
    const Vec& emb = t.W("token_embd.weight");
    Vec x(emb.begin() + ids[pos] * c.dim, emb.begin() + (ids[pos] + 1) * c.dim);
    for (int l = 0; l < c.n_layers; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      Vec h = RmsNorm(x, t.W(p + "attn_norm.weight"), c.norm_eps);
      Vec q = MatVec(t.W(p + "attn_q.weight"), h, c.q_dim());
      Vec k = MatVec(t.W(p + "attn_k.weight"), h, kvd);
      Vec v = MatVec(t.W(p + "attn_v.weight"), h, kvd);
      if (c.qkv_bias) {
        for (int i = 0; i < c.q_dim(); ++i) q[i] += t.W(p + "attn_q.bias")[i];
        for (int i = 0; i < kvd; ++i) k[i] += t.W(p + "attn_k.bias")[i];
        for (int i = 0; i < kvd; ++i) v[i] += t.W(p + "attn_v.bias")[i];
      }
      Rope(&q, c.n_heads, hd, static_cast<int>(pos), c.rope_theta, c.rope_style);
      Rope(&k, c.n_kv_heads, hd, static_cast<int>(pos), c.rope_theta, c.rope_style);
      kc[l].push_back(k);
      vc[l].push_back(v);
      Vec att(c.q_dim(), 0.0);
      for (int hh = 0; hh < c.n_heads; ++hh) {
        const int g = hh / (c.n_heads / c.n_kv_heads);
        Vec sc(pos + 1);
        double m = -1e300, z = 0;
        for (size_t s = 0; s <= pos; ++s) {
          double d = 0;
          for (int i = 0; i < hd; ++i) d += q[hh * hd + i] * kc[l][s][g * hd + i];
          sc[s] = d / std::sqrt(double(hd));
          m = std::max(m, sc[s]);
        }
        for (double& e : sc) z += (e = std::exp(e - m));
        for (size_t s = 0; s <= pos; ++s) {
          for (int i = 0; i < hd; ++i) att[hh * hd + i] += sc[s] / z * vc[l][s][g * hd + i];
        }
      }
      Vec o = MatVec(t.W(p + "attn_output.weight"), att, c.dim);
      for (int i = 0; i < c.dim; ++i) x[i] += o[i];
      h = RmsNorm(x, t.W(p + "ffn_norm.weight"), c.norm_eps);
      Vec a = MatVec(t.W(p + "ffn_gate.weight"), h, c.hidden_dim);
      Vec b = MatVec(t.W(p + "ffn_up.weight"), h, c.hidden_dim);
      for (int i = 0; i < c.hidden_dim; ++i) a[i] = a[i] / (1 + std::exp(-a[i])) * b[i];
      Vec dn = MatVec(t.W(p + "ffn_down.weight"), a, c.dim);
      for (int i = 0; i < c.dim; ++i) x[i] += dn[i];
    }
    Vec xn = RmsNorm(x, t.W("output_norm.weight"), c.norm_eps);
    all.push_back(MatVec(t.W(c.tied_output ? "token_embd.weight" : "output.weight"), xn, c.vocab_size));
  }
  return all;
}

void Check(RopeStyle style, bool bias, bool tied) {
  Tiny t = MakeTiny(style, bias, tied);
  auto m = Model::Create(t.c, t.tensors);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto s = Session::Create(**m);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const std::vector<int32_t> ids = {1, 7, 3, 3, 9, 0, 4, 2, 8, 5, 6, 1};
  std::vector<Vec> ref = Reference(t, ids);
  double worst = 0;
  for (size_t p = 0; p < ids.size(); ++p) {
    ASSERT_TRUE((*s)->Decode(ids[p]).ok());
    std::span<const float> got = (*s)->logits();
    ASSERT_EQ(got.size(), ref[p].size());
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - ref[p][i]));
  }
  std::printf("max abs logit diff vs float64: %.3g\n", worst);
  EXPECT_LT(worst, 1e-4) << "style " << int(style) << " bias " << bias << " tied " << tied;
}

TEST(RuntimeReference, HalfSplitRopeWithQkvBiasUntied) { Check(RopeStyle::kHalfSplit, true, false); }
TEST(RuntimeReference, InterleavedRopeTied) { Check(RopeStyle::kInterleaved, false, true); }
TEST(RuntimeReference, HalfSplitRopeTiedNoBias) { Check(RopeStyle::kHalfSplit, false, true); }

TEST(RuntimeReference, MissingBiasIsReported) {
  Tiny t = MakeTiny(RopeStyle::kHalfSplit, true, false);
  std::erase_if(t.tensors, [](const TensorData& d) { return d.name == "blk.1.attn_v.bias"; });
  auto m = Model::Create(t.c, t.tensors);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("blk.1.attn_v.bias"), std::string::npos);
}

}  // namespace
}  // namespace slm

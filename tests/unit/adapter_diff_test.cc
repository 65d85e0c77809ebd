// slm adapter diff (src/adapter/diff.h) and the SVD behind low-rank deltas
// (src/adapter/svd.h), on the torch fine-tune fixture in tests/adapter/
// (child.bin = stories260K fine-tuned; expected.json = float64 reference).
//
// Tolerance for logits: the raw diff applied at runtime computes W x + D x
// in f32 instead of the child's (W + D) x; against the child run by slm the
// final-prompt logits differ by at most 2e-4 (measured max 1.5e-5); against
// the float64 reference by at most 1e-3 (measured max 6.8e-6).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>

#include "adapter/adapter_package.h"
#include "adapter/assembly.h"
#include "adapter/diff.h"
#include "adapter/peft.h"
#include "adapter/svd.h"
#include "adapter/validate.h"
#include "adapter_test_util.h"
#include "base/file.h"
#include "base/json.h"
#include "base/prng.h"
#include "import/dequant.h"
#include "import/import.h"
#include "package/package.h"
#include "quant/quant.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "test_util.h"
#include "tools/gguf_writer.h"

namespace slm {
namespace {

using adapter_test::FixturePath;
using adapter_test::GenRun;
using adapter_test::Greedy;
using adapter_test::Ints;

constexpr double kLogitTolVsChild = 2e-4;
constexpr double kLogitTolVsReference = 1e-3;

ModelBundle ImportOrDie(const std::string& path) {
  ImportOptions o;
  o.tokenizer_path = test::ModelPath("tok512.bin");
  auto b = ImportModel(path, o);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(b).value() : ModelBundle{};
}

JsonValue Expected() {
  auto text = ReadFileToString(FixturePath("expected.json"));
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  auto j = ParseJson(text.ok() ? *text : "{}", "expected.json");
  EXPECT_TRUE(j.ok());
  return j.ok() ? std::move(j).value() : JsonValue();
}

std::vector<double> Doubles(const JsonValue& a) {
  std::vector<double> v;
  for (const JsonValue& x : a.items()) v.push_back(x.as_number());
  return v;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// A copy of the bundle's tensor records (views stay valid while `b` lives).
ModelBundle CopyOf(const ModelBundle& b) {
  ModelBundle c;
  c.config = b.config;
  c.tokenizer = b.tokenizer;
  c.tensors = b.tensors;
  c.provenance = b.provenance;
  return c;
}

std::vector<double> F64(const TensorData& t) {
  uint64_t n = 0;
  ShapeElements(t.shape, &n);
  std::vector<float> f;
  EXPECT_TRUE(DequantizeToF32(t.dtype, t.bytes(), n, &f).ok());
  return std::vector<double>(f.begin(), f.end());
}

const TensorData* Find(const ModelBundle& b, const std::string& name) {
  for (const TensorData& t : b.tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

class DiffFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string base_path = test::ModelPath("stories260K.bin");
    ASSERT_FALSE(base_path.empty());
    ASSERT_FALSE(test::ModelPath("tok512.bin").empty());
    base_ = ImportOrDie(base_path);
    child_ = ImportOrDie(FixturePath("child.bin"));
    expected_ = Expected();
    prompt_ = Ints(*expected_.Find("prompt_ids"));
    n_greedy_ = static_cast<int>(expected_.Find("n_greedy")->as_number());
  }
  ModelBundle base_, child_;
  JsonValue expected_;
  std::vector<int32_t> prompt_;
  int n_greedy_ = 0;
};

TEST_F(DiffFixture, RawDiffReproducesTheChild) {
  DiffOptions o;
  o.kind = DeltaKind::kRaw;
  o.name = "child-raw";
  auto rep = DiffModels(base_, child_, o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  // Full fine-tune: every one of the 47 tensors changed (tied output).
  EXPECT_EQ(rep->rows.size() + static_cast<size_t>(rep->unchanged), base_.tensors.size());
  EXPECT_GT(rep->rows.size(), 40u);
  for (const DiffRow& r : rep->rows) {
    EXPECT_EQ(r.kind, DeltaKind::kRaw);
    EXPECT_LT(r.rel_error, 1e-6) << r.target;  // only the f32 rounding of child - base
    EXPECT_EQ(r.bytes_stored, r.dense_bytes) << r.target;
  }
  const Adapter& a = rep->adapter;
  EXPECT_EQ(a.name, "child-raw");
  EXPECT_EQ(a.base_compat, CompatibilityDigest(base_));
  EXPECT_EQ(a.base_tokenizer, TokenizerDigest(base_));
  EXPECT_EQ(a.lineage.method, "diff raw f32");
  ASSERT_EQ(a.lineage.parents.size(), 2u);
  EXPECT_TRUE(std::is_sorted(
      a.deltas.begin(), a.deltas.end(),
      [](const TensorDelta& x, const TensorDelta& y) { return x.target < y.target; }));
  EXPECT_TRUE(CheckAdapterStructure(a).ok());
  std::printf("%s", FormatDiffReport(*rep).c_str());

  // The child as slm runs it, and the float64 reference.
  const GenRun child = Greedy(child_.config, child_.tensors, prompt_, n_greedy_);
  const JsonValue& ref = *expected_.Find("child");
  EXPECT_EQ(child.greedy, Ints(*ref.Find("greedy")));

  // (1) Runtime apply through the assembly on the base package.
  const std::string pkg_path = test::TempPath("diff_base.slm");
  ASSERT_TRUE(WritePackage(base_, pkg_path).ok());
  auto pkg = Package::Open(pkg_path);
  ASSERT_TRUE(pkg.ok()) << pkg.status().ToString();
  ASSERT_TRUE(ValidateAdapter(**pkg, a).ok()) << ValidateAdapter(**pkg, a).ToString();
  auto digest = AdapterContentDigest(a);
  ASSERT_TRUE(digest.ok());
  AssemblyEntry e{&a, *digest, 1.0f};
  auto asmb = AdapterAssembly::Build(**pkg, std::span<const AssemblyEntry>(&e, 1));
  ASSERT_TRUE(asmb.ok()) << asmb.status().ToString();
  const GenRun applied =
      Greedy((*pkg)->config(), (*pkg)->tensors(), prompt_, n_greedy_, asmb->get());
  EXPECT_EQ(applied.greedy, child.greedy);
  double vs_child = 0;
  for (size_t i = 0; i < child.logits.size(); ++i) {
    vs_child =
        std::max(vs_child, static_cast<double>(std::fabs(applied.logits[i] - child.logits[i])));
  }
  const double vs_ref = MaxAbsDiff(applied.logits, Doubles(*ref.Find("logits")));
  std::printf(
      "raw diff via assembly: max |logit - child| = %.3g, max |logit - float64 ref| = %.3g\n",
      vs_child, vs_ref);
  EXPECT_LE(vs_child, kLogitTolVsChild);
  EXPECT_LE(vs_ref, kLogitTolVsReference);

  // (2) Dense add into a copy of the base (what merge does), same tokens.
  ModelBundle merged = CopyOf(base_);
  for (const TensorDelta& d : a.deltas) {
    for (TensorData& t : merged.tensors) {
      if (t.name != d.target) continue;
      std::vector<float> w(t.bytes().size() / 4), dv(w.size());
      std::memcpy(w.data(), t.bytes().data(), t.bytes().size());
      std::memcpy(dv.data(), d.raw.bytes().data(), d.raw.bytes().size());
      for (size_t i = 0; i < w.size(); ++i) w[i] += dv[i];
      t.owned.resize(w.size() * 4);
      std::memcpy(t.owned.data(), w.data(), t.owned.size());
    }
  }
  const GenRun dense = Greedy(merged.config, merged.tensors, prompt_, n_greedy_);
  EXPECT_EQ(dense.greedy, child.greedy);
  EXPECT_LE(MaxAbsDiff(dense.logits, Doubles(*ref.Find("logits"))), kLogitTolVsReference);

  // The base itself generates something else (the test can fail).
  const GenRun base = Greedy(base_.config, base_.tensors, prompt_, n_greedy_);
  EXPECT_EQ(base.greedy, Ints(*expected_.Find("base")->Find("greedy")));
  EXPECT_NE(base.greedy, child.greedy);
}

TEST_F(DiffFixture, RawF16AndQ8Report) {
  for (DType dt : {DType::kF16, DType::kQ8_0}) {
    DiffOptions o;
    o.raw_dtype = dt;
    auto rep = DiffModels(base_, child_, o);
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    EXPECT_LT(rep->total_stored, rep->total_dense);
    EXPECT_GT(rep->total_rel_error, 1e-6);  // lossy
    EXPECT_LT(rep->total_rel_error, dt == DType::kF16 ? 1e-3 : 2e-2);
    bool fallback = false;
    for (const DiffRow& r : rep->rows) {
      if (r.shape.size() == 1) {
        EXPECT_EQ(r.note, "1-D: f32");
      }
      if (r.note.find("q8_0 -> f16") != std::string::npos) fallback = true;  // ffn_down rows of 172
    }
    EXPECT_EQ(fallback, dt == DType::kQ8_0);
    EXPECT_TRUE(CheckAdapterStructure(rep->adapter).ok());
  }
}

double RowError(const DiffReport& r, const std::string& target) {
  for (const DiffRow& row : r.rows) {
    if (row.target == target) return row.rel_error;
  }
  ADD_FAILURE() << target << " not in the report";
  return -1;
}

TEST_F(DiffFixture, LowRankErrorShrinksWithRank) {
  std::vector<double> total, q, down;
  for (int32_t rank : {1, 4, 16, 32, 64}) {
    DiffOptions o;
    o.kind = DeltaKind::kLowRank;
    o.rank = rank;
    auto rep = DiffModels(base_, child_, o);
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    total.push_back(rep->total_rel_error);
    const std::string table = FormatDiffReport(*rep);
    std::printf("lowrank rank %d: %s", rank,
                table.substr(table.rfind('\n', table.size() - 2) + 1).c_str());
    q.push_back(RowError(*rep, "blk.0.attn_q.weight"));
    down.push_back(RowError(*rep, "blk.4.ffn_down.weight"));
    for (const DiffRow& row : rep->rows) {
      if (row.shape.size() == 1) {
        EXPECT_EQ(row.kind, DeltaKind::kRaw);
        EXPECT_EQ(row.note, "1-D: raw");
      } else if (row.target == "token_embd.weight") {
        EXPECT_EQ(row.kind, DeltaKind::kRaw);
        EXPECT_EQ(row.note, "embedding: raw");
      } else {
        EXPECT_EQ(row.kind, DeltaKind::kLowRank);
        EXPECT_EQ(row.rank, std::min<int64_t>(rank, std::min(row.shape[0], row.shape[1])));
        EXPECT_EQ(row.bytes_stored, 4u * row.rank * (row.shape[0] + row.shape[1]));
      }
    }
    EXPECT_TRUE(CheckAdapterStructure(rep->adapter).ok());
  }
  for (const auto* v : {&total, &q, &down}) {
    bool strict = false;
    for (size_t i = 1; i < v->size(); ++i) {
      EXPECT_LE((*v)[i], (*v)[i - 1] + 1e-12) << "rank step " << i;
      strict |= (*v)[i] < (*v)[i - 1] * 0.99;
    }
    EXPECT_TRUE(strict);
  }
  EXPECT_GT(q[0], 0.1);       // rank 1 is a poor fit of a full fine-tune
  EXPECT_LT(q.back(), 1e-5);  // full rank: exact up to f32 factors
  EXPECT_LT(down.back(), 1e-5);
  std::printf("lowrank total rel. error by rank 1, 4, 16, 32, 64: ");
  for (double e : total) std::printf("%.3g ", e);
  std::printf("\n");
}

TEST_F(DiffFixture, SparseErrorShrinksWithDensity) {
  std::vector<double> total;
  for (double d : {0.01, 0.05, 0.1, 0.25, 0.5, 1.0}) {
    DiffOptions o;
    o.kind = DeltaKind::kSparse;
    o.density = d;
    auto rep = DiffModels(base_, child_, o);
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    total.push_back(rep->total_rel_error);
    const std::string table = FormatDiffReport(*rep);
    std::printf("sparse density %g: %s", d,
                table.substr(table.rfind('\n', table.size() - 2) + 1).c_str());
    for (const DiffRow& row : rep->rows) {
      if (row.shape.size() != 2 || row.target == "token_embd.weight") continue;
      EXPECT_EQ(row.kind, DeltaKind::kSparse);
      EXPECT_EQ(row.kept, static_cast<uint64_t>(std::llround(d * row.elements)));
    }
    EXPECT_TRUE(CheckAdapterStructure(rep->adapter).ok());
  }
  for (size_t i = 1; i < total.size(); ++i) EXPECT_LT(total[i], total[i - 1]);
  EXPECT_LT(total.back(), 1e-6);
  // Kept entries are the largest: every dropped |delta| <= every kept one.
  DiffOptions o;
  o.kind = DeltaKind::kSparse;
  o.density = 0.1;
  auto rep = DiffModels(base_, child_, o);
  ASSERT_TRUE(rep.ok());
  for (const TensorDelta& d : rep->adapter.deltas) {
    if (d.target != "blk.2.attn_v.weight") continue;
    auto b = F64(*Find(base_, d.target)), c = F64(*Find(child_, d.target));
    double min_kept = 1e30, max_dropped = 0;
    size_t k = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      const double v = std::fabs(c[i] - b[i]);
      if (k < d.indices.size() && d.indices[k] == i) {
        min_kept = std::min(min_kept, v);
        ++k;
      } else {
        max_dropped = std::max(max_dropped, v);
      }
    }
    EXPECT_GE(min_kept, max_dropped);
  }
}

// Squared singular values of child - base for a target, descending.
std::vector<double> Spectrum2(const ModelBundle& base, const ModelBundle& child,
                              const std::string& name) {
  const TensorData* bt = Find(base, name);
  auto b = F64(*bt), c = F64(*Find(child, name));
  for (size_t i = 0; i < b.size(); ++i) b[i] = c[i] - b[i];
  SvdResult r = ExactSvd(b, bt->shape[0], bt->shape[1]);
  std::vector<double> sq;
  for (double s : r.s) sq.push_back(s * s);
  return sq;
}

TEST_F(DiffFixture, EnergyPicksTheSmallestRankAndDensity) {
  std::map<std::string, std::vector<double>> spectra;  // computed once per target
  for (double energy : {0.5, 0.9, 0.99}) {
    DiffOptions o;
    o.kind = DeltaKind::kLowRank;
    o.energy = energy;
    auto rep = DiffModels(base_, child_, o);
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    for (const DiffRow& row : rep->rows) {
      if (row.kind != DeltaKind::kLowRank) continue;
      if (!spectra.count(row.target)) spectra[row.target] = Spectrum2(base_, child_, row.target);
      const std::vector<double>& sq = spectra[row.target];
      double total = 0, kept = 0, kept_less = 0;
      for (double x : sq) total += x;
      for (int32_t i = 0; i < row.rank; ++i) kept += sq[static_cast<size_t>(i)];
      for (int32_t i = 0; i + 1 < row.rank; ++i) kept_less += sq[static_cast<size_t>(i)];
      EXPECT_GE(kept, energy * total * (1 - 1e-9)) << row.target;
      EXPECT_LT(kept_less, energy * total) << row.target << " rank " << row.rank;
      // The error is what the dropped energy says it is.
      EXPECT_NEAR(row.rel_error, std::sqrt(std::max(0.0, 1 - kept / total)), 1e-4);
    }
  }
  DiffOptions o;
  o.kind = DeltaKind::kSparse;
  o.energy = 0.9;
  auto rep = DiffModels(base_, child_, o);
  ASSERT_TRUE(rep.ok());
  for (const DiffRow& row : rep->rows) {
    if (row.kind != DeltaKind::kSparse) continue;
    EXPECT_LE(row.rel_error, std::sqrt(0.1) + 1e-6) << row.target;
    EXPECT_LT(row.kept, row.elements);
  }
}

TEST_F(DiffFixture, RefusesMismatchedModels) {
  DiffOptions o;
  {
    ModelBundle c = CopyOf(child_);
    c.config.n_kv_heads = 8;
    auto r = DiffModels(base_, c, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("n_kv_heads is 4 in the base, 8 in the child"),
              std::string::npos)
        << r.status().message();
  }
  {
    ModelBundle c = CopyOf(child_);
    c.config.rope_style = RopeStyle::kHalfSplit;
    auto r = DiffModels(base_, c, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("rope_style"), std::string::npos);
  }
  {
    ModelBundle c = CopyOf(child_);
    c.tensors.erase(c.tensors.begin() + 3);
    auto r = DiffModels(base_, c, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("is in the base but not in the child"), std::string::npos)
        << r.status().message();
  }
  {
    ModelBundle c = CopyOf(child_);
    for (TensorData& t : c.tensors) {
      if (t.name == "blk.1.attn_q.weight") t.shape = {32, 128};
    }
    auto r = DiffModels(base_, c, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("base shape [64, 64], child shape [32, 128]"),
              std::string::npos)
        << r.status().message();
  }
  {
    ModelBundle c = CopyOf(child_);
    c.tokenizer.pieces[300] = "zzz";
    auto r = DiffModels(base_, c, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("tokenizers differ"), std::string::npos);
  }
  {
    ModelBundle c = CopyOf(child_);
    std::vector<float> w;
    for (TensorData& t : c.tensors) {
      if (t.name != "blk.2.ffn_gate.weight") continue;
      w.resize(t.bytes().size() / 4);
      std::memcpy(w.data(), t.bytes().data(), t.bytes().size());
      w[5] = std::nanf("");
      t.owned.resize(w.size() * 4);
      std::memcpy(t.owned.data(), w.data(), t.owned.size());
    }
    auto r = DiffModels(base_, c, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("'blk.2.ffn_gate.weight': the delta is not finite"),
              std::string::npos)
        << r.status().message();
  }
  {
    DiffOptions bad;
    bad.kind = DeltaKind::kLowRank;  // no rank, no energy
    EXPECT_FALSE(DiffModels(base_, child_, bad).ok());
    bad.kind = DeltaKind::kSparse;
    bad.density = 1.5;
    EXPECT_FALSE(DiffModels(base_, child_, bad).ok());
  }
}

TEST_F(DiffFixture, IdenticalModelsGiveNoDeltasAndOtherBasesAreRefused) {
  // base vs itself: nothing changed.
  auto same = DiffModels(base_, base_, DiffOptions{});
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->rows.empty());
  EXPECT_EQ(same->unchanged, static_cast<int32_t>(base_.tensors.size()));
  // Only the tensors a perturbed child changes are stored.
  ModelBundle c = CopyOf(base_);
  std::vector<float> w;
  for (TensorData& t : c.tensors) {
    if (t.name != "blk.3.ffn_up.weight") continue;
    w.resize(t.bytes().size() / 4);
    std::memcpy(w.data(), t.bytes().data(), t.bytes().size());
    w[17] += 0.25f;
    t.owned.resize(w.size() * 4);
    std::memcpy(t.owned.data(), w.data(), t.owned.size());
  }
  DiffOptions o;
  o.kind = DeltaKind::kSparse;
  o.energy = 1.0;
  auto one = DiffModels(base_, c, o);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->rows.size(), 1u);
  EXPECT_EQ(one->rows[0].target, "blk.3.ffn_up.weight");
  EXPECT_EQ(one->rows[0].kept, 1u);
  EXPECT_EQ(one->adapter.deltas[0].indices, std::vector<uint64_t>{17});

  // The raw child diff applied to that perturbed model (a different base) is refused.
  auto rep = DiffModels(base_, child_, DiffOptions{});
  ASSERT_TRUE(rep.ok());
  const std::string path = test::TempPath("diff_other_base.slm");
  ASSERT_TRUE(WritePackage(c, path).ok());
  auto other = Package::Open(path);
  ASSERT_TRUE(other.ok());
  Status s = ValidateAdapter(**other, rep->adapter);
  EXPECT_FALSE(s.ok());
}

TEST_F(DiffFixture, QuantizedBaseIsDequantizedFirst) {
  // stories260K-q8.bin (llama2.c int8, dequantized on import) vs the child.
  const std::string q8 = test::ModelPath("stories260K-q8.bin");
  ASSERT_FALSE(q8.empty());
  ModelBundle qb = ImportOrDie(q8);
  DiffOptions o;
  o.kind = DeltaKind::kLowRank;
  o.rank = 8;
  auto rep = DiffModels(qb, child_, o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->adapter.base_compat, CompatibilityDigest(qb));
  EXPECT_NE(rep->adapter.base_compat, CompatibilityDigest(base_));
}

TEST_F(DiffFixture, LowRankRecoversAMergedLora) {
  // base + the fixture's rank-4 LoRA merged densely (W + 2 B A, rounded to
  // f32): a rank-4 diff finds it again, up to the f32 rounding of the merge.
  const std::string pkg_path = test::TempPath("diff_lora_base.slm");
  ASSERT_TRUE(WritePackage(base_, pkg_path).ok());
  auto pkg = Package::Open(pkg_path);
  ASSERT_TRUE(pkg.ok());
  auto lora = ImportPeft(FixturePath("peft"), **pkg);
  ASSERT_TRUE(lora.ok()) << lora.status().ToString();
  ModelBundle merged = CopyOf(base_);
  for (const TensorDelta& d : lora->deltas) {
    for (TensorData& t : merged.tensors) {
      if (t.name != d.target) continue;
      auto w = F64(t);
      const int64_t in = t.shape[1];
      t.owned.resize(w.size() * 4);
      for (size_t i = 0; i < w.size(); ++i) {
        const int64_t r = static_cast<int64_t>(i) / in, c = static_cast<int64_t>(i) % in;
        double x = 0;
        for (int32_t k = 0; k < d.rank; ++k) x += double{d.b[r * d.rank + k]} * d.a[k * in + c];
        const float v = static_cast<float>(w[i] + d.scale * x);
        std::memcpy(t.owned.data() + 4 * i, &v, 4);
      }
    }
  }
  for (int32_t rank : {3, 4}) {
    DiffOptions o;
    o.kind = DeltaKind::kLowRank;
    o.rank = rank;
    auto rep = DiffModels(base_, merged, o);
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    EXPECT_EQ(rep->rows.size(), 35u);  // 7 modules x 5 layers; norms and embedding unchanged
    EXPECT_EQ(rep->unchanged, 12);
    for (const DiffRow& row : rep->rows) {
      if (rank == 4) {
        EXPECT_LT(row.rel_error, 1e-4) << row.target;
      } else {
        EXPECT_GT(row.rel_error, 1e-3) << row.target;
      }
    }
  }
  DiffOptions o;
  o.kind = DeltaKind::kLowRank;
  o.energy = 0.9999;
  auto rep = DiffModels(base_, merged, o);
  ASSERT_TRUE(rep.ok());
  for (const DiffRow& row : rep->rows) EXPECT_LE(row.rank, 4) << row.target;
}

TEST(DiffRandomized, LargerMatricesUseTheRangeFinder) {
  // One 200 x 150 tensor (min dim > 128: the randomized path), child = base
  // + a rank-12 delta with singular values falling ~2x per term.
  const int64_t m = 200, n = 150;
  Prng p(7);
  std::vector<float> w(static_cast<size_t>(m * n)), c(w.size());
  for (float& x : w) x = p.NextFloat() - 0.5f;
  std::vector<double> delta(w.size(), 0.0);
  for (int k = 0; k < 12; ++k) {
    std::vector<double> u(m), v(n);
    for (double& x : u) x = p.NextFloat() - 0.5;
    for (double& x : v) x = p.NextFloat() - 0.5;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) delta[i * n + j] += std::ldexp(0.05, -k) * u[i] * v[j];
    }
  }
  for (size_t i = 0; i < w.size(); ++i) {
    c[i] = static_cast<float>(w[i] + delta[i]);
    delta[i] = double{c[i]} - w[i];  // what diff sees
  }
  auto bundle = [&](const std::vector<float>& x) {
    ModelBundle b;
    b.config.dim = static_cast<int32_t>(n);
    TensorData t;
    t.name = "blk.0.ffn_up.weight";
    t.shape = {m, n};
    t.owned.resize(x.size() * 4);
    std::memcpy(t.owned.data(), x.data(), t.owned.size());
    b.tensors.push_back(std::move(t));
    return b;
  };
  const ModelBundle base = bundle(w), child = bundle(c);
  std::vector<double> sq;
  for (double x : ExactSvd(delta, m, n).s) sq.push_back(x * x);
  for (double energy : {0.9, 0.99, 0.9999}) {
    double total = 0, acc = 0;
    for (double x : sq) total += x;
    int32_t want = 0;
    while (acc < energy * total) acc += sq[static_cast<size_t>(want++)];
    DiffOptions o;
    o.kind = DeltaKind::kLowRank;
    o.energy = energy;
    auto rep = DiffModels(base, child, o);
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    ASSERT_EQ(rep->rows.size(), 1u);
    EXPECT_EQ(rep->rows[0].rank, want) << energy;
  }
  DiffOptions o;
  o.kind = DeltaKind::kLowRank;
  o.rank = 12;
  auto rep = DiffModels(base, child, o);
  ASSERT_TRUE(rep.ok());
  // Rank 12 holds all but the f32 rounding of the child (~1e-7 relative).
  EXPECT_LT(rep->rows[0].rel_error, 1e-4);
  o.rank = 6;
  auto rep6 = DiffModels(base, child, o);
  ASSERT_TRUE(rep6.ok());
  EXPECT_GT(rep6->rows[0].rel_error, 1e-3);
  EXPECT_NEAR(rep6->rows[0].rel_error,
              std::sqrt(std::accumulate(sq.begin() + 6, sq.end(), 0.0) /
                        std::accumulate(sq.begin(), sq.end(), 0.0)),
              1e-3);
}

TEST_F(DiffFixture, WorksAcrossFormats) {
  // Base and child written as GGUF (tools::WriteGguf), the base's matrices
  // quantized to q8_0 first: the diff decodes both sides to f32, so the raw
  // delta equals child - dequant(base) exactly, and applied to the q8_0 base
  // it still gives the child's greedy ids.
  ModelBundle qb = CopyOf(base_);
  for (TensorData& t : qb.tensors) {
    if (t.shape.size() != 2) continue;
    auto f = F64(t);
    std::vector<float> x(f.begin(), f.end());
    uint64_t bytes = 0;
    ASSERT_TRUE(DTypeBytes(DType::kQ8_0, x.size(), &bytes));
    t.owned.assign(bytes, 0);
    quant::QuantizeRow(DType::kQ8_0, x, t.owned);
    t.dtype = DType::kQ8_0;
  }
  const std::string bpath = test::TempPath("diff_base_q8.gguf"),
                    cpath = test::TempPath("diff_child.gguf");
  ASSERT_TRUE(tools::WriteGguf(qb, bpath).ok());
  ASSERT_TRUE(tools::WriteGguf(child_, cpath).ok());
  auto gb = ImportModel(bpath, {});
  auto gc = ImportModel(cpath, {});
  ASSERT_TRUE(gb.ok()) << gb.status().ToString();
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(Find(*gb, "blk.0.attn_q.weight")->dtype, DType::kQ8_0);  // kept quantized on import
  auto rep = DiffModels(*gb, *gc, DiffOptions{});
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->rows.size(), 47u);
  EXPECT_EQ(rep->adapter.base_compat, CompatibilityDigest(*gb));
  for (const TensorDelta& d : rep->adapter.deltas) {
    const TensorData* bt = Find(*gb, d.target);
    const TensorData* ct = Find(child_, d.target);
    ASSERT_NE(bt, nullptr);
    auto b = F64(*bt), c = F64(*ct);
    std::vector<float> got(b.size());
    std::memcpy(got.data(), d.raw.bytes().data(), got.size() * 4);
    for (size_t i = 0; i < b.size(); ++i) {
      ASSERT_EQ(got[i], static_cast<float>(c[i] - b[i])) << d.target << " " << i;
    }
  }
  const std::string pkg_path = test::TempPath("diff_base_q8.slm");
  ASSERT_TRUE(WritePackage(*gb, pkg_path).ok());
  auto pkg = Package::Open(pkg_path);
  ASSERT_TRUE(pkg.ok()) << pkg.status().ToString();
  auto digest = AdapterContentDigest(rep->adapter);
  ASSERT_TRUE(digest.ok());
  AssemblyEntry e{&rep->adapter, *digest, 1.0f};
  auto asmb = AdapterAssembly::Build(**pkg, std::span<const AssemblyEntry>(&e, 1));
  ASSERT_TRUE(asmb.ok()) << asmb.status().ToString();
  const GenRun applied =
      Greedy((*pkg)->config(), (*pkg)->tensors(), prompt_, n_greedy_, asmb->get());
  EXPECT_EQ(applied.greedy, Ints(*expected_.Find("child")->Find("greedy")));
}

// ---- SVD ----

std::vector<double> RandomLowRank(int64_t m, int64_t n, int32_t r, uint64_t seed) {
  Prng p(seed);
  std::vector<double> u(static_cast<size_t>(m * r)), v(static_cast<size_t>(r * n));
  for (double& x : u) x = p.NextFloat() - 0.5;
  for (double& x : v) x = p.NextFloat() - 0.5;
  std::vector<double> a(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int32_t k = 0; k < r; ++k) {
      for (int64_t j = 0; j < n; ++j) a[i * n + j] += u[i * r + k] * v[k * n + j];
    }
  }
  return a;
}

double RelReconError(const std::vector<double>& a, const SvdResult& s) {
  double e = 0, nrm = 0;
  const int32_t k = s.rank();
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      double x = 0;
      for (int32_t t = 0; t < k; ++t) x += s.u[i * k + t] * s.s[t] * s.vt[t * s.n + j];
      const double d = a[i * s.n + j] - x;
      e += d * d;
      nrm += a[i * s.n + j] * a[i * s.n + j];
    }
  }
  return std::sqrt(e / nrm);
}

TEST(Svd, ReconstructsRandomLowRankMatrices) {
  struct Case {
    int64_t m, n;
    int32_t r;
  };
  for (const Case c : {Case{50, 30, 5}, Case{30, 50, 5}, Case{300, 200, 7}, Case{180, 400, 12}}) {
    const auto a = RandomLowRank(c.m, c.n, c.r, 42 + c.m);
    const SvdResult t = TruncatedSvd(a, c.m, c.n, c.r, RsvdOptions{});
    ASSERT_EQ(t.rank(), c.r);
    EXPECT_LT(RelReconError(a, t), 1e-5) << c.m << "x" << c.n;
    const SvdResult rs = RandomizedSvd(a, c.m, c.n, c.r, RsvdOptions{});
    EXPECT_LT(RelReconError(a, rs), 1e-5) << c.m << "x" << c.n;
    if (c.m <= 50) {
      const SvdResult e = ExactSvd(a, c.m, c.n);
      EXPECT_EQ(e.rank(), std::min(c.m, c.n));
      EXPECT_LT(RelReconError(a, e), 1e-12);
      for (int32_t i = c.r; i < e.rank(); ++i) EXPECT_LT(e.s[i], 1e-10 * e.s[0]);
      // U and V orthonormal on the nonzero part.
      for (int32_t p = 0; p < c.r; ++p) {
        for (int32_t q = 0; q < c.r; ++q) {
          double uu = 0, vv = 0;
          for (int64_t i = 0; i < c.m; ++i) uu += e.u[i * e.rank() + p] * e.u[i * e.rank() + q];
          for (int64_t j = 0; j < c.n; ++j) vv += e.vt[p * c.n + j] * e.vt[q * c.n + j];
          EXPECT_NEAR(uu, p == q ? 1.0 : 0.0, 1e-12);
          EXPECT_NEAR(vv, p == q ? 1.0 : 0.0, 1e-12);
        }
      }
    }
  }
}

TEST(Svd, AnalyticSingularValues) {
  // [[3, 0], [4, 5]]: A^T A = [[25, 20], [20, 25]] -> s^2 = 45, 5.
  const std::vector<double> a = {3, 0, 4, 5};
  SvdResult s = ExactSvd(a, 2, 2);
  ASSERT_EQ(s.rank(), 2);
  EXPECT_NEAR(s.s[0], std::sqrt(45.0), 1e-14);
  EXPECT_NEAR(s.s[1], std::sqrt(5.0), 1e-14);
  // A scaled permutation has its scales, sorted, as singular values.
  std::vector<double> p(5 * 5, 0.0);
  const int perm[5] = {3, 0, 4, 1, 2};
  const double val[5] = {-2, 7, 0.5, 3, 1};
  for (int i = 0; i < 5; ++i) p[i * 5 + perm[i]] = val[i];
  s = ExactSvd(p, 5, 5);
  const double want[5] = {7, 3, 2, 1, 0.5};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(s.s[i], want[i], 1e-14);
  // Zero matrix: all zero singular values, no NaN.
  std::vector<double> z(12, 0.0);
  s = ExactSvd(z, 3, 4);
  for (double x : s.s) EXPECT_EQ(x, 0.0);
}

TEST_F(DiffFixture, SingularValuesMatchNumpy) {
  const JsonValue& sv = *expected_.Find("child_minus_base_singular_values");
  ASSERT_EQ(sv.size(), 3u);
  for (const auto& [name, vals] : sv.members()) {
    const std::vector<double> want = Doubles(vals);
    const TensorData* bt = Find(base_, name);
    ASSERT_NE(bt, nullptr) << name;
    auto b = F64(*bt), c = F64(*Find(child_, name));
    for (size_t i = 0; i < b.size(); ++i) b[i] = c[i] - b[i];
    const SvdResult e = ExactSvd(b, bt->shape[0], bt->shape[1]);
    ASSERT_EQ(static_cast<size_t>(e.rank()), want.size()) << name;
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(e.s[i], want[i], 1e-12 * want[0]) << name;
    // The randomized method: a projection never overestimates (s_i(Q^T A) <=
    // s_i(A)); on these flat spectra (s_1..s_4 within ~25%) 2 power
    // iterations get within 2% of s_1, 8 within 0.1%.
    const SvdResult r = RandomizedSvd(b, bt->shape[0], bt->shape[1], 4, RsvdOptions{});
    RsvdOptions more;
    more.power_iters = 8;
    const SvdResult r8 = RandomizedSvd(b, bt->shape[0], bt->shape[1], 4, more);
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_LE(r.s[i], want[i] * (1 + 1e-12)) << name << " " << i;
      EXPECT_NEAR(r.s[i], want[i], 2e-2 * want[0]) << name << " " << i;
      EXPECT_NEAR(r8.s[i], want[i], 1e-3 * want[0]) << name << " " << i;
    }
    // Deterministic: the same bits twice.
    const SvdResult r2 = RandomizedSvd(b, bt->shape[0], bt->shape[1], 4, RsvdOptions{});
    EXPECT_EQ(r.s, r2.s);
    EXPECT_EQ(r.u, r2.u);
  }
}

}  // namespace
}  // namespace slm

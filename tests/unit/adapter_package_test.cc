// Adapter packages (kind = 1): deterministic writer, byte-identical round
// trip, content digest, and refusal of wrong bases, wrong tokenizers, missing
// or misshapen targets, inconsistent deltas and corrupted or truncated files.
#include "adapter/adapter_package.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "adapter/inspect.h"
#include "adapter/validate.h"
#include "base/prng.h"
#include "import/import.h"
#include "package/package.h"
#include "quant/quant.h"
#include "test_util.h"

namespace slm {
namespace {

// stories260K as an in-memory package; `perturb` changes one weight,
// `retokenize` one tokenizer score.
struct Base {
  std::vector<uint8_t> bytes;
  std::unique_ptr<Package> pkg;
};

Base MakeBase(bool perturb = false, bool retokenize = false) {
  Base b;
  const std::string model = test::ModelPath("stories260K.bin");
  const std::string tok = test::ModelPath("tok512.bin");
  EXPECT_FALSE(model.empty() || tok.empty());
  ImportOptions io;
  io.tokenizer_path = tok;
  auto bundle = ImportModel(model, io);
  EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
  if (perturb) {
    TensorData& t = bundle->tensors[3];
    t.owned.assign(t.bytes().begin(), t.bytes().end());
    float v;
    std::memcpy(&v, t.owned.data(), 4);
    v += 1e-3f;
    std::memcpy(t.owned.data(), &v, 4);
  }
  if (retokenize) bundle->tokenizer.scores[10] += 1.0f;
  auto bytes = SerializePackage(*bundle);
  EXPECT_TRUE(bytes.ok());
  b.bytes = std::move(bytes).value();
  auto p = Package::FromMemory(b.bytes, "stories260K.slm");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  b.pkg = std::move(p).value();
  return b;
}

float Rand(Prng& r) { return (r.NextFloat() - 0.5f) * 0.02f; }

// One delta of each kind (raw f32 on a matrix and a norm, raw q8_0, sparse,
// low-rank on a matrix).
Adapter MakeAdapter(const Package& base) {
  Adapter a;
  a.name = "test adapter";
  a.base_compat = CompatibilityDigest(base);
  a.base_tokenizer = base.tokenizer_digest();
  a.lineage.method = "test";
  a.lineage.parents = {base.digest_hex()};
  a.lineage.notes = "made in adapter_package_test";
  Prng r(7);
  auto shape = [&](const char* n) { return base.FindTensor(n)->shape; };
  {
    TensorDelta d;
    d.target = "blk.0.attn_q.weight";
    d.kind = DeltaKind::kRaw;
    d.shape = shape(d.target.c_str());
    std::vector<float> v(static_cast<size_t>(d.shape[0] * d.shape[1]));
    for (float& x : v) x = Rand(r);
    d.raw.dtype = DType::kF32;
    d.raw.owned.resize(v.size() * 4);
    std::memcpy(d.raw.owned.data(), v.data(), d.raw.owned.size());
    a.deltas.push_back(std::move(d));
  }
  {
    TensorDelta d;
    d.target = "blk.1.ffn_up.weight";
    d.kind = DeltaKind::kRaw;
    d.shape = shape(d.target.c_str());
    std::vector<float> v(static_cast<size_t>(d.shape[0] * d.shape[1]));
    for (float& x : v) x = Rand(r);
    d.raw.dtype = DType::kQ8_0;
    d.raw.owned.resize(v.size() / 32 * 34);
    quant::QuantizeRow(DType::kQ8_0, v, d.raw.owned);
    a.deltas.push_back(std::move(d));
  }
  {
    TensorDelta d;
    d.target = "blk.2.ffn_norm.weight";
    d.kind = DeltaKind::kRaw;
    d.shape = shape(d.target.c_str());
    d.raw.dtype = DType::kF32;
    std::vector<float> v(static_cast<size_t>(d.shape[0]));
    for (float& x : v) x = Rand(r);
    d.raw.owned.resize(v.size() * 4);
    std::memcpy(d.raw.owned.data(), v.data(), d.raw.owned.size());
    a.deltas.push_back(std::move(d));
  }
  {
    TensorDelta d;
    d.target = "blk.3.attn_v.weight";
    d.kind = DeltaKind::kSparse;
    d.shape = shape(d.target.c_str());
    const uint64_t n = static_cast<uint64_t>(d.shape[0] * d.shape[1]);
    for (uint64_t i = 0; i < n; i += 1 + static_cast<uint32_t>(r.Next() % 300)) {
      d.indices.push_back(i);
      d.values.push_back(Rand(r));
    }
    a.deltas.push_back(std::move(d));
  }
  {
    TensorDelta d;
    d.target = "blk.4.ffn_down.weight";
    d.kind = DeltaKind::kLowRank;
    d.shape = shape(d.target.c_str());
    d.rank = 3;
    d.a.resize(static_cast<size_t>(3 * d.shape[1]));
    d.b.resize(static_cast<size_t>(d.shape[0] * 3));
    for (float& x : d.a) x = Rand(r);
    for (float& x : d.b) x = Rand(r);
    d.scale = 2.0f;
    a.deltas.push_back(std::move(d));
  }
  return a;
}

TEST(AdapterPackage, RoundTripIsByteIdenticalAndDigestIsContent) {
  Base base = MakeBase();
  Adapter a = MakeAdapter(*base.pkg);
  auto bytes = SerializeAdapter(a);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto f = ParseAdapterPackage(*bytes, "a.slm");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->bytes, bytes->size());
  ASSERT_EQ(f->adapter.deltas.size(), a.deltas.size());
  EXPECT_EQ(f->adapter.name, a.name);
  EXPECT_EQ(f->adapter.lineage.parents, a.lineage.parents);
  EXPECT_EQ(f->adapter.lineage.notes, a.lineage.notes);
  EXPECT_EQ(f->adapter.base_compat, a.base_compat);
  EXPECT_EQ(f->adapter.deltas[3].indices, a.deltas[3].indices);
  EXPECT_EQ(f->adapter.deltas[4].b, a.deltas[4].b);
  EXPECT_EQ(f->adapter.deltas[4].scale, 2.0f);
  auto again = SerializeAdapter(f->adapter);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes);  // byte-identical
  auto digest = AdapterContentDigest(a);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(f->digest, *digest);
  // The writer sorts by target: the order given does not matter.
  Adapter shuffled = a;
  std::swap(shuffled.deltas[0], shuffled.deltas[4]);
  EXPECT_EQ(*SerializeAdapter(shuffled), *bytes);
  // Changing anything changes the digest.
  Adapter b = a;
  b.deltas[3].values[0] += 1e-3f;
  EXPECT_NE(*AdapterContentDigest(b), *digest);
  b = a;
  b.lineage.notes += "!";
  EXPECT_NE(*AdapterContentDigest(b), *digest);
  // Sparse storage: LEB128 gaps, 1 byte per gap < 128.
  const uint64_t nnz = a.deltas[3].indices.size();
  EXPECT_LT(DeltaStoredBytes(a.deltas[3]), nnz * 4 + nnz * 2 + 1);
  // The inspect JSON names every delta.
  JsonValue j = AdapterToJson(*f);
  EXPECT_EQ(j.Find("deltas")->size(), 5u);
  EXPECT_EQ(j.Find("deltas")->items()[4].Find("rank")->as_number(), 3);
  // Model readers refuse an adapter package with a clear message.
  auto as_model = Package::FromMemory(*bytes, "a.slm");
  ASSERT_FALSE(as_model.ok());
  EXPECT_NE(as_model.status().message().find("adapter package"), std::string::npos);
}

TEST(AdapterPackage, ValidatesAgainstItsBase) {
  Base base = MakeBase();
  Adapter a = MakeAdapter(*base.pkg);
  EXPECT_TRUE(ValidateAdapter(*base.pkg, a).ok());
  // In-memory bundle digest equals the package's.
  ImportOptions io;
  io.tokenizer_path = test::ModelPath("tok512.bin");
  auto bundle = ImportModel(test::ModelPath("stories260K.bin"), io);
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(CompatibilityDigest(*bundle), CompatibilityDigest(*base.pkg));
  EXPECT_EQ(TokenizerDigest(*bundle), base.pkg->tokenizer_digest());
}

TEST(AdapterPackage, WrongBaseIsRefusedNamingBothDigests) {
  Base base = MakeBase();
  Base other = MakeBase(/*perturb=*/true);
  Adapter a = MakeAdapter(*base.pkg);
  const std::string expected = DigestHex(CompatibilityDigest(*base.pkg));
  const std::string actual = DigestHex(CompatibilityDigest(*other.pkg));
  ASSERT_NE(expected, actual);
  Status s = ValidateAdapter(*other.pkg, a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(expected), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(actual), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("wrong base"), std::string::npos) << s.message();
}

TEST(AdapterPackage, WrongTokenizerIsRefusedNamingBothDigests) {
  Base base = MakeBase();
  Base other = MakeBase(false, /*retokenize=*/true);
  Adapter a = MakeAdapter(*base.pkg);
  Status s = ValidateAdapter(*other.pkg, a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(base.pkg->tokenizer_digest_hex()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(other.pkg->tokenizer_digest_hex()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("wrong tokenizer"), std::string::npos);
}

TEST(AdapterPackage, MissingTensorAndShapeMismatchAreRefused) {
  Base base = MakeBase();
  Adapter a = MakeAdapter(*base.pkg);
  Adapter missing = a;
  missing.deltas[3].target = "blk.9.attn_v.weight";
  Status s = ValidateAdapter(*base.pkg, missing);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("'blk.9.attn_v.weight' is not in the base"), std::string::npos)
      << s.message();

  // Same element count, other shape: named with both shapes.
  Adapter shaped = a;
  TensorDelta& d = shaped.deltas[4];
  const std::vector<int64_t> orig = d.shape;
  d.shape = {orig[1], orig[0]};
  std::swap(d.a, d.b);  // keep A/B sizes consistent with the new shape
  s = ValidateAdapter(*base.pkg, shaped);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(ShapeString(d.shape)), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(ShapeString(orig)), std::string::npos) << s.message();
}

TEST(AdapterPackage, InconsistentDeltasAreRefused) {
  Base base = MakeBase();
  const Adapter a = MakeAdapter(*base.pkg);
  Adapter x = a;
  x.deltas[4].a.pop_back();  // low-rank A no longer [rank, in]
  Status s = ValidateAdapter(*base.pkg, x);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("A has"), std::string::npos) << s.message();
  EXPECT_FALSE(SerializeAdapter(x).ok());

  x = a;
  std::swap(x.deltas[3].indices[0], x.deltas[3].indices[1]);  // unsorted
  s = ValidateAdapter(*base.pkg, x);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ascending"), std::string::npos) << s.message();

  x = a;
  x.deltas[3].indices.back() = 1u << 30;  // out of range
  s = ValidateAdapter(*base.pkg, x);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("outside"), std::string::npos) << s.message();

  x = a;
  x.deltas[3].values[2] = std::numeric_limits<float>::quiet_NaN();
  s = ValidateAdapter(*base.pkg, x);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("NaN"), std::string::npos) << s.message();

  x = a;
  float inf = std::numeric_limits<float>::infinity();
  std::memcpy(x.deltas[0].raw.owned.data() + 40, &inf, 4);
  s = ValidateAdapter(*base.pkg, x);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("infinite"), std::string::npos) << s.message();

  x = a;
  x.deltas[2].kind = DeltaKind::kLowRank;  // low-rank on a 1-D norm
  x.deltas[2].rank = 1;
  s = ValidateAdapter(*base.pkg, x);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("low-rank needs a matrix"), std::string::npos) << s.message();
}

TEST(AdapterPackage, CorruptedAndTruncatedFilesAreRefused) {
  Base base = MakeBase();
  auto bytes = SerializeAdapter(MakeAdapter(*base.pkg));
  ASSERT_TRUE(bytes.ok());
  // A flipped byte in the last blob (the low-rank B of blk.4.ffn_down), its
  // digest in the delta table intact: the blob digest no longer matches.
  std::vector<uint8_t> flipped = *bytes;
  flipped[flipped.size() - 5] ^= 0x40;
  auto f = ParseAdapterPackage(flipped, "flipped.slm");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kIntegrityError);
  EXPECT_NE(f.status().message().find("blk.4.ffn_down.weight"), std::string::npos)
      << f.status().message();
  EXPECT_NE(f.status().message().find("does not match the delta table"), std::string::npos);
  // A flipped byte in the delta table: its section digest no longer matches.
  flipped = *bytes;
  flipped[64 + 3 * 56 + 200] ^= 0x01;
  f = ParseAdapterPackage(flipped, "table.slm");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kIntegrityError) << f.status().message();
  // Truncated anywhere: refused, never read past the end.
  for (size_t cut :
       {size_t{0}, size_t{10}, size_t{64}, size_t{200}, bytes->size() / 2, bytes->size() - 1}) {
    std::vector<uint8_t> t(bytes->begin(), bytes->begin() + static_cast<long>(cut));
    auto g = ParseAdapterPackage(t, "cut.slm");
    ASSERT_FALSE(g.ok()) << cut;
    EXPECT_EQ(g.status().code(), StatusCode::kFormatError) << g.status().message();
  }
  // A trailing byte.
  std::vector<uint8_t> longer = *bytes;
  longer.push_back(0);
  EXPECT_FALSE(ParseAdapterPackage(longer, "long.slm").ok());
  // Every single-byte flip of header, directory and sections is refused or
  // (only in padding-free content that the digests cover) detected.
  int refused = 0, total = 0;
  for (size_t i = 0; i < std::min<size_t>(bytes->size(), 4096); i += 7) {
    std::vector<uint8_t> c = *bytes;
    c[i] ^= 0xff;
    ++total;
    refused += !ParseAdapterPackage(c, "x.slm").ok();
  }
  EXPECT_EQ(refused, total);
}

}  // namespace
}  // namespace slm

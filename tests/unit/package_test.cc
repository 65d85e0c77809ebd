#include "package/package.h"

#include <gtest/gtest.h>

#include "base/sha256.h"
#include "import/gguf_import.h"
#include "package/model_tensors.h"
#include "package_test_util.h"
#include "test_util.h"

namespace slm {
namespace {

TEST(Package, RoundTripIsByteIdentical) {
  for (bool tied : {false, true}) {
    for (bool bias : {false, true}) {
      ModelBundle b = test::MakeSyntheticBundle(7, tied, bias);
      auto bytes = SerializePackage(b);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      auto p = Package::FromMemory(*bytes, "synthetic.slm");
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      auto again = SerializePackage(PackageToBundle(**p));
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      EXPECT_EQ(*bytes, *again) << "tied=" << tied << " bias=" << bias;
      // The identity survives the round trip too.
      auto p2 = Package::FromMemory(*again, "again.slm");
      ASSERT_TRUE(p2.ok());
      EXPECT_EQ((*p)->digest_hex(), (*p2)->digest_hex());
    }
  }
}

TEST(Package, ReadsBackWhatWasWritten) {
  ModelBundle b = test::MakeSyntheticBundle(3, false, true);
  b.provenance.notes = "q8_0 tensors dequantized to f32 on import";
  b.provenance.tokenizer_source = "tok.json";
  std::string path = test::TempPath("read_back.slm");
  ASSERT_TRUE(WritePackage(b, path).ok());
  auto p = Package::Open(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Package& pk = **p;
  EXPECT_EQ(pk.version(), 1u);
  EXPECT_EQ(pk.kind(), 0u);
  EXPECT_EQ(pk.config().arch, "qwen2");
  EXPECT_EQ(pk.config().dim, 24);
  EXPECT_EQ(pk.config().hidden_dim, 40);
  EXPECT_EQ(pk.config().n_kv_heads, 2);
  EXPECT_EQ(pk.config().rope_style, RopeStyle::kHalfSplit);
  EXPECT_TRUE(pk.config().qkv_bias);
  EXPECT_FALSE(pk.config().tied_output);
  EXPECT_EQ(pk.config().norm_eps, 1e-5f);
  EXPECT_EQ(pk.provenance().source_format, "synthetic");
  EXPECT_EQ(pk.provenance().notes, "q8_0 tensors dequantized to f32 on import");
  EXPECT_EQ(pk.provenance().tokenizer_source, "tok.json");
  EXPECT_EQ(pk.metadata().at("general.name"), "synthetic-test");
  EXPECT_EQ(pk.tokenizer().pieces, b.tokenizer.pieces);
  EXPECT_EQ(pk.tokenizer().scores, b.tokenizer.scores);
  EXPECT_EQ(pk.tokenizer().bos_id, 1);
  ASSERT_EQ(pk.tensors().size(), b.tensors.size());
  for (size_t i = 0; i < b.tensors.size(); ++i) {
    const TensorData& t = pk.tensors()[i];
    EXPECT_EQ(t.name, b.tensors[i].name);
    EXPECT_EQ(t.shape, b.tensors[i].shape);
    EXPECT_TRUE(std::equal(t.bytes().begin(), t.bytes().end(), b.tensors[i].owned.begin(),
                           b.tensors[i].owned.end()));
    EXPECT_EQ(pk.tensor_offset(i) % 64, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.bytes().data()) % 64, 0u) << "mmap is page aligned";
    EXPECT_EQ(pk.tensor_digest_hex(i), DigestHex(Sha256Of(b.tensors[i].owned)));
  }
  EXPECT_NE(pk.FindTensor("blk.1.attn_k.bias"), nullptr);
  EXPECT_EQ(pk.FindTensor("nope"), nullptr);
  EXPECT_TRUE(pk.VerifyAll().ok());
  EXPECT_EQ(pk.digest_hex().size(), 64u);
  EXPECT_EQ(pk.tokenizer_digest_hex().size(), 64u);
  EXPECT_EQ(pk.sections().size(), 4u);
}

TEST(Package, DigestIsContent) {
  ModelBundle a = test::MakeSyntheticBundle(1);
  ModelBundle b = test::MakeSyntheticBundle(2);  // different weights
  ModelBundle c = test::MakeSyntheticBundle(1);
  c.tokenizer.scores[5] = 1.5f;  // different tokenizer
  auto pa = SerializePackage(a), pb = SerializePackage(b), pc = SerializePackage(c);
  ASSERT_TRUE(pa.ok() && pb.ok() && pc.ok());
  auto qa = Package::FromMemory(*pa, "a"), qb = Package::FromMemory(*pb, "b"),
       qc = Package::FromMemory(*pc, "c");
  ASSERT_TRUE(qa.ok() && qb.ok() && qc.ok());
  EXPECT_NE((*qa)->digest_hex(), (*qb)->digest_hex());
  EXPECT_EQ((*qa)->tokenizer_digest_hex(), (*qb)->tokenizer_digest_hex());
  EXPECT_NE((*qa)->digest_hex(), (*qc)->digest_hex());
  EXPECT_NE((*qa)->tokenizer_digest_hex(), (*qc)->tokenizer_digest_hex());
  // Deterministic.
  auto pa2 = SerializePackage(test::MakeSyntheticBundle(1));
  ASSERT_TRUE(pa2.ok());
  EXPECT_EQ(*pa, *pa2);
}

TEST(Package, WriterRefusesBadBundles) {
  ModelBundle b = test::MakeSyntheticBundle();
  b.tensors.pop_back();  // output.weight
  auto s = SerializePackage(b);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("output.weight"), std::string::npos) << s.status().message();

  b = test::MakeSyntheticBundle();
  b.tensors[1].shape = {23};
  s = SerializePackage(b);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("expected shape [24], found [23]"), std::string::npos)
      << s.status().message();

  b = test::MakeSyntheticBundle();
  b.config.n_kv_heads = 3;
  EXPECT_FALSE(SerializePackage(b).ok());

  b = test::MakeSyntheticBundle();
  b.metadata["model.dim"] = "3";
  EXPECT_FALSE(SerializePackage(b).ok());

  b = test::MakeSyntheticBundle();
  b.tokenizer.bos_id = 99;
  EXPECT_FALSE(SerializePackage(b).ok());
}

TEST(Package, CheckModelTensorsNamesProblems) {
  ModelBundle b = test::MakeSyntheticBundle(1, true);
  EXPECT_TRUE(CheckModelTensors(b.config, b.tensors).ok());
  b.config.tied_output = false;
  Status s = CheckModelTensors(b.config, b.tensors);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("output.weight"), std::string::npos);
  b = test::MakeSyntheticBundle(1, false);
  b.config.tied_output = true;
  s = CheckModelTensors(b.config, b.tensors);
  EXPECT_NE(s.message().find("unexpected tensor 'output.weight'"), std::string::npos) << s.message();
  b = test::MakeSyntheticBundle(1, false);
  b.tensors[0].owned.pop_back();
  s = CheckModelTensors(b.config, b.tensors);
  EXPECT_NE(s.message().find("token_embd.weight"), std::string::npos) << s.message();
}

TEST(Package, Stories260KFromGguf) {
  std::string path = test::ModelPath("stories260K.gguf");
  ASSERT_FALSE(path.empty());
  auto b = ImportGguf(path);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  std::string out = test::TempPath("stories260K.slm");
  ASSERT_TRUE(WritePackage(*b, out).ok());
  auto p = Package::Open(out);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->config().dim, 64);
  EXPECT_EQ((*p)->config().n_layers, 5);
  EXPECT_EQ((*p)->tokenizer().pieces.size(), 512u);
  EXPECT_EQ((*p)->provenance().source_format, "gguf");
  EXPECT_EQ((*p)->provenance().source_sha256,
            "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
  auto again = SerializePackage(PackageToBundle(**p));
  ASSERT_TRUE(again.ok());
  auto orig = MappedFile::Open(out);
  ASSERT_TRUE(orig.ok());
  EXPECT_TRUE(std::equal(again->begin(), again->end(), (*orig)->bytes().begin(),
                         (*orig)->bytes().end()));
}

}  // namespace
}  // namespace slm

namespace slm {
namespace {

TEST(Package, UnknownOptionalSectionIsSkippedAndHashed) {
  ModelBundle b = test::MakeSyntheticBundle(9);
  PackageExtraSection release{100, 0, {1, 2, 3, 4, 5}};
  auto with = SerializePackage(b, std::span<const PackageExtraSection>(&release, 1));
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  auto p = Package::FromMemory(*with, "with.slm");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ((*p)->sections().size(), 5u);
  const PackageSection& s = (*p)->sections()[4];
  EXPECT_EQ(s.id, 100u);
  EXPECT_FALSE(s.known);
  auto sb = (*p)->section_bytes(s);
  EXPECT_EQ(std::vector<uint8_t>(sb.begin(), sb.end()), release.bytes);
  EXPECT_TRUE((*p)->VerifyAll().ok());
  // The section is part of the identity, the tokenizer digest is not affected.
  auto without = SerializePackage(b);
  auto q = Package::FromMemory(*without, "without.slm");
  ASSERT_TRUE(q.ok());
  EXPECT_NE((*p)->digest_hex(), (*q)->digest_hex());
  EXPECT_EQ((*p)->tokenizer_digest_hex(), (*q)->tokenizer_digest_hex());
  // Its bytes are covered by its directory digest.
  std::vector<uint8_t> bad = *with;
  bad[s.offset + 2] ^= 1;
  auto r = Package::FromMemory(bad, "bad.slm");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIntegrityError);
  // The same section flagged required is refused by this reader.
  release.flags = 1;
  auto req = SerializePackage(b, std::span<const PackageExtraSection>(&release, 1));
  ASSERT_TRUE(req.ok());
  auto t = Package::FromMemory(*req, "req.slm");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(t.status().message().find("id 100"), std::string::npos) << t.status().message();
  // Empty extra sections (which may share an offset with the next section).
  PackageExtraSection empties[2] = {{101, 0, {}}, {102, 0, {}}};
  auto e = SerializePackage(b, empties);
  ASSERT_TRUE(e.ok());
  auto pe = Package::FromMemory(*e, "empty.slm");
  ASSERT_TRUE(pe.ok()) << pe.status().ToString();
  EXPECT_EQ((*pe)->sections().size(), 6u);
  // Bad extra ids are refused by the writer.
  PackageExtraSection clash{3, 0, {}};
  EXPECT_FALSE(SerializePackage(b, std::span<const PackageExtraSection>(&clash, 1)).ok());
}

}  // namespace
}  // namespace slm

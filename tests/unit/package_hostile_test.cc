// Hostile .slm files: every truncation, flipped bytes, lying counts, overlaps,
// misalignment, absurd dims, unknown dtypes and versions. The reader must
// return an error naming the section (or tensor) and the offset, and never
// crash or allocate what a count claims (this suite also runs under
// ASan + UBSan).
#include <gtest/gtest.h>

#include <cstring>

#include "base/sha256.h"
#include "import/gguf_import.h"
#include "package/package.h"
#include "package_test_util.h"
#include "test_util.h"

namespace slm {
namespace {

std::vector<uint8_t> SyntheticPackage() {
  auto bytes = SerializePackage(test::MakeSyntheticBundle(5));
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

Status OpenBytes(const std::vector<uint8_t>& b, bool verify = true) {
  auto p = Package::FromMemory(b, "t.slm", {verify});
  return p.ok() ? Status::Ok() : p.status();
}

uint64_t Get64(const std::vector<uint8_t>& b, size_t at) {
  uint64_t v;
  std::memcpy(&v, &b[at], 8);
  return v;
}
void Put64(std::vector<uint8_t>* b, size_t at, uint64_t v) { std::memcpy(&(*b)[at], &v, 8); }
void Put32(std::vector<uint8_t>* b, size_t at, uint32_t v) { std::memcpy(&(*b)[at], &v, 4); }

// Byte offsets of the fields of tensor `index` inside the tensor table.
struct EntryPos {
  size_t name, dtype, n_dims, dims, offset, size, sha;
};
EntryPos TensorEntry(const Package& p, size_t index) {
  size_t at = p.sections()[2].offset + 8;
  EntryPos e{};
  for (size_t i = 0; i <= index; ++i) {
    const TensorData& t = p.tensors()[i];
    e.name = at;
    e.dtype = at + 4 + t.name.size();
    e.n_dims = e.dtype + 4;
    e.dims = e.n_dims + 4;
    e.offset = e.dims + 8 * t.shape.size();
    e.size = e.offset + 8;
    e.sha = e.size + 8;
    at = e.sha + 32;
  }
  return e;
}

// Recomputes the tensor table's directory digest after a deliberate edit, so
// the test reaches the check it targets rather than the digest check.
void ResealTable(std::vector<uint8_t>* b) {
  const size_t entry = 64 + 2 * 56;
  uint64_t off = Get64(*b, entry + 8), size = Get64(*b, entry + 16);
  Digest d = Sha256Of(std::span<const uint8_t>(b->data() + off, size));
  std::memcpy(b->data() + entry + 24, d.data(), 32);
}

TEST(PackageHostile, TruncationAtEveryBoundaryNamesSectionAndOffset) {
  std::vector<uint8_t> good = SyntheticPackage();
  auto p = Package::FromMemory(good, "good.slm");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  struct Cut {
    size_t at;
    std::string section;
  };
  std::vector<Cut> cuts;
  for (size_t at : {0, 1, 7, 8, 12, 20, 31, 40, 63}) cuts.push_back({at, "header"});
  const size_t dir_end = 64 + 56 * (*p)->sections().size();
  for (size_t at = 64; at < dir_end; at += 13) cuts.push_back({at, "section directory"});
  for (const PackageSection& s : (*p)->sections()) {
    const std::string name = std::string(PackageSectionName(s.id)) + " section";
    for (uint64_t at : {s.offset, s.offset + 1, s.offset + s.size / 3, s.offset + s.size / 2,
                        s.offset + s.size - 1}) {
      cuts.push_back({static_cast<size_t>(at), name});
    }
  }
  for (const Cut& c : cuts) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + c.at);
    Status s = OpenBytes(cut);
    ASSERT_FALSE(s.ok()) << "cut at " << c.at;
    EXPECT_EQ(s.code(), StatusCode::kFormatError) << s.ToString();
    EXPECT_NE(s.message().find(c.section), std::string::npos)
        << "cut at " << c.at << " should name '" << c.section << "': " << s.message();
    EXPECT_NE(s.message().find("offset"), std::string::npos) << s.message();
  }
  // Every other length too: an error, never a crash.
  for (size_t at = 0; at < good.size(); at += 7) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + at);
    EXPECT_FALSE(OpenBytes(cut).ok()) << "cut at " << at;
  }
  // Trailing garbage.
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  Status s = OpenBytes(longer);
  EXPECT_NE(s.message().find("file size"), std::string::npos) << s.message();
}

TEST(PackageHostile, EveryFlippedByteOutsideTensorDataIsCaught) {
  std::vector<uint8_t> good = SyntheticPackage();
  auto p = Package::FromMemory(good, "good.slm");
  ASSERT_TRUE(p.ok());
  const uint64_t data_start = (*p)->sections()[3].offset;
  for (size_t i = 0; i < data_start; ++i) {
    for (uint8_t mask : {static_cast<uint8_t>(i % 2 ? 0x80 : 0x01)}) {
      std::vector<uint8_t> bad = good;
      bad[i] ^= mask;
      Status s = OpenBytes(bad, /*verify=*/false);
      ASSERT_FALSE(s.ok()) << "flip 0x" << std::hex << int(mask) << " at byte " << std::dec << i;
    }
  }
}

TEST(PackageHostile, FlippedHeaderFieldsGiveClearErrors) {
  std::vector<uint8_t> good = SyntheticPackage();
  struct Case {
    size_t at;
    StatusCode code;
    std::string needle;
  } cases[] = {
      {0, StatusCode::kFormatError, "bad magic"},
      {8, StatusCode::kUnsupported, "version"},
      {12, StatusCode::kUnsupported, "feature flags"},
      {16, StatusCode::kUnsupported, "adapter"},
      {20, StatusCode::kFormatError, "section count 5"},
      {24, StatusCode::kFormatError, "file size"},
      {32, StatusCode::kFormatError, "directory offset"},
      {50, StatusCode::kFormatError, "reserved"},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bad = good;
    bad[c.at] ^= 1;
    Status s = OpenBytes(bad);
    ASSERT_FALSE(s.ok()) << c.needle;
    EXPECT_EQ(s.code(), c.code) << s.ToString();
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("header"), std::string::npos) << s.message();
  }
}

TEST(PackageHostile, FutureVersionIsUnsupported) {
  std::vector<uint8_t> bad = SyntheticPackage();
  Put32(&bad, 8, 2);
  Status s = OpenBytes(bad);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("package version 2, this reader supports version 1"),
            std::string::npos) << s.message();
}

TEST(PackageHostile, TensorDataFlipNamesTheTensor) {
  std::vector<uint8_t> good = SyntheticPackage();
  auto p = Package::FromMemory(good, "good.slm");
  ASSERT_TRUE(p.ok());
  for (size_t i = 0; i < (*p)->tensors().size(); ++i) {
    const std::string name = (*p)->tensors()[i].name;
    std::vector<uint8_t> bad = good;
    bad[(*p)->tensor_offset(i) + (*p)->tensors()[i].view.size() / 2] ^= 0x10;
    Status s = OpenBytes(bad);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.code(), StatusCode::kIntegrityError);
    EXPECT_NE(s.message().find("tensor '" + name + "'"), std::string::npos) << s.message();
    // Without verification it opens, and VerifyAll finds it.
    auto q = Package::FromMemory(bad, "bad.slm", {false});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    Status v = (*q)->VerifyAll();
    EXPECT_NE(v.message().find("tensor '" + name + "'"), std::string::npos) << v.message();
  }
  // A padding byte between tensors.
  std::vector<uint8_t> bad = good;
  size_t gap = 0;
  for (size_t i = 1; i < (*p)->tensors().size() && gap == 0; ++i) {
    size_t prev_end = (*p)->tensor_offset(i - 1) + (*p)->tensors()[i - 1].view.size();
    if (prev_end < (*p)->tensor_offset(i)) gap = prev_end;
  }
  ASSERT_NE(gap, 0u);
  ASSERT_EQ(bad[gap], 0);
  bad[gap] = 7;
  Status s = OpenBytes(bad);
  EXPECT_NE(s.message().find("padding byte at offset " + std::to_string(gap)), std::string::npos)
      << s.message();
}

TEST(PackageHostile, SectionDigestMismatchNamesSection) {
  std::vector<uint8_t> good = SyntheticPackage();
  auto p = Package::FromMemory(good, "good.slm");
  ASSERT_TRUE(p.ok());
  // Flip a tokenizer score (any float value parses).
  const PackageSection& tok = (*p)->sections()[1];
  std::vector<uint8_t> bad = good;
  bad[tok.offset + tok.size - 4 * 32 * 2 + 1] ^= 1;  // inside the scores
  Status s = OpenBytes(bad);
  EXPECT_EQ(s.code(), StatusCode::kIntegrityError) << s.ToString();
  EXPECT_NE(s.message().find("tokenizer section"), std::string::npos) << s.message();
  // The directory digest itself.
  bad = good;
  bad[64 + 56 + 24] ^= 1;
  s = OpenBytes(bad);
  EXPECT_EQ(s.code(), StatusCode::kIntegrityError);
  EXPECT_NE(s.message().find("tokenizer section"), std::string::npos) << s.message();
}

TEST(PackageHostile, HugeTensorInSmallFileIsRefused) {
  std::vector<uint8_t> bad = SyntheticPackage();
  auto p = Package::FromMemory(bad, "p");
  ASSERT_TRUE(p.ok());
  EntryPos e = TensorEntry(**p, 0);  // token_embd.weight [32, 24] f32
  Put64(&bad, e.dims, 1ull << 26);   // 2^26 x 24 x 4 bytes = 6 GiB
  Put64(&bad, e.size, (1ull << 26) * 24 * 4);
  ResealTable(&bad);
  Status s = OpenBytes(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tensor 'token_embd.weight'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("outside the tensor data section"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("tensor table section: offset"), std::string::npos) << s.message();
}

TEST(PackageHostile, LyingCountsAreRefusedBeforeAllocation) {
  std::vector<uint8_t> good = SyntheticPackage();
  auto p = Package::FromMemory(good, "p");
  ASSERT_TRUE(p.ok());
  const auto& secs = (*p)->sections();
  struct Case {
    size_t at;
    std::string needle;
  } cases[] = {
      {secs[0].offset, "entry count"},            // metadata
      {secs[1].offset + 28 + (*p)->tokenizer().pre.size(), "counts"},  // tokenizer pieces
      {secs[2].offset, "tensor count"},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bad = good;
    Put32(&bad, c.at, 0xFFFFFFF0u);
    Status s = OpenBytes(bad);
    ASSERT_FALSE(s.ok()) << c.needle;
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("offset " + std::to_string(c.at)), std::string::npos) << s.message();
  }
  // Section size past the end of the file.
  std::vector<uint8_t> bad = good;
  Put64(&bad, 64 + 16, 1ull << 40);
  Status s = OpenBytes(bad);
  EXPECT_NE(s.message().find("metadata section"), std::string::npos) << s.message();
  Put64(&bad, 64 + 16, ~0ull);
  s = OpenBytes(bad);
  EXPECT_NE(s.message().find("overflow"), std::string::npos) << s.message();
}

TEST(PackageHostile, OverlapMisalignmentDimsDtype) {
  std::vector<uint8_t> good = SyntheticPackage();
  auto p = Package::FromMemory(good, "p");
  ASSERT_TRUE(p.ok());
  EntryPos e0 = TensorEntry(**p, 0), e1 = TensorEntry(**p, 1);

  std::vector<uint8_t> bad = good;  // blk.0.attn_norm.weight placed over token_embd
  Put64(&bad, e1.offset, (*p)->tensor_offset(0));
  ResealTable(&bad);
  Status s = OpenBytes(bad);
  EXPECT_NE(s.message().find("overlaps tensor"), std::string::npos)
      << s.message();

  bad = good;
  Put64(&bad, e1.offset, (*p)->tensor_offset(1) + 4);
  ResealTable(&bad);
  s = OpenBytes(bad);
  EXPECT_NE(s.message().find("not a multiple of 64"), std::string::npos) << s.message();

  for (uint64_t dim : {0ull, 1ull << 41, ~0ull}) {
    bad = good;
    Put64(&bad, e0.dims, dim);
    ResealTable(&bad);
    s = OpenBytes(bad);
    EXPECT_NE(s.message().find("dimension"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("offset " + std::to_string(e0.dims)), std::string::npos)
        << s.message();
  }

  bad = good;
  Put32(&bad, e0.n_dims, 9);
  ResealTable(&bad);
  s = OpenBytes(bad);
  EXPECT_NE(s.message().find("n_dims 9"), std::string::npos) << s.message();

  bad = good;
  Put32(&bad, e0.dtype, 77);
  ResealTable(&bad);
  s = OpenBytes(bad);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("unknown dtype 77"), std::string::npos) << s.message();

  bad = good;  // a known dtype whose size disagrees
  Put32(&bad, e0.dtype, 1);  // f16
  ResealTable(&bad);
  s = OpenBytes(bad);
  EXPECT_NE(s.message().find("byte size"), std::string::npos) << s.message();

  bad = good;  // valid table, wrong shape for the config: attn_k [12, 24] -> [24, 12]
  EntryPos e3 = TensorEntry(**p, 3);
  ASSERT_EQ((*p)->tensors()[3].name, "blk.0.attn_k.weight");
  Put64(&bad, e3.dims, 24);
  Put64(&bad, e3.dims + 8, 12);
  ResealTable(&bad);
  s = OpenBytes(bad);
  EXPECT_NE(s.message().find("blk.0.attn_k.weight': expected shape [12, 24], found [24, 12]"),
            std::string::npos) << s.message();
}

TEST(PackageHostile, UnknownRequiredSectionIsUnsupported) {
  std::vector<uint8_t> bad = SyntheticPackage();
  Put32(&bad, 64 + 3 * 56, 9);  // data section id 4 -> 9 (required)
  Status s = OpenBytes(bad);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("required but unknown"), std::string::npos) << s.message();
}

// Random multi-byte corruption anywhere, biased towards the structured
// front of the file: always an error (or, if only data bytes changed and
// digests are off, a package), never a crash.
TEST(PackageHostile, RandomCorruptionNeverCrashes) {
  std::vector<uint8_t> good = SyntheticPackage();
  auto p = Package::FromMemory(good, "good.slm");
  ASSERT_TRUE(p.ok());
  const size_t front = (*p)->sections()[3].offset;
  uint64_t s = 0x9e3779b97f4a7c15ull;
  auto next = [&s] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> bad = good;
    int n = 1 + static_cast<int>(next() % 4);
    for (int k = 0; k < n; ++k) {
      size_t at = next() % 4 ? next() % front : next() % bad.size();
      bad[at] = static_cast<uint8_t>(next());
    }
    if (bad == good) continue;
    Status st = OpenBytes(bad, /*verify=*/iter % 2 == 0);
    if (iter % 2 == 0) {
      EXPECT_FALSE(st.ok()) << "iteration " << iter;
    }
  }
}

TEST(PackageHostile, Stories260KTruncations) {
  std::string path = test::ModelPath("stories260K.gguf");
  ASSERT_FALSE(path.empty());
  auto b = ImportGguf(path);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto bytes = SerializePackage(*b);
  ASSERT_TRUE(bytes.ok());
  auto p = Package::FromMemory(*bytes, "s.slm");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  for (const PackageSection& sec : (*p)->sections()) {
    for (uint64_t at : {sec.offset, sec.offset + sec.size / 2, sec.offset + sec.size - 1}) {
      auto cut = std::span<const uint8_t>(*bytes).first(at);
      auto q = Package::FromMemory(cut, "s.slm");
      ASSERT_FALSE(q.ok());
      EXPECT_NE(q.status().message().find(PackageSectionName(sec.id)), std::string::npos)
          << q.status().message();
    }
  }
  // A flipped weight in the last layer.
  std::vector<uint8_t> bad = *bytes;
  const TensorData* t = (*p)->FindTensor("blk.4.ffn_down.weight");
  ASSERT_NE(t, nullptr);
  bad[t->view.data() - bytes->data() + 100] ^= 4;
  auto q = Package::FromMemory(bad, "s.slm");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("blk.4.ffn_down.weight"), std::string::npos);
}

}  // namespace
}  // namespace slm

// Session files on stories260K: save then restore gives the same logits and
// the same next decodes bit for bit as never having saved, returns the
// sampler blob, and refuses a mismatched assembly checksum, another model, a
// truncated, corrupted or malformed file with a clear error.
#include "runtime/session_file.h"

#include <array>
#include <cstring>

#include "base/file.h"
#include "base/sha256.h"
#include "kv_test_util.h"
#include "runtime/deltas.h"

namespace slm::test {
namespace {

using SessionFile = KvFixture;

class FakeDeltas : public WeightDeltas {
 public:
  explicit FakeDeltas(uint8_t tag) { sum_.fill(tag); }
  bool HasMatMul(int32_t, MatrixSlot) const override { return false; }
  void AddMatMul(int32_t, MatrixSlot, float*, int64_t, const float*, int32_t) const override {}
  void AddEmbedding(int32_t, float*) const override {}
  const float* Vector(int32_t, VectorSlot) const override { return nullptr; }
  const std::array<uint8_t, 32>& checksum() const override { return sum_; }

 private:
  std::array<uint8_t, 32> sum_{};
};

// Re-seals a modified file (new digest), to reach the checks after it.
void Reseal(std::vector<uint8_t>* b) {
  b->resize(b->size() - 32);
  AppendSessionFileDigest(b);
}

TEST_F(SessionFile, RoundTripIsExact) {
  const auto prompt = Concat({1}, Ids(36, 31));  // 2 full pages and a partial one
  const std::vector<uint8_t> blob = {9, 8, 7, 6, 5};
  auto a = Make();
  ASSERT_TRUE(a->Prefill(prompt).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a->Decode(Argmax(a->logits())).ok());
  const std::string path = TempPath("seq.slmkv");
  ASSERT_TRUE(a->SaveSequence(0, path, blob).ok());
  const std::vector<float> saved(a->logits().begin(), a->logits().end());
  std::vector<std::vector<float>> want;
  std::vector<int32_t> want_ids;
  for (int i = 0; i < 20; ++i) {
    want_ids.push_back(Argmax(a->logits()));
    ASSERT_TRUE(a->Decode(want_ids.back()).ok());
    want.emplace_back(a->logits().begin(), a->logits().end());
  }

  for (int32_t threads : {1, 2}) {
    auto b = Make(true, 0, threads);
    std::vector<uint8_t> got;
    Status st = b->RestoreSequence(0, path, &got);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(got, blob);
    EXPECT_EQ(b->position(), 40);
    EXPECT_TRUE(SameBits(b->logits(), saved));
    std::vector<int32_t> toks;
    ASSERT_TRUE(b->Tokens(0, &toks).ok());
    EXPECT_EQ(std::vector<int32_t>(toks.begin(), toks.begin() + 37), prompt);
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(Argmax(b->logits()), want_ids[i]);
      ASSERT_TRUE(b->Decode(want_ids[i]).ok());
      EXPECT_TRUE(SameBits(b->logits(), want[i])) << "step " << i;
    }
    // The restored full pages are published: the prompt is reused.
    auto c = b->NewSequence();
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(b->Prefill(*c, prompt).ok());
    EXPECT_EQ(b->kv_stats().reused_tokens, 36);
  }
  // Into another sequence of a session that already holds other work.
  auto d = Make();
  ASSERT_TRUE(d->Prefill(Concat({1}, Ids(50, 32))).ok());
  auto e = d->NewSequence();
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(d->RestoreSequence(*e, path, nullptr).ok());
  EXPECT_TRUE(SameBits(d->logits(*e), saved));
  ASSERT_TRUE(d->Decode(*e, want_ids[0]).ok());
  EXPECT_TRUE(SameBits(d->logits(*e), want[0]));
}

TEST_F(SessionFile, MismatchedChecksumIsRefused) {
  auto a = Make();
  ASSERT_TRUE(a->Prefill(Concat({1}, Ids(20, 33))).ok());
  const std::vector<uint8_t> bytes = a->SerializeSequence(0, {});
  auto b = Make();
  FakeDeltas other(0x11);
  b->SetDeltas(&other);
  ASSERT_TRUE(b->Prefill(std::vector<int32_t>{1, 2, 3}).ok());
  Status st = b->RestoreSequenceFrom(0, bytes, "x.slmkv", nullptr);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("computed under assembly checksum 0000000000000000..., this "
                              "session has 1111111111111111..."),
            std::string::npos)
      << st.message();
  EXPECT_EQ(b->position(), 3);  // untouched
  // Saved under deltas: refused without them, accepted with them.
  auto bytes2 = b->SerializeSequence(0, {});
  EXPECT_EQ(a->RestoreSequenceFrom(0, bytes2, "y.slmkv", nullptr).code(),
            StatusCode::kInvalidArgument);
  auto c = Make();
  c->SetDeltas(&other);
  EXPECT_TRUE(c->RestoreSequenceFrom(0, bytes2, "y.slmkv", nullptr).ok());
  EXPECT_EQ(c->position(), 3);
}

TEST_F(SessionFile, DamagedFilesAreRefused) {
  auto a = Make();
  ASSERT_TRUE(a->Prefill(Concat({1}, Ids(20, 34))).ok());
  const std::vector<uint8_t> good = a->SerializeSequence(0, std::vector<uint8_t>{1, 2});
  ASSERT_TRUE(ParseSessionFile(good, "good").ok());
  auto b = Make();
  ASSERT_TRUE(b->Prefill(std::vector<int32_t>{1, 2, 3}).ok());
  auto expect = [&](std::vector<uint8_t> bytes, StatusCode code, const std::string& fragment) {
    Status st = b->RestoreSequenceFrom(0, bytes, "f.slmkv", nullptr);
    EXPECT_EQ(st.code(), code) << st.ToString();
    EXPECT_NE(st.message().find(fragment), std::string::npos) << st.message();
    EXPECT_EQ(b->position(), 3);
  };
  // Truncated anywhere.
  for (size_t cut : {size_t{0}, size_t{5}, size_t{60}, size_t{112}, good.size() - 1}) {
    std::vector<uint8_t> t(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    expect(t, StatusCode::kFormatError, cut <= 112 ? "truncated" : "truncated");
  }
  // One flipped bit in the K/V rows.
  std::vector<uint8_t> flip = good;
  flip[112 + 4 * 21 + 100] ^= 0x10;
  expect(flip, StatusCode::kIntegrityError, "does not match the digest");
  // Another model (fingerprint), resealed so the digest passes.
  std::vector<uint8_t> model = good;
  model[16] ^= 1;
  Reseal(&model);
  expect(model, StatusCode::kInvalidArgument, "session file is for another model");
  // Bad magic, version, a ceiling, a token id outside the vocab.
  std::vector<uint8_t> magic = good;
  magic[0] = 'X';
  expect(magic, StatusCode::kFormatError, "not a session file");
  std::vector<uint8_t> version = good;
  version[8] = 2;
  Reseal(&version);
  expect(version, StatusCode::kFormatError, "session file version 2, expected 1");
  std::vector<uint8_t> layers = good;
  layers[80 + 3] = 0x7f;
  Reseal(&layers);
  expect(layers, StatusCode::kFormatError, "n_layers is 2130706437, expected 1..1024");
  std::vector<uint8_t> token = good;
  const int32_t big = 600;
  std::memcpy(token.data() + 112 + 4 * 3, &big, 4);
  Reseal(&token);
  expect(token, StatusCode::kFormatError, "token id 600 at position 3");
  // A context too small for the file.
  auto small = Make(true, 0, 1, 16);
  Status st = small->RestoreSequenceFrom(0, good, "f.slmkv", nullptr);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange) << st.ToString();
  // Missing file.
  EXPECT_FALSE(b->RestoreSequence(0, TempPath("missing.slmkv"), nullptr).ok());
}

TEST_F(SessionFile, FormatIsAsDocumented) {
  auto a = Make();
  ASSERT_TRUE(a->Prefill(std::vector<int32_t>{1, 2, 3}).ok());
  const std::vector<uint8_t> f = a->SerializeSequence(0, std::vector<uint8_t>{0xab});
  // header + 3 ids + 5 layers * 2 * 3 rows * 32 floats + 512 logits + 1 + digest
  EXPECT_EQ(f.size(), size_t{112 + 12 + 5 * 2 * 3 * 32 * 4 + 512 * 4 + 1 + 32});
  EXPECT_EQ(std::memcmp(f.data(), "SLMKVSES", 8), 0);
  EXPECT_EQ(std::memcmp(f.data() + 16, a->model_fingerprint().data(), 32), 0);
  const Digest d = Sha256Of(std::span<const uint8_t>(f.data(), f.size() - 32));
  EXPECT_EQ(std::memcmp(d.data(), f.data() + f.size() - 32, 32), 0);
  auto v = ParseSessionFile(f, "f");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->h.position, 3u);
  EXPECT_TRUE(v->h.has_logits);
  ASSERT_EQ(v->sampler.size(), 1u);
  EXPECT_EQ(v->sampler[0], 0xab);
}

}  // namespace
}  // namespace slm::test

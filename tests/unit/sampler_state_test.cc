// Sampler::SaveState / RestoreState: a restored sampler continues the identical
// stream with the identical penalty window; corrupted or mismatched state is
// refused and leaves the sampler unchanged.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "sampler/sampler.h"

namespace slm {
namespace {

const std::vector<float> kLogits = {0.5f, 2.0f, -1.0f, 1.9f, 0.0f, 2.0f, 1.0f, -3.0f, 1.2f, 0.3f};

SamplerConfig Config(int32_t last_n) {
  SamplerConfig c;
  c.temperature = 1.1f;
  c.top_k = 8;
  c.top_p = 0.95f;
  c.min_p = 0.03f;
  c.repeat_penalty = 1.3f;
  c.presence_penalty = 0.2f;
  c.frequency_penalty = 0.1f;
  c.penalty_last_n = last_n;
  c.seed = 4242;
  c.stream = 2;
  return c;
}

std::unique_ptr<Sampler> Make(SamplerConfig c) {
  auto s = Sampler::Create(10, c);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// n steps of sample + accept.
std::vector<int32_t> Steps(Sampler& s, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(s.Sample(kLogits));
    EXPECT_TRUE(s.Accept(out.back()).ok());
  }
  return out;
}

// FNV-1a 64 as documented in sampler.h, to forge well-formed but wrong states.
void Reseal(std::vector<uint8_t>* b) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i + 8 < b->size(); ++i) {
    h ^= (*b)[i];
    h *= 0x100000001b3ull;
  }
  for (int i = 0; i < 8; ++i) (*b)[b->size() - 8 + i] = static_cast<uint8_t>(h >> (8 * i));
}
void PutU32(std::vector<uint8_t>* b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*b)[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

TEST(SamplerState, RoundTripContinuesTheIdenticalStream) {
  auto a = Make(Config(6));
  Steps(*a, 23);  // the 6-token ring has wrapped several times
  const std::vector<uint8_t> saved = a->SaveState();
  EXPECT_EQ(saved.size(), 56u + 4 * 6 + 8);
  const auto want = Steps(*a, 150);
  // Into a fresh sampler of the same config.
  auto b = Make(Config(6));
  ASSERT_TRUE(b->RestoreState(saved).ok());
  EXPECT_EQ(b->window_size(), 6);
  EXPECT_EQ(Steps(*b, 150), want);
  // Into the original after it moved on: it goes back.
  ASSERT_TRUE(a->RestoreState(saved).ok());
  EXPECT_EQ(Steps(*a, 150), want);
  // Saving a restored sampler gives the same bytes.
  auto c = Make(Config(6));
  ASSERT_TRUE(c->RestoreState(saved).ok());
  EXPECT_EQ(c->SaveState(), saved);
}

TEST(SamplerState, PartialWindowAndGreedyRoundTrip) {
  SamplerConfig g = Config(16);
  g.temperature = 0;  // greedy with penalties: the window is the whole state
  auto a = Make(g);
  Steps(*a, 5);
  const auto saved = a->SaveState();
  EXPECT_EQ(saved.size(), 56u + 4 * 5 + 8);
  const auto want = Steps(*a, 40);
  auto b = Make(g);
  ASSERT_TRUE(b->RestoreState(saved).ok());
  EXPECT_EQ(b->window_size(), 5);
  EXPECT_EQ(Steps(*b, 40), want);
}

TEST(SamplerState, AnotherWindowCapacityKeepsTheNewestTokens) {
  auto a = Make(Config(8));
  for (int32_t id : {1, 2, 3, 4, 5, 6, 7, 7}) ASSERT_TRUE(a->Accept(id).ok());
  auto small = Make(Config(3));
  ASSERT_TRUE(small->RestoreState(a->SaveState()).ok());
  EXPECT_EQ(small->window_size(), 3);
  EXPECT_EQ(small->window_count(6), 1);
  EXPECT_EQ(small->window_count(7), 2);
  EXPECT_EQ(small->window_count(5), 0);
  auto none = Make(Config(0));
  ASSERT_TRUE(none->RestoreState(a->SaveState()).ok());
  EXPECT_EQ(none->window_size(), 0);
}

TEST(SamplerState, EveryFlippedByteIsRefusedAndChangesNothing) {
  auto a = Make(Config(6));
  Steps(*a, 9);
  const auto good = a->SaveState();
  auto b = Make(Config(6));
  Steps(*b, 3);
  const auto before = b->SaveState();
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      auto bad = good;
      bad[i] ^= mask;
      Status st = b->RestoreState(bad);
      ASSERT_FALSE(st.ok()) << "byte " << i << " mask " << int(mask);
      ASSERT_EQ(b->SaveState(), before) << "byte " << i;
    }
  }
  // Truncated, extended, empty.
  EXPECT_EQ(b->RestoreState(std::span<const uint8_t>(good).first(good.size() - 1)).code(),
            StatusCode::kFormatError);
  auto longer = good;
  longer.push_back(0);
  EXPECT_EQ(b->RestoreState(longer).code(), StatusCode::kFormatError);
  Status empty = b->RestoreState({});
  EXPECT_EQ(empty.code(), StatusCode::kFormatError);
  EXPECT_NE(empty.message().find("0 bytes, expected at least 64"), std::string::npos)
      << empty.message();
  // A flipped token byte is caught by the checksum.
  auto flipped = good;
  flipped[56] ^= 1;
  Status sum = b->RestoreState(flipped);
  EXPECT_EQ(sum.code(), StatusCode::kIntegrityError);
  EXPECT_NE(sum.message().find("checksum"), std::string::npos) << sum.message();
  EXPECT_EQ(b->SaveState(), before);
}

TEST(SamplerState, WellFormedButWrongStateIsRefusedWithTheReason) {
  auto a = Make(Config(6));
  Steps(*a, 4);
  const auto good = a->SaveState();
  auto expect = [&](std::vector<uint8_t> bytes, StatusCode code, const char* text) {
    Reseal(&bytes);
    auto s = Make(Config(6));
    Status st = s->RestoreState(bytes);
    EXPECT_EQ(st.code(), code) << st.ToString();
    EXPECT_NE(st.message().find(text), std::string::npos) << st.message();
  };
  auto magic = good;
  magic[0] = 'X';
  expect(magic, StatusCode::kFormatError, "magic");
  auto version = good;
  PutU32(&version, 4, 2);
  expect(version, StatusCode::kFormatError, "version 2, expected 1");
  auto vocab = good;
  PutU32(&vocab, 8, 11);
  expect(vocab, StatusCode::kInvalidArgument, "vocab 11, this sampler's vocab is 10");
  auto fill = good;
  PutU32(&fill, 16, 7);  // more tokens than the capacity of 6
  expect(fill, StatusCode::kFormatError, "window of 7 tokens in a capacity of 6");
  auto id = good;
  PutU32(&id, 56 + 4, 10);
  expect(id, StatusCode::kFormatError, "token 1 = 10 outside the vocab of 10");
  auto zero = good;
  std::memset(zero.data() + 24, 0, 32);
  expect(zero, StatusCode::kFormatError, "all-zero generator state");
  // The forger itself is right: resealing the good bytes changes nothing.
  auto same = good;
  Reseal(&same);
  EXPECT_EQ(same, good);
}

}  // namespace
}  // namespace slm

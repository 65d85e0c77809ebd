// The paged KV cache on stories260K (page = 16 positions, 20 KiB): prefix
// reuse gives the same tokens and logits bits as recomputing, actually shares
// pages, copies the first diverging page (COW) without touching the source,
// evicts least recently released pages, refuses an exhausted budget and an
// over-long prompt without changing anything, and keys pages by the
// assembly checksum.
#include <array>

#include "kv_test_util.h"
#include "runtime/deltas.h"

namespace slm::test {
namespace {

using KvCacheTest = KvFixture;

// A no-op delta set with a given checksum: same numbers as no deltas, but
// another assembly, so no page may be shared across the two.
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

TEST_F(KvCacheTest, PageGeometryAndDefaultBudget) {
  auto s = Make();
  const KvStats st = s->kv_stats();
  EXPECT_EQ(st.page_tokens, 16);
  // 5 layers * 2 (K, V) * 16 positions * kv_dim 32 floats.
  EXPECT_EQ(st.page_bytes, 5 * 2 * 16 * 32 * 4);
  EXPECT_EQ(st.pages_total, 512 / 16);  // n_ctx of one sequence
  EXPECT_EQ(st.pages_free, st.pages_total);
  auto b = Make(true, 1);
  EXPECT_EQ(b->kv_stats().pages_total, (1 << 20) / (5 * 2 * 16 * 32 * 4));
}

TEST_F(KvCacheTest, ReuseGivesTheSameTokensAndLogitsAsRecomputing) {
  const std::vector<int32_t> prompt = Concat({1}, Ids(39, 1));  // 2 full pages + 8
  auto ref = Make(false);
  std::vector<std::vector<float>> want;
  const std::vector<int32_t> want_ids = Run(*ref, 0, prompt, 12, &want);
  EXPECT_EQ(ref->kv_stats().reused_tokens, 0);

  auto s = Make(true);
  std::vector<std::vector<float>> first, second;
  EXPECT_EQ(Run(*s, 0, prompt, 12, &first), want_ids);
  auto seq = s->NewSequence();
  ASSERT_TRUE(seq.ok());
  // Sequence 0 is live at position 52: pages 0-2 full, so the prompt takes
  // pages 0 and 1 by reference and copies 7 rows of page 2 (one token is
  // always computed, for the logits).
  EXPECT_EQ(Run(*s, *seq, prompt, 12, &second), want_ids);
  ASSERT_EQ(first.size(), want.size());
  ASSERT_EQ(second.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(SameBits(first[i], want[i])) << "step " << i;
    EXPECT_TRUE(SameBits(second[i], want[i])) << "step " << i;
  }
  const KvStats st = s->kv_stats();
  EXPECT_EQ(st.prompt_tokens, 80);
  EXPECT_EQ(st.reused_tokens, 39);
  EXPECT_GT(st.prefix_hit_rate, 0.48);
  EXPECT_EQ(st.pages_shared, 2);
  EXPECT_EQ(st.tokens_in_cache, 104);
  // Both sequences hold 4 pages, 2 of them shared: 6 distinct pages.
  EXPECT_EQ(st.pages_used, 6);

  // A finished sequence leaves its full pages cached for the next prompt.
  ASSERT_TRUE(s->FreeSequence(*seq).ok());
  s->Reset();
  EXPECT_EQ(s->kv_stats().pages_used, 0);
  EXPECT_GE(s->kv_stats().pages_cached, 3);
  std::vector<std::vector<float>> third;
  EXPECT_EQ(Run(*s, 0, prompt, 12, &third), want_ids);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(SameBits(third[i], want[i]));
  EXPECT_EQ(s->kv_stats().reused_tokens, 39 + 39);
}

TEST_F(KvCacheTest, DivergingPageIsCopiedAndTheSourceStaysIntact) {
  const std::vector<int32_t> base = Concat({1}, Ids(40, 2));    // pages 0, 1 full; 9 in page 2
  std::vector<int32_t> other(base.begin(), base.begin() + 37);  // shares 5 rows of page 2
  other.push_back(base[37] == 100 ? 101 : 100);
  other.push_back(7);

  auto ref = Make(false);
  std::vector<std::vector<float>> want_a, want_b;
  const auto ids_a = Run(*ref, 0, base, 20, &want_a);
  ref->Reset();
  const auto ids_b = Run(*ref, 0, other, 20, &want_b);

  auto s = Make(true);
  ASSERT_TRUE(s->Prefill(0, base).ok());
  auto b = s->NewSequence();
  ASSERT_TRUE(b.ok());
  std::vector<std::vector<float>> got_b, got_a;
  EXPECT_EQ(Run(*s, *b, other, 20, &got_b), ids_b);
  EXPECT_EQ(s->kv_stats().reused_tokens, 37);  // 32 by reference + 5 copied
  EXPECT_EQ(s->kv_stats().pages_shared, 2);    // page 2 was copied, not shared
  // Sequence 0 continues in its own page 2 after b wrote into its copy.
  ASSERT_TRUE(SameBits(s->logits(0), want_a[0]));
  int32_t next = Argmax(s->logits(0));
  for (size_t i = 1; i < want_a.size(); ++i) {
    ASSERT_TRUE(s->Decode(0, next).ok());
    EXPECT_TRUE(SameBits(s->logits(0), want_a[i])) << "step " << i;
    next = Argmax(s->logits(0));
  }
  for (size_t i = 0; i < want_b.size(); ++i) EXPECT_TRUE(SameBits(got_b[i], want_b[i]));
  std::vector<int32_t> toks;
  ASSERT_TRUE(s->Tokens(*b, &toks).ok());
  EXPECT_EQ(std::vector<int32_t>(toks.begin(), toks.begin() + 39), other);
}

TEST_F(KvCacheTest, LeastRecentlyReleasedPagesAreEvictedFirst) {
  // 1 MiB = 51 pages; each prompt of 161 tokens leaves 10 full pages cached.
  auto s = Make(true, 1);
  auto ref = Make(false);
  const int32_t total = s->kv_stats().pages_total;
  ASSERT_EQ(total, 51);
  std::vector<std::vector<int32_t>> prompts;
  // No BOS: a common first token would be copied from the previous prompt.
  for (uint32_t i = 0; i < 6; ++i) prompts.push_back(Ids(161, 100 + i));
  for (const auto& p : prompts) {
    ASSERT_TRUE(s->Prefill(p).ok());
    s->Reset();
  }
  KvStats st = s->kv_stats();
  EXPECT_GT(st.evictions, 0);
  EXPECT_EQ(st.reused_tokens, 0);
  EXPECT_EQ(st.pages_used, 0);
  EXPECT_EQ(st.pages_cached + st.pages_free, total);
  // The most recent prompt is still cached whole (10 pages by reference);
  // the oldest lost its first page, so nothing of it can be reused.
  const int64_t before = st.reused_tokens;
  ASSERT_TRUE(s->Prefill(prompts[5]).ok());
  EXPECT_EQ(s->kv_stats().reused_tokens - before, 160);
  ASSERT_TRUE(ref->Prefill(prompts[5]).ok());
  EXPECT_TRUE(SameBits(s->logits(), ref->logits()));
  s->Reset();
  ref->Reset();
  ASSERT_TRUE(s->Prefill(prompts[0]).ok());
  EXPECT_EQ(s->kv_stats().reused_tokens - before, 160);
  ASSERT_TRUE(ref->Prefill(prompts[0]).ok());
  EXPECT_TRUE(SameBits(s->logits(), ref->logits()));
}

TEST_F(KvCacheTest, ExhaustedBudgetIsRefusedAndTheSessionStaysUsable) {
  auto s = Make(true, 1);  // 51 pages
  auto ref = Make(false);
  const auto a = Concat({1}, Ids(499, 7));  // 32 pages
  const auto b = Concat({1}, Ids(399, 8));  // 25 pages
  ASSERT_TRUE(s->Prefill(0, a).ok());
  auto seq = s->NewSequence();
  ASSERT_TRUE(seq.ok());
  const KvStats before = s->kv_stats();
  Status st = s->Prefill(*seq, b);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("25 pages needed, 19 free or evictable, of 51 pages"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(s->position(*seq), 0);
  EXPECT_TRUE(s->logits(*seq).empty());
  const KvStats after = s->kv_stats();
  EXPECT_EQ(after.pages_used, before.pages_used);
  EXPECT_EQ(after.pages_free, before.pages_free);
  EXPECT_EQ(after.prompt_tokens, before.prompt_tokens);
  // Sequence 0 continues exactly as a session that never saw the failure.
  ASSERT_TRUE(ref->Prefill(a).ok());
  ASSERT_TRUE(s->Decode(0, 5).ok());
  ASSERT_TRUE(ref->Decode(5).ok());
  EXPECT_TRUE(SameBits(s->logits(0), ref->logits()));
  // A batch that needs a page nobody can give is refused as a whole.
  const std::vector<int32_t> c = Concat({1}, Ids(303, 9));  // 19 pages, then full
  ASSERT_TRUE(s->Prefill(*seq, c).ok());
  const SeqId both[] = {0, *seq};
  const int32_t ids[] = {5, 6};
  const int32_t pos0 = s->position(0), pos1 = s->position(*seq);
  EXPECT_EQ(s->DecodeBatch(both, ids).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s->position(0), pos0);
  EXPECT_EQ(s->position(*seq), pos1);
  // Releasing sequences makes room.
  ASSERT_TRUE(s->FreeSequence(*seq).ok());
  s->Reset();
  auto seq2 = s->NewSequence();
  ASSERT_TRUE(seq2.ok());
  ASSERT_TRUE(s->Prefill(*seq2, b).ok());
  ref->Reset();
  ASSERT_TRUE(ref->Prefill(b).ok());
  EXPECT_TRUE(SameBits(s->logits(*seq2), ref->logits()));
}

TEST_F(KvCacheTest, PromptLongerThanTheContextIsRefused) {
  auto s = Make(true, 0, 1, 64);
  const auto p = Concat({1}, Ids(64, 3));
  Status st = s->Prefill(p);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange);
  EXPECT_NE(st.message().find("prompt of 65 tokens at position 0 exceeds the context of 64"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(s->position(), 0);
  EXPECT_EQ(s->kv_stats().pages_free, 4);
  ASSERT_TRUE(s->Prefill(std::span<const int32_t>(p).first(64)).ok());
  EXPECT_EQ(s->Decode(5).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s->position(), 64);
}

TEST_F(KvCacheTest, PagesAreKeyedByTheAssemblyChecksum) {
  const auto p = Concat({1}, Ids(47, 4));
  FakeDeltas other(0x5a);
  auto s = Make(true);
  ASSERT_TRUE(s->Prefill(p).ok());
  s->Reset();
  s->SetDeltas(&other);
  ASSERT_TRUE(s->Prefill(p).ok());
  EXPECT_EQ(s->kv_stats().reused_tokens, 0);  // cached under the zero checksum only
  s->Reset();
  ASSERT_TRUE(s->Prefill(p).ok());
  EXPECT_EQ(s->kv_stats().reused_tokens, 47);  // now cached under 0x5a too
  s->SetDeltas(nullptr);
  s->Reset();
  ASSERT_TRUE(s->Prefill(p).ok());
  EXPECT_EQ(s->kv_stats().reused_tokens, 47 + 47);
}

TEST_F(KvCacheTest, SequencesAreCheckedAndFreed) {
  auto s = Make();
  EXPECT_EQ(s->FreeSequence(0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Prefill(3, std::vector<int32_t>{1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->position(3), -1);
  auto a = s->NewSequence();
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 1);
  ASSERT_TRUE(s->FreeSequence(*a).ok());
  EXPECT_EQ(s->FreeSequence(*a).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(s->logits(*a).empty());
}

}  // namespace
}  // namespace slm::test

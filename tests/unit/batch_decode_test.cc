// Batched decode on stories260K: several sequences advancing one token each
// in one forward step give the same tokens and logits bits as each sequence
// decoded alone without prefix reuse, with 1 and 2 threads; and neither
// Decode nor DecodeBatch allocates (global operator new is replaced below to
// count heap allocations).
#include <atomic>
#include <cstdlib>
#include <new>

#include "kv_test_util.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_allocs{0};
void* Counted(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) std::abort();  // test binary only; the library never aborts
  return p;
}
}  // namespace

void* operator new(size_t n) { return Counted(n); }
void* operator new[](size_t n) { return Counted(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return Counted(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return Counted(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace slm::test {
namespace {

class BatchDecode : public KvFixture, public ::testing::WithParamInterface<int32_t> {};

std::vector<std::vector<int32_t>> Prompts() {
  const auto shared = Concat({1}, Ids(20, 11));
  // Lengths 15, 16, 33 and 40: page boundaries fall at different steps; the
  // last two share a 21-token prefix with the first (reused in the batch).
  return {Concat({1}, Ids(14, 12)), Concat(shared, Ids(12, 14)), Concat({1}, Ids(15, 13)),
          Concat(shared, Ids(19, 15))};
}

TEST_P(BatchDecode, SameBitsAsEachSequenceAlone) {
  const int32_t threads = GetParam();
  const auto prompts = Prompts();
  constexpr int32_t kSteps = 24;
  auto ref = Make(false, 0, threads);
  std::vector<std::vector<std::vector<float>>> want(prompts.size());
  std::vector<std::vector<int32_t>> want_ids(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    ref->Reset();
    want_ids[i] = Run(*ref, 0, prompts[i], kSteps, &want[i]);
  }

  auto s = Make(true, 0, threads);
  std::vector<SeqId> seqs;
  for (size_t i = 0; i < prompts.size(); ++i) {
    SeqId id = 0;
    if (i > 0) {
      auto n = s->NewSequence();
      ASSERT_TRUE(n.ok());
      id = *n;
    }
    ASSERT_TRUE(s->Prefill(id, prompts[i]).ok());
    EXPECT_TRUE(SameBits(s->logits(id), want[i][0])) << "prompt " << i;
    seqs.push_back(id);
  }
  EXPECT_GT(s->kv_stats().reused_tokens, 0);
  std::vector<int32_t> next(prompts.size());
  for (int32_t step = 0; step < kSteps; ++step) {
    for (size_t i = 0; i < seqs.size(); ++i) next[i] = Argmax(s->logits(seqs[i]));
    for (size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(next[i], want_ids[i][step]);
    ASSERT_TRUE(s->DecodeBatch(seqs, next).ok());
    for (size_t i = 0; i < seqs.size(); ++i) {
      EXPECT_TRUE(SameBits(s->logits(seqs[i]), want[i][step + 1]))
          << "sequence " << i << " step " << step;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, BatchDecode, ::testing::Values(1, 2));

TEST_F(KvFixture, DecodeBatchChecksItsArguments) {
  auto s = Make();
  auto b = s->NewSequence();
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(s->Prefill(0, std::vector<int32_t>{1, 5}).ok());
  const SeqId twice[] = {0, 0};
  const int32_t ids[] = {5, 6};
  EXPECT_EQ(s->DecodeBatch(twice, ids).code(), StatusCode::kInvalidArgument);
  const SeqId seqs[] = {0, *b};
  const int32_t bad[] = {5, 512};
  Status st = s->DecodeBatch(seqs, bad);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("sequence 1"), std::string::npos) << st.message();
  EXPECT_EQ(s->position(0), 2);
  EXPECT_EQ(s->position(*b), 0);
  EXPECT_EQ(s->DecodeBatch(seqs, std::span<const int32_t>(ids, 1)).code(),
            StatusCode::kInvalidArgument);
  const SeqId dead[] = {0, 9};
  EXPECT_EQ(s->DecodeBatch(dead, ids).code(), StatusCode::kInvalidArgument);
  // A fresh sequence may start in a batch.
  ASSERT_TRUE(s->DecodeBatch(seqs, ids).ok());
  EXPECT_EQ(s->position(*b), 1);
}

// A batch's logits stay in the session's batch buffer until they are needed
// elsewhere: a sequence left out of the next batch, or advanced alone, or
// saved, must still see exactly its own last logits.
TEST_F(KvFixture, LogitsOfSequencesLeftOutOfTheNextBatchAreKept) {
  auto s = Make();
  SeqId a = 0, b = 0, c = 0;
  for (SeqId* id : {&b, &c}) {
    auto n = s->NewSequence();
    ASSERT_TRUE(n.ok());
    *id = *n;
  }
  for (SeqId id : {a, b, c}) ASSERT_TRUE(s->Prefill(id, Concat({1}, Ids(5, 20 + id))).ok());
  const SeqId ab[] = {a, b}, bc[] = {b, c};
  const int32_t ids[] = {7, 9};
  ASSERT_TRUE(s->DecodeBatch(ab, ids).ok());
  const std::vector<float> a1(s->logits(a).begin(), s->logits(a).end());
  const std::vector<uint8_t> saved = s->SerializeSequence(a, {});
  ASSERT_TRUE(s->DecodeBatch(bc, ids).ok());  // overwrites the batch rows; a stays
  EXPECT_TRUE(SameBits(s->logits(a), a1));
  const std::vector<float> b2(s->logits(b).begin(), s->logits(b).end());
  ASSERT_TRUE(s->Decode(c, 3).ok());  // a single step does not touch the batch rows
  EXPECT_TRUE(SameBits(s->logits(b), b2));
  EXPECT_TRUE(SameBits(s->logits(a), a1));
  // The file written while a's logits were a batch row holds those logits.
  auto r = s->NewSequence();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(s->RestoreSequenceFrom(*r, saved, "saved", nullptr).ok());
  EXPECT_TRUE(SameBits(s->logits(*r), a1));
  // And the same logits as decoding a alone.
  auto ref = Make();
  ASSERT_TRUE(ref->Prefill(0, Concat({1}, Ids(5, 20))).ok());
  ASSERT_TRUE(ref->Decode(0, 7).ok());
  EXPECT_TRUE(SameBits(ref->logits(0), a1));
}

TEST_F(KvFixture, DecodeAndDecodeBatchDoNotAllocate) {
  auto s = Make(true, 0, 2);
  auto b = s->NewSequence();
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(s->Prefill(0, Concat({1}, Ids(20, 21))).ok());
  ASSERT_TRUE(s->Prefill(*b, Concat({1}, Ids(30, 22))).ok());
  const SeqId seqs[] = {0, *b};
  int32_t ids[2] = {5, 6};
  g_allocs = 0;
  g_counting = true;
  // 40 steps cross page boundaries (new pages, published full pages).
  for (int i = 0; i < 40; ++i) {
    ids[0] = Argmax(s->logits(0));
    ids[1] = Argmax(s->logits(*b));
    if (!s->DecodeBatch(seqs, ids).ok()) break;
    if (!s->Decode(0, Argmax(s->logits(0))).ok()) break;
  }
  g_counting = false;
  EXPECT_EQ(g_allocs.load(), 0);
  EXPECT_EQ(s->position(0), 21 + 80);
  EXPECT_EQ(s->position(*b), 31 + 40);
}

}  // namespace
}  // namespace slm::test

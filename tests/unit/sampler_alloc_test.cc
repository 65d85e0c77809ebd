// No heap allocation per token (issue 6, DESIGN.md principle 7): this test
// binary replaces the global operator new / delete with counting versions and
// runs a 64-token generation on stories260K, after a warm-up, with every
// sampler step on (penalties, top-k, top-p, min-p) and stop strings checked
// on the decoded text. Expected count: 0. The session's Prefill / Decode and
// the sampler are also counted on their own, so a failure names the culprit.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "import/llama2c.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "test_util.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_allocs{0};

void* Allocate(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(n);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}
void* AllocateOrThrow(std::size_t n, std::size_t align) {
  void* p = Allocate(n, align);
  if (p == nullptr) std::abort();  // -fno-exceptions: no bad_alloc
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return AllocateOrThrow(n, 0); }
void* operator new[](std::size_t n) { return AllocateOrThrow(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return Allocate(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return Allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  return AllocateOrThrow(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return AllocateOrThrow(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return Allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return Allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace slm {
namespace {

// Counts allocations on every thread while alive (no gtest macros inside).
class Counting {
 public:
  Counting() {
    g_allocs.store(0);
    g_counting.store(true);
  }
  ~Counting() { g_counting.store(false); }
  int64_t Stop() {
    g_counting.store(false);
    return g_allocs.load();
  }
};

TEST(AllocCounter, CountsWhatItShould) {
  Counting c;
  auto* p = new int(5);
  std::vector<float> v(100);
  const int64_t n = c.Stop();
  delete p;
  EXPECT_EQ(n, 2);
  EXPECT_EQ(v.size(), 100u);
}

class Alloc : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string model = test::ModelPath("stories260K.bin");
    const std::string tok = test::ModelPath("tok512.bin");
    ASSERT_FALSE(model.empty() || tok.empty());
    auto b = ImportLlama2c(model, "");
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    bundle_ = std::move(b).value();
    auto m = Model::Create(bundle_.config, bundle_.tensors);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
    auto d = LoadTokenizerFile(tok);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    auto t = Tokenizer::Create(std::move(d).value());
    ASSERT_TRUE(t.ok());
    tok_ = std::move(t).value();
    auto s = Session::Create(*model_);
    ASSERT_TRUE(s.ok());
    session_ = std::move(s).value();
  }
  GenerateOptions Options() const {
    GenerateOptions o;
    o.sampling.temperature = 0.9f;
    o.sampling.top_k = 40;
    o.sampling.top_p = 0.95f;
    o.sampling.min_p = 0.02f;
    o.sampling.repeat_penalty = 1.2f;
    o.sampling.presence_penalty = 0.1f;
    o.sampling.frequency_penalty = 0.05f;
    o.sampling.penalty_last_n = 64;
    o.sampling.seed = 12345;
    o.max_new_tokens = 64;
    o.eos_id = -1;
    // "e." and "the" are partial matches all the time (held back, then
    // released); the first never occurs in full.
    o.stop_strings = {"e.!", "the queen of zanzibar"};
    o.tokenizer = tok_.get();
    return o;
  }
  ModelBundle bundle_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tok_;
  std::unique_ptr<Session> session_;
};

TEST_F(Alloc, GeneratorRunOf64TokensAllocatesNothingAfterWarmUp) {
  auto g = Generator::Create(512, Options());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Generator& gen = **g;
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
  std::vector<int32_t> ids;
  ids.reserve(256);
  std::string text;
  text.reserve(4096);
  const TokenCallback on_token = [&](int32_t id) {
    ids.push_back(id);
    return true;
  };
  const TextCallback on_text = [&](std::string_view t) { text.append(t); };
  // Warm-up: first-use work anywhere (kernel dispatch, pools) happens here.
  auto warm = gen.Run(*session_, prompt, on_token, on_text);
  ASSERT_TRUE(warm.ok()) << warm.status().ToString();
  ASSERT_EQ(warm->generated_tokens, 64);
  const std::vector<int32_t> warm_ids = ids;
  session_->Reset();
  gen.sampler().Reset();
  ids.clear();
  text.clear();

  int64_t allocs = 0;
  StatusOr<GenerateStats> st = InvalidArgument("not run");
  {
    Counting c;
    st = gen.Run(*session_, prompt, on_token, on_text);
    allocs = c.Stop();
  }
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->generated_tokens, 64);
  EXPECT_EQ(st->stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(ids, warm_ids);  // and the replay is exact
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(allocs, 0) << "heap allocations during a 64-token Generator::Run";
}

TEST_F(Alloc, LegacyGenerateAllocatesNothingAfterWarmUp) {
  SamplerConfig c = Options().sampling;
  auto s = Sampler::Create(512, c);
  ASSERT_TRUE(s.ok());
  const std::vector<int32_t> prompt = {1};
  int n = 0;
  const std::function<bool(int32_t)> on_token = [&](int32_t) { return ++n > 0; };
  ASSERT_TRUE(Generate(*session_, **s, prompt, 64, -1, on_token).ok());
  session_->Reset();
  (*s)->Reset();
  int64_t allocs = 0;
  {
    Counting count;
    auto st = Generate(*session_, **s, prompt, 64, -1, on_token);
    allocs = count.Stop();
    ASSERT_TRUE(st.ok());
  }
  EXPECT_EQ(n, 128);
  EXPECT_EQ(allocs, 0);
}

// The parts on their own, so a failure above says which call allocates.
TEST_F(Alloc, SessionPrefillAndDecodeAllocateNothing) {
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 309, 417};
  ASSERT_TRUE(session_->Prefill(prompt).ok());  // warm-up
  ASSERT_TRUE(session_->Decode(5).ok());
  session_->Reset();
  int64_t prefill = 0, decode = 0;
  bool ok = true;
  {
    Counting c;
    ok = session_->Prefill(prompt).ok();
    prefill = c.Stop();
  }
  ASSERT_TRUE(ok);
  {
    Counting c;
    for (int i = 0; i < 64 && ok; ++i) ok = session_->Decode(i + 3).ok();
    decode = c.Stop();
  }
  ASSERT_TRUE(ok);
  EXPECT_EQ(prefill, 0) << "Session::Prefill allocates";
  EXPECT_EQ(decode, 0) << "Session::Decode allocates";
}

TEST_F(Alloc, SamplerSampleAndAcceptAllocateNothing) {
  auto s = Sampler::Create(512, Options().sampling);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(session_->Prefill(std::vector<int32_t>{1, 403}).ok());
  const std::span<const float> logits = session_->logits();
  std::vector<float> row(logits.begin(), logits.end());
  int64_t sum = 0, allocs = 0;
  {
    Counting c;
    for (int i = 0; i < 1000; ++i) {
      const int32_t id = (*s)->Sample(logits);
      sum += id;
      if (!(*s)->Accept(id).ok()) sum = -1;
      (*s)->ApplyPenalties(row);
    }
    allocs = c.Stop();
  }
  EXPECT_GT(sum, 0);
  EXPECT_EQ(allocs, 0);
}

TEST_F(Alloc, StopMatcherFeedAllocatesNothing) {
  auto m = StopMatcher::Create(*tok_, {"e.!", "Lily!"});
  ASSERT_TRUE(m.ok());
  const std::string story =
      "Once upon a time, there was a little girl named Lily. She loved to play outside.";
  auto ids = tok_->Encode(story, false);
  ASSERT_TRUE(ids.ok());
  size_t bytes = 0;
  int64_t allocs = 0;
  {
    Counting c;
    for (int rep = 0; rep < 20; ++rep) {
      (*m)->Reset();
      for (int32_t id : *ids) bytes += (*m)->Feed(id).size();
      bytes += (*m)->Flush().size();
    }
    allocs = c.Stop();
  }
  EXPECT_EQ(bytes, 20 * story.size());  // all released (nothing matched)
  EXPECT_EQ(allocs, 0);
}

}  // namespace
}  // namespace slm

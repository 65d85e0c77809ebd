// The sampler chain step by step (sampler/sampler.h), with hand-computed
// expectations: penalty arithmetic and its window, min-p cutoff, top-k / top-p
// interplay, ties, the draw itself, the per-sequence streams (known answers
// from tests/golden/stream_seed_vectors.py) and the new config validation.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "base/prng.h"
#include "sampler/sampler.h"

namespace slm {
namespace {

std::unique_ptr<Sampler> Make(int32_t vocab, SamplerConfig c) {
  auto s = Sampler::Create(vocab, c);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

SamplerConfig Penalties(float rep, float freq, float pres, int32_t last_n) {
  SamplerConfig c;
  c.repeat_penalty = rep;
  c.frequency_penalty = freq;
  c.presence_penalty = pres;
  c.penalty_last_n = last_n;
  return c;
}

std::set<int32_t> Support(Sampler& s, const std::vector<float>& l, int n) {
  std::set<int32_t> seen;
  for (int i = 0; i < n; ++i) seen.insert(s.Sample(l));
  return seen;
}

// --- Step 0: penalties -------------------------------------------------------

TEST(SamplerPenalties, ArithmeticMatchesLlamaCpp) {
  // repeat 2, frequency 0.25, presence 0.5; window {0, 0, 2, 3}:
  //   id 0 (count 2, logit 2 > 0):  2 / 2 = 1;   1 - (2 * 0.25 + 0.5) = 0
  //   id 2 (count 1, logit -1 <= 0): -1 * 2 = -2; -2 - (0.25 + 0.5) = -2.75
  //   id 3 (count 1, logit 0 <= 0):  0 * 2 = 0;   0 - 0.75 = -0.75
  //   ids 1 and 4 are not in the window: unchanged.
  auto s = Make(5, Penalties(2.0f, 0.25f, 0.5f, 8));
  for (int32_t id : {0, 0, 2, 3}) ASSERT_TRUE(s->Accept(id).ok());
  std::vector<float> l = {2.0f, 1.0f, -1.0f, 0.0f, 4.0f};
  s->ApplyPenalties(l);
  EXPECT_EQ(l, (std::vector<float>{0.0f, 1.0f, -2.75f, -0.75f, 4.0f}));
  // Applying is not accumulating: a fresh row gets the same result.
  std::vector<float> again = {2.0f, 1.0f, -1.0f, 0.0f, 4.0f};
  s->ApplyPenalties(again);
  EXPECT_EQ(again, l);
}

TEST(SamplerPenalties, EachKindAlone) {
  const std::vector<float> base = {3.0f, -3.0f, 1.0f};
  {
    auto s = Make(3, Penalties(1.5f, 0, 0, 4));  // repeat only: 3 / 1.5 = 2, -3 * 1.5 = -4.5
    for (int32_t id : {0, 1, 1}) ASSERT_TRUE(s->Accept(id).ok());
    std::vector<float> l = base;
    s->ApplyPenalties(l);
    EXPECT_EQ(l, (std::vector<float>{2.0f, -4.5f, 1.0f}));
  }
  {
    auto s = Make(3, Penalties(1, 0, 0.5f, 4));  // presence: once per distinct id
    for (int32_t id : {0, 1, 1}) ASSERT_TRUE(s->Accept(id).ok());
    std::vector<float> l = base;
    s->ApplyPenalties(l);
    EXPECT_EQ(l, (std::vector<float>{2.5f, -3.5f, 1.0f}));
  }
  {
    auto s = Make(3, Penalties(1, 0.5f, 0, 4));  // frequency: count x 0.5
    for (int32_t id : {0, 1, 1}) ASSERT_TRUE(s->Accept(id).ok());
    std::vector<float> l = base;
    s->ApplyPenalties(l);
    EXPECT_EQ(l, (std::vector<float>{2.5f, -4.0f, 1.0f}));
  }
  {
    // Negative presence / frequency reward repetition (llama.cpp allows it).
    auto s = Make(3, Penalties(1, -0.5f, 0, 4));
    ASSERT_TRUE(s->Accept(2).ok());
    std::vector<float> l = base;
    s->ApplyPenalties(l);
    EXPECT_EQ(l, (std::vector<float>{3.0f, -3.0f, 1.5f}));
  }
}

TEST(SamplerPenalties, WindowKeepsTheLastNAcceptedTokens) {
  auto s = Make(8, Penalties(1, 1.0f, 0, 3));
  for (int32_t id : {5, 5, 6, 7}) ASSERT_TRUE(s->Accept(id).ok());
  // The first 5 dropped out: counts 5:1, 6:1, 7:1.
  EXPECT_EQ(s->window_size(), 3);
  EXPECT_EQ(s->window_count(5), 1);
  EXPECT_EQ(s->window_count(6), 1);
  EXPECT_EQ(s->window_count(7), 1);
  std::vector<float> l(8, 0.0f);
  s->ApplyPenalties(l);
  EXPECT_EQ(l, (std::vector<float>{0, 0, 0, 0, 0, -1, -1, -1}));
  for (int32_t id : {1, 1, 1}) ASSERT_TRUE(s->Accept(id).ok());
  EXPECT_EQ(s->window_count(1), 3);
  EXPECT_EQ(s->window_count(5) + s->window_count(6) + s->window_count(7), 0);
  // Reseed starts a fresh generation: empty window.
  s->Reseed(3);
  EXPECT_EQ(s->window_size(), 0);
  EXPECT_EQ(s->window_count(1), 0);
  std::vector<float> z(8, 0.0f);
  s->ApplyPenalties(z);
  EXPECT_EQ(z, std::vector<float>(8, 0.0f));
}

TEST(SamplerPenalties, OffWhenNeutralOrNoWindow) {
  auto neutral = Make(4, {});  // defaults: repeat 1, presence 0, frequency 0
  ASSERT_TRUE(neutral->Accept(1).ok());
  EXPECT_EQ(neutral->window_size(), 1);  // tracked, but no effect
  std::vector<float> l = {1, 2, 3, 4};
  neutral->ApplyPenalties(l);
  EXPECT_EQ(l, (std::vector<float>{1, 2, 3, 4}));
  auto no_window = Make(4, Penalties(2.0f, 1, 1, 0));
  ASSERT_TRUE(no_window->Accept(1).ok());
  EXPECT_EQ(no_window->window_size(), 0);
  no_window->ApplyPenalties(l);
  EXPECT_EQ(l, (std::vector<float>{1, 2, 3, 4}));
}

TEST(SamplerPenalties, ApplyBeforeGreedyAndIgnoreIdsBeyondTheRow) {
  SamplerConfig c = Penalties(1.1f, 0, 0, 4);  // greedy: temperature 0
  auto s = Make(3, c);
  const std::vector<float> l = {2.0f, 1.9f, 0.0f};
  EXPECT_EQ(s->Sample(l), 0);
  ASSERT_TRUE(s->Accept(0).ok());
  EXPECT_EQ(s->Sample(l), 1);  // 2 / 1.1 = 1.818 < 1.9
  // A row shorter than the vocab: window ids beyond it are skipped.
  auto t = Make(8, Penalties(1, 1.0f, 0, 4));
  ASSERT_TRUE(t->Accept(6).ok());
  ASSERT_TRUE(t->Accept(1).ok());
  std::vector<float> shortrow = {0, 0, 0};
  t->ApplyPenalties(shortrow);
  EXPECT_EQ(shortrow, (std::vector<float>{0, -1, 0}));
  // NaN stays NaN and never wins.
  std::vector<float> with_nan = {NAN, 1.0f, 0.5f};
  auto u = Make(3, Penalties(2.0f, 0, 0, 4));
  ASSERT_TRUE(u->Accept(0).ok());
  ASSERT_TRUE(u->Accept(1).ok());
  EXPECT_EQ(u->Sample(with_nan), 1);  // id 1: 1 / 2 = 0.5 ties id 2; the lower id wins
}

TEST(SamplerPenalties, AcceptRefusesIdsOutsideTheVocab) {
  auto s = Make(4, Penalties(1.2f, 0, 0, 4));
  Status st = s->Accept(4);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("token id 4"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("vocab of 4"), std::string::npos) << st.message();
  EXPECT_EQ(s->Accept(-1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->window_size(), 0);
}

// --- Steps 2, 4, 5: top-k, top-p, min-p --------------------------------------

TEST(SamplerFilters, MinPCutsRelativeToTheBestToken) {
  // p / p_best = exp(l - 0) = 1, 0.6065, 0.3679, 0.0498.
  const std::vector<float> l = {0.0f, -0.5f, -1.0f, -3.0f};
  SamplerConfig c;
  c.temperature = 1;
  c.seed = 5;
  c.min_p = 0.4f;
  auto s = Make(4, c);
  EXPECT_EQ(Support(*s, l, 4000), (std::set<int32_t>{0, 1}));
  c.min_p = 0.36f;
  auto t = Make(4, c);
  EXPECT_EQ(Support(*t, l, 4000), (std::set<int32_t>{0, 1, 2}));
  c.min_p = 0.04f;
  auto u = Make(4, c);
  EXPECT_EQ(Support(*u, l, 20000), (std::set<int32_t>{0, 1, 2, 3}));
  // The boundary is inclusive: min_p 1 keeps exactly the ties of the best.
  c.min_p = 1.0f;
  auto v = Make(4, c);
  EXPECT_EQ(Support(*v, {1.0f, 1.0f, 0.999f, 1.0f}, 2000), (std::set<int32_t>{0, 1, 3}));
}

TEST(SamplerFilters, TopPIsRelativeToTheTopKSurvivors) {
  // logits 3, 2, 1, 0 -> p = 1, 0.3679, 0.1353, 0.0498 (sum 1.5530).
  //   top_p 0.7 alone: target 1.0871 -> keeps ids 0, 1.
  //   top_k 2 first: sum 1.3679, target 0.9575 -> id 0 alone reaches it.
  const std::vector<float> l = {3, 2, 1, 0};
  SamplerConfig c;
  c.temperature = 1;
  c.seed = 9;
  c.top_p = 0.7f;
  auto p = Make(4, c);
  EXPECT_EQ(Support(*p, l, 4000), (std::set<int32_t>{0, 1}));
  c.top_k = 2;
  auto kp = Make(4, c);
  EXPECT_EQ(Support(*kp, l, 4000), (std::set<int32_t>{0}));
  // top_k 3 alone: ids 0-2; with min_p 0.3 on top: 0, 1.
  SamplerConfig k3;
  k3.temperature = 1;
  k3.top_k = 3;
  auto k = Make(4, k3);
  EXPECT_EQ(Support(*k, l, 20000), (std::set<int32_t>{0, 1, 2}));
  k3.min_p = 0.3f;
  auto km = Make(4, k3);
  EXPECT_EQ(Support(*km, l, 4000), (std::set<int32_t>{0, 1}));
}

TEST(SamplerFilters, TemperatureComesBeforeTopPAndMinP) {
  // At temperature 0.5 the ratios square: p = 1, 0.1353, 0.0183, 0.0025, so
  // min_p 0.3 keeps id 0 alone (it kept 0, 1 at temperature 1).
  SamplerConfig c;
  c.temperature = 0.5f;
  c.min_p = 0.3f;
  auto s = Make(4, c);
  EXPECT_EQ(Support(*s, {3, 2, 1, 0}, 4000), (std::set<int32_t>{0}));
}

TEST(SamplerFilters, MinPShortcutDrawsWhatTheFullChainDraws) {
  // With top_p 1 the sampler drops min-p's losers before sorting. top_p just
  // below 1 takes the full path (sort everything, cut at top_p, then min-p);
  // its cut only removes a tail far below any min_p here, so both must draw
  // the same ids bit for bit.
  const int32_t v = 3000;
  Prng rows(17);
  std::vector<float> l(v);
  int compared = 0;
  for (float min_p : {0.01f, 0.05f, 0.3f, 1.0f}) {
    for (int32_t k : {0, 7, 50}) {
      for (float t : {0.4f, 1.0f, 2.0f}) {
        SamplerConfig c;
        c.temperature = t;
        c.top_k = k;
        c.min_p = min_p;
        c.seed = 99;
        c.repeat_penalty = 1.3f;
        SamplerConfig full = c;
        full.top_p = std::nextafter(1.0f, 0.0f);
        auto a = Make(v, c), b = Make(v, full);
        for (int i = 0; i < 40; ++i) {
          for (float& x : l) x = rows.NextFloat() * 10.0f - 5.0f;
          l[3] = l[11];  // a tie
          l[20] = NAN;
          const int32_t x = a->Sample(l), y = b->Sample(l);
          ASSERT_EQ(x, y) << "min_p " << min_p << " top_k " << k << " T " << t << " row " << i;
          ASSERT_TRUE(a->Accept(x).ok() && b->Accept(y).ok());
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, 4 * 3 * 3 * 40);
}

TEST(SamplerFilters, TiesRankTheLowestIdFirst) {
  SamplerConfig c;
  c.temperature = 1;
  c.top_k = 1;
  auto s = Make(4, c);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(s->Sample(std::vector<float>{1, 2, 2, 0}), 1);
  c.top_k = 0;
  c.min_p = 1;
  auto t = Make(4, c);
  EXPECT_EQ(Support(*t, {0, 5, 1, 5}, 2000), (std::set<int32_t>{1, 3}));
}

// --- Step 6: the draw, and the streams ---------------------------------------

TEST(SamplerDraw, EqualWeightsPickFloorOfFourU) {
  // Four equal logits: p = 1 each, sum 4, r = 4u exactly (u has 24 bits), and
  // the walk returns floor(4u).
  for (uint64_t stream : {0ull, 1ull, 5ull}) {
    for (bool sorted : {false, true}) {
      SamplerConfig c;
      c.temperature = 1;
      c.seed = 77;
      c.stream = stream;
      c.top_k = sorted ? 4 : 0;  // sorted candidates; all tie, so id order again
      auto s = Make(4, c);
      Prng ref(StreamSeed(77, stream));
      for (int i = 0; i < 200; ++i) {
        const int32_t want = static_cast<int32_t>(ref.NextFloat() * 4.0f);
        ASSERT_EQ(s->Sample(std::vector<float>{0, 0, 0, 0}), want)
            << "draw " << i << " stream " << stream;
      }
    }
  }
}

struct StreamVector {
  uint64_t seed;
  uint64_t stream;
  uint64_t stream_seed;
  uint64_t first[2];  // xoshiro256** outputs
};

TEST(SamplerDraw, StreamSeedKnownAnswers) {
  // tests/golden/stream_seed_vectors.py
  const StreamVector kVectors[] = {
      {0x0ull, 1, 0x5e41ab087439611eull, {0x6082e9993631e7d5ull, 0xe9acc0d447272233ull}},
      {0x0ull, 2, 0x64684c4f0fd784b4ull, {0x1bde1ccbc21a3e4full, 0x54f2683469c9496eull}},
      {0x2aull, 1, 0x7eb3b394ac9efc29ull, {0xecc0ac6aa2cf50c3ull, 0xdd9aaea092b2b264ull}},
      {0x2aull, 7, 0x6eab8625df268fbcull, {0x03edac21209632e8ull, 0x4077bb3ae0496090ull}},
      {0xdeadbeefcafef00dull,
       3,
       0x7592d1e58b8ba114ull,
       {0x92d2e8589b4e9bcaull, 0x1bb549d5aaadbd32ull}},
  };
  for (const StreamVector& v : kVectors) {
    EXPECT_EQ(StreamSeed(v.seed, v.stream), v.stream_seed) << v.seed << "/" << v.stream;
    Prng p(StreamSeed(v.seed, v.stream));
    EXPECT_EQ(p.Next(), v.first[0]);
    EXPECT_EQ(p.Next(), v.first[1]);
  }
  // Stream 0 is the seed itself: today's single stream.
  EXPECT_EQ(StreamSeed(0x2a, 0), 0x2aull);
}

const std::vector<float> kLogits = {0.5f, 2.0f, -1.0f, 1.9f, 0.0f, 2.0f, 1.0f, -3.0f};

SamplerConfig Full(uint64_t seed, uint64_t stream) {
  SamplerConfig c;
  c.temperature = 1.3f;
  c.top_k = 6;
  c.top_p = 0.97f;
  c.min_p = 0.02f;
  c.repeat_penalty = 1.2f;
  c.presence_penalty = 0.1f;
  c.frequency_penalty = 0.05f;
  c.penalty_last_n = 5;
  c.seed = seed;
  c.stream = stream;
  return c;
}

TEST(SamplerDraw, PerSequenceStreamsDoNotDependOnSamplingOrder) {
  constexpr int kSeqs = 4, kSteps = 60;
  // Each sequence samples, then accepts its own token (penalties on).
  auto run = [&](int order) {
    std::vector<std::unique_ptr<Sampler>> s;
    for (int q = 0; q < kSeqs; ++q) s.push_back(Make(8, Full(2024, q)));
    std::vector<std::vector<int32_t>> out(kSeqs);
    auto step = [&](int q) {
      const int32_t id = s[q]->Sample(kLogits);
      EXPECT_TRUE(s[q]->Accept(id).ok());
      out[q].push_back(id);
    };
    if (order == 0) {  // round robin
      for (int i = 0; i < kSteps; ++i)
        for (int q = 0; q < kSeqs; ++q) step(q);
    } else if (order == 1) {  // round robin, reversed
      for (int i = 0; i < kSteps; ++i)
        for (int q = kSeqs - 1; q >= 0; --q) step(q);
    } else {  // one sequence after another, last first
      for (int q = kSeqs - 1; q >= 0; --q)
        for (int i = 0; i < kSteps; ++i) step(q);
    }
    return out;
  };
  const auto a = run(0);
  EXPECT_EQ(run(1), a);
  EXPECT_EQ(run(2), a);
  // Alone (a batch of one) equals in a batch; streams differ from each other.
  for (int q = 0; q < kSeqs; ++q) {
    auto alone = Make(8, Full(2024, q));
    std::vector<int32_t> ids;
    for (int i = 0; i < kSteps; ++i) {
      ids.push_back(alone->Sample(kLogits));
      ASSERT_TRUE(alone->Accept(ids.back()).ok());
    }
    EXPECT_EQ(ids, a[q]) << "sequence " << q;
    for (int r = 0; r < q; ++r) EXPECT_NE(a[q], a[r]) << q << " vs " << r;
  }
}

TEST(SamplerDraw, SeededReplayWithEveryStepOn) {
  auto draw = [](uint64_t seed) {
    auto s = Make(8, Full(seed, 0));
    std::vector<int32_t> ids;
    for (int i = 0; i < 200; ++i) {
      ids.push_back(s->Sample(kLogits));
      EXPECT_TRUE(s->Accept(ids.back()).ok());
    }
    return ids;
  };
  EXPECT_EQ(draw(11), draw(11));
  EXPECT_NE(draw(11), draw(12));
  // Reset replays from the start (stream and window).
  auto s = Make(8, Full(11, 0));
  std::vector<int32_t> first, second;
  for (int i = 0; i < 50; ++i) {
    first.push_back(s->Sample(kLogits));
    ASSERT_TRUE(s->Accept(first.back()).ok());
  }
  s->Reset();
  for (int i = 0; i < 50; ++i) {
    second.push_back(s->Sample(kLogits));
    ASSERT_TRUE(s->Accept(second.back()).ok());
  }
  EXPECT_EQ(first, second);
}

// --- Validation --------------------------------------------------------------

TEST(SamplerConfigCheck, NewFieldsValidatedByName) {
  auto expect_bad = [](SamplerConfig c, const char* field) {
    auto s = Sampler::Create(8, c);
    ASSERT_FALSE(s.ok()) << field;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(field), std::string::npos) << s.status().message();
  };
  SamplerConfig c;
  c.min_p = -0.1f;
  expect_bad(c, "min_p");
  c.min_p = 1.5f;
  expect_bad(c, "min_p");
  c.min_p = NAN;
  expect_bad(c, "min_p");
  c = {};
  c.repeat_penalty = 0;
  expect_bad(c, "repeat_penalty");
  c.repeat_penalty = INFINITY;
  expect_bad(c, "repeat_penalty");
  c = {};
  c.presence_penalty = NAN;
  expect_bad(c, "presence_penalty");
  c = {};
  c.frequency_penalty = -INFINITY;
  expect_bad(c, "frequency_penalty");
  c = {};
  c.penalty_last_n = -1;
  expect_bad(c, "penalty_last_n");
  c.penalty_last_n = Sampler::kMaxPenaltyWindow + 1;
  expect_bad(c, "penalty_last_n");
  EXPECT_TRUE(Sampler::Create(8, Full(1, 3)).ok());
}

}  // namespace
}  // namespace slm

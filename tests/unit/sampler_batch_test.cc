// The sampler with the multi-sequence session (runtime/session.h) on
// stories260K: sequences advanced together by DecodeBatch, each with its own
// sampler stream, draw exactly what each draws alone (in any batch order);
// and a generation saved to a session file with the sampler state resumes
// into the identical continuation.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "import/llama2c.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "test_util.h"

namespace slm {
namespace {

SamplerConfig Chain(uint64_t stream) {
  SamplerConfig c;
  c.temperature = 0.9f;
  c.top_k = 40;
  c.top_p = 0.95f;
  c.min_p = 0.04f;
  c.repeat_penalty = 1.25f;
  c.presence_penalty = 0.2f;
  c.frequency_penalty = 0.1f;
  c.penalty_last_n = 24;
  c.seed = 555;
  c.stream = stream;
  return c;
}

const std::vector<std::vector<int32_t>> kPrompts = {
    {1, 403, 407}, {1, 403, 407, 261, 378}, {1, 289}, {1, 429, 417}, {1, 403}};
constexpr int kTokens = 24;

class Batch : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = test::ModelPath("stories260K.bin");
    ASSERT_FALSE(path.empty());
    auto b = ImportLlama2c(path, "");
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    bundle_ = std::move(b).value();
    auto m = Model::Create(bundle_.config, bundle_.tensors);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
  }
  std::unique_ptr<Session> NewSession() {
    auto s = Session::Create(*model_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<Sampler> NewSampler(SamplerConfig c) {
    auto s = Sampler::Create(512, c);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // Sequence i alone: a fresh session and the Generator loop.
  std::vector<int32_t> Alone(size_t i) {
    auto s = NewSession();
    GenerateOptions o;
    o.sampling = Chain(i);
    o.max_new_tokens = kTokens;
    auto g = Generator::Create(512, o);
    EXPECT_TRUE(g.ok());
    std::vector<int32_t> ids;
    auto st = (*g)->Run(*s, kPrompts[i], [&](int32_t id) {
      ids.push_back(id);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return ids;
  }
  // All sequences in one session, one DecodeBatch per step. `reversed`
  // samples and batches the sequences in reverse order.
  std::vector<std::vector<int32_t>> Together(bool reversed) {
    auto s = NewSession();
    const size_t n = kPrompts.size();
    std::vector<SeqId> seqs = {0};
    for (size_t i = 1; i < n; ++i) {
      auto q = s->NewSequence();
      EXPECT_TRUE(q.ok()) << q.status().ToString();
      seqs.push_back(q.ok() ? *q : 0);
    }
    std::vector<std::unique_ptr<Sampler>> samplers;
    for (size_t i = 0; i < n; ++i) {
      samplers.push_back(NewSampler(Chain(i)));
      EXPECT_TRUE(s->Prefill(seqs[i], kPrompts[i]).ok());
      for (int32_t id : kPrompts[i]) EXPECT_TRUE(samplers[i]->Accept(id).ok());
    }
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = reversed ? n - 1 - i : i;
    std::vector<std::vector<int32_t>> out(n);
    for (int t = 0; t < kTokens; ++t) {
      std::vector<SeqId> batch_seqs;
      std::vector<int32_t> batch_ids;
      for (size_t i : order) {
        const int32_t id = samplers[i]->Sample(s->logits(seqs[i]));
        EXPECT_TRUE(samplers[i]->Accept(id).ok());
        out[i].push_back(id);
        batch_seqs.push_back(seqs[i]);
        batch_ids.push_back(id);
      }
      if (t + 1 < kTokens) {
        Status st = s->DecodeBatch(batch_seqs, batch_ids);
        EXPECT_TRUE(st.ok()) << st.ToString();
        if (!st.ok()) break;
      }
    }
    return out;
  }
  ModelBundle bundle_;
  std::unique_ptr<Model> model_;
};

TEST_F(Batch, BatchedSequencesDrawWhatEachDrawsAlone) {
  const auto together = Together(false);
  ASSERT_EQ(together.size(), kPrompts.size());
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    EXPECT_EQ(together[i], Alone(i)) << "sequence " << i;
  }
  EXPECT_EQ(Together(true), together);
  // Streams differ: prompts 0 and 4 start alike, yet their draws do not.
  EXPECT_NE(together[0], together[4]);
}

TEST_F(Batch, SessionFileWithSamplerStateResumesTheIdenticalContinuation) {
  const std::vector<int32_t> prompt = {1, 403, 407, 261};
  GenerateOptions first_opts;
  first_opts.max_new_tokens = 20;
  GenerateOptions cont_opts = first_opts;
  cont_opts.accept_prompt = false;  // the resumed-from token was accepted already
  auto first = Generator::Create(512, first_opts);
  auto cont = Generator::Create(512, cont_opts);
  ASSERT_TRUE(first.ok() && cont.ok());
  auto collect = [](std::vector<int32_t>* out) {
    return [out](int32_t id) {
      out->push_back(id);
      return true;
    };
  };

  // Reference: 40 tokens in one run.
  std::vector<int32_t> whole;
  {
    auto s = NewSession();
    GenerateOptions o = first_opts;
    o.max_new_tokens = 40;
    auto g = Generator::Create(512, o);
    ASSERT_TRUE(g.ok());
    auto sampler = NewSampler(Chain(2));
    ASSERT_TRUE((*g)->Run(*s, *sampler, prompt, collect(&whole)).ok());
    ASSERT_EQ(whole.size(), 40u);
  }
  // 20 tokens, save (the last token was sampled but not run), restore into a
  // new session and sampler, continue from the last token.
  const std::string path = test::TempPath("sampler_resume.slmsess");
  std::vector<int32_t> part;
  {
    auto s = NewSession();
    auto sampler = NewSampler(Chain(2));
    ASSERT_TRUE((*first)->Run(*s, *sampler, prompt, collect(&part)).ok());
    ASSERT_EQ(part.size(), 20u);
    Status st = s->SaveSequence(0, path, sampler->SaveState());
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  auto s = NewSession();
  auto sampler = NewSampler(Chain(2));
  std::vector<uint8_t> blob;
  Status st = s->RestoreSequence(0, path, &blob);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(sampler->RestoreState(blob).ok());
  EXPECT_EQ(s->position(), 4 + 19);
  std::vector<int32_t> rest;
  ASSERT_TRUE((*cont)->Run(*s, *sampler, std::vector<int32_t>{part.back()}, collect(&rest)).ok());
  part.insert(part.end(), rest.begin(), rest.end());
  EXPECT_EQ(part, whole);
  // A blob from another sampler vocab is refused.
  auto other = Sampler::Create(300, Chain(2));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->RestoreState(blob).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slm

// Session and Model behaviour on stories260K: prefill == decode steps bit for
// bit, context overflow, id checks, reset, independent sessions, generation
// loop stop reasons, and Model's tensor validation.
#include <gtest/gtest.h>

#include <cstring>
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

const std::vector<int32_t> kPrompt = {1, 403, 407, 261, 378, 309, 417};

bool SameBits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class Runtime : public ::testing::Test {
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
  std::unique_ptr<Session> NewSession(int32_t n_ctx = 0) {
    auto s = Session::Create(*model_, {n_ctx});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  ModelBundle bundle_;
  std::unique_ptr<Model> model_;
};

TEST_F(Runtime, PrefillEqualsDecodeStepsBitForBit) {
  auto a = NewSession(), b = NewSession();
  ASSERT_TRUE(a->Prefill(kPrompt).ok());
  for (int32_t id : kPrompt) ASSERT_TRUE(b->Decode(id).ok());
  EXPECT_EQ(a->position(), 7);
  EXPECT_EQ(b->position(), 7);
  EXPECT_TRUE(SameBits(a->logits(), b->logits()));
  // Split prefill too.
  auto c = NewSession();
  ASSERT_TRUE(c->Prefill(std::span<const int32_t>(kPrompt).first(3)).ok());
  ASSERT_TRUE(c->Prefill(std::span<const int32_t>(kPrompt).subspan(3)).ok());
  EXPECT_TRUE(SameBits(a->logits(), c->logits()));
}

TEST_F(Runtime, LogitsEmptyBeforeFirstToken) {
  auto s = NewSession();
  EXPECT_TRUE(s->logits().empty());
  ASSERT_TRUE(s->Decode(1).ok());
  EXPECT_EQ(s->logits().size(), 512u);
}

TEST_F(Runtime, ContextOverflowIsOutOfRangeAndLeavesSessionUnchanged) {
  auto s = NewSession(8);
  EXPECT_EQ(s->n_ctx(), 8);
  ASSERT_TRUE(s->Prefill(std::span<const int32_t>(kPrompt).first(5)).ok());
  std::vector<float> before(s->logits().begin(), s->logits().end());
  Status st = s->Prefill(std::span<const int32_t>(kPrompt).first(4));
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(st.message(), "prompt of 4 tokens at position 5 exceeds the context of 8 tokens");
  EXPECT_EQ(s->position(), 5);
  EXPECT_TRUE(SameBits(s->logits(), before));
  // Exactly filling the context works; one more token does not.
  ASSERT_TRUE(s->Prefill(std::span<const int32_t>(kPrompt).first(3)).ok());
  EXPECT_EQ(s->position(), 8);
  EXPECT_EQ(s->Decode(5).code(), StatusCode::kOutOfRange);
}

TEST_F(Runtime, BadIdsAndEmptyPromptAreInvalidArgument) {
  auto s = NewSession();
  std::vector<int32_t> bad = {1, 512};
  Status st = s->Prefill(bad);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("512"), std::string::npos) << st.message();
  EXPECT_EQ(s->Decode(-1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Prefill({}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->position(), 0);
}

TEST_F(Runtime, SessionOptionsValidated) {
  EXPECT_EQ(Session::Create(*model_, {-1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Session::Create(*model_, {513}).status().code(), StatusCode::kInvalidArgument);
  auto s = NewSession();
  EXPECT_EQ(s->n_ctx(), 512);
}

TEST_F(Runtime, TwoSessionsAndResetGiveIdenticalResults) {
  auto a = NewSession(), b = NewSession();
  // Interleave the two sessions to show they share no state.
  for (int32_t id : kPrompt) {
    ASSERT_TRUE(a->Decode(id).ok());
    ASSERT_TRUE(b->Decode(id).ok());
    ASSERT_TRUE(SameBits(a->logits(), b->logits()));
  }
  std::vector<float> first(a->logits().begin(), a->logits().end());
  a->Reset();
  EXPECT_EQ(a->position(), 0);
  ASSERT_TRUE(a->Prefill(kPrompt).ok());
  EXPECT_TRUE(SameBits(a->logits(), first));
}

TEST_F(Runtime, GenerateStopsAtMaxTokensEosAndContextEnd) {
  auto sampler = Sampler::Create(512, {});
  ASSERT_TRUE(sampler.ok());
  std::vector<int32_t> out;
  auto collect = [&out](int32_t id) {
    out.push_back(id);
    return true;
  };
  auto s = NewSession();
  int32_t bos = 1;
  auto st = Generate(*s, **sampler, std::span<const int32_t>(&bos, 1), 10, 2, collect);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(st->generated_tokens, 10);
  EXPECT_EQ(st->prompt_tokens, 1);
  EXPECT_EQ(st->tokens_in_cache, 10);  // BOS + 9 decoded; the 10th is not run
  ASSERT_EQ(out.size(), 10u);
  EXPECT_EQ(out[0], 403);
  EXPECT_GT(st->prefill_tok_s, 0);

  // EOS: pretend the 4th generated token is EOS.
  const int32_t eos = out[3];
  std::vector<int32_t> before_eos;
  s->Reset();
  auto st2 = Generate(*s, **sampler, std::span<const int32_t>(&bos, 1), 50, eos,
                      [&](int32_t id) {
                        before_eos.push_back(id);
                        return true;
                      });
  ASSERT_TRUE(st2.ok());
  EXPECT_EQ(st2->stop_reason, StopReason::kEos);
  EXPECT_EQ(before_eos, std::vector<int32_t>(out.begin(), out.begin() + 3));

  // Context end: n_ctx 6 holds BOS + 5 decoded tokens, and the 6th sampled
  // token is emitted but cannot be run.
  auto small = NewSession(6);
  out.clear();
  auto st3 = Generate(*small, **sampler, std::span<const int32_t>(&bos, 1), 100, -1, collect);
  ASSERT_TRUE(st3.ok());
  EXPECT_EQ(st3->stop_reason, StopReason::kContextFull);
  EXPECT_EQ(st3->tokens_in_cache, 6);
  EXPECT_EQ(st3->generated_tokens, 6);

  // Callback stop.
  s->Reset();
  auto st4 = Generate(*s, **sampler, std::span<const int32_t>(&bos, 1), 100, -1,
                      [](int32_t) { return false; });
  ASSERT_TRUE(st4.ok());
  EXPECT_EQ(st4->stop_reason, StopReason::kCallback);
  EXPECT_EQ(st4->generated_tokens, 1);

  // Errors pass through.
  s->Reset();
  EXPECT_EQ(Generate(*s, **sampler, {}, 5, -1, collect).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Generate(*s, **sampler, std::span<const int32_t>(&bos, 1), -1, -1, collect)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(Runtime, ModelRejectsMissingWrongShapeWrongSizeAndQuantizedNorms) {
  std::vector<TensorData> tensors = bundle_.tensors;
  for (TensorData& t : tensors) {
    if (t.name == "blk.2.attn_k.weight") t.name = "blk.2.attn_k.weight.renamed";
  }
  auto m = Model::Create(bundle_.config, tensors);
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("blk.2.attn_k.weight"), std::string::npos);

  tensors = bundle_.tensors;
  for (TensorData& t : tensors) {
    if (t.name == "blk.0.ffn_up.weight") t.shape = {64, 172};
  }
  m = Model::Create(bundle_.config, tensors);
  EXPECT_EQ(m.status().code(), StatusCode::kFormatError);
  EXPECT_NE(m.status().message().find("[172, 64]"), std::string::npos) << m.status().message();

  tensors = bundle_.tensors;
  for (TensorData& t : tensors) {
    if (t.name == "blk.1.attn_q.weight") t.dtype = DType::kQ8_0;
  }
  m = Model::Create(bundle_.config, tensors);
  EXPECT_EQ(m.status().code(), StatusCode::kFormatError);
  EXPECT_EQ(m.status().message(),
            "tensor blk.1.attn_q.weight holds 16384 bytes, expected 4352 for q8_0 [64, 64]");

  tensors = bundle_.tensors;
  for (TensorData& t : tensors) {
    if (t.name == "blk.1.ffn_norm.weight") t.dtype = DType::kF16;
  }
  m = Model::Create(bundle_.config, tensors);
  EXPECT_EQ(m.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(m.status().message(),
            "tensor blk.1.ffn_norm.weight is f16; the forward pass needs f32 for norms and biases");

  ModelConfig bad = bundle_.config;
  bad.n_kv_heads = 3;
  EXPECT_FALSE(Model::Create(bad, bundle_.tensors).ok());
}

TEST_F(Runtime, KernelSelectionNoteNamesTheTable) {
  EXPECT_EQ(std::string(KernelSelectionNote()).rfind(Kernels().name, 0), 0u)
      << KernelSelectionNote();
}

}  // namespace
}  // namespace slm

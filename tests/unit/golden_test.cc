// Golden tests: our scalar f32 forward pass on stories260K against the
// independent float64 numpy reference (tests/golden/reference.py, output in
// tests/golden/stories260K_reference.json).
//
// Logit tolerance: max |ours - reference| < 1e-4 over all 512 logits (values
// up to ~17); measured about 3e-6 (f32 rounding through 5 layers). Greedy ids
// must match exactly: the reference's smallest top-2 logit margin along the
// 100-token path is 0.053, far above that error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/json.h"
#include "import/gguf_import.h"
#include "import/llama2c.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace slm {
namespace {

constexpr double kLogitTolerance = 1e-4;

struct Reference {
  std::vector<int32_t> prompt_ids, greedy, int8_greedy;
  std::vector<double> logits_bos, logits_prompt, int8_logits_bos;
};

template <typename T>
std::vector<T> NumberArray(const JsonValue& doc, const char* key) {
  std::vector<T> out;
  const JsonValue* v = doc.Find(key);
  if (v == nullptr || !v->is_array()) {
    ADD_FAILURE() << "reference JSON lacks array '" << key << "'";
    return out;
  }
  for (const JsonValue& item : v->items()) out.push_back(static_cast<T>(item.as_number()));
  return out;
}

const Reference& Ref() {
  static const Reference* ref = [] {
    auto* r = new Reference();
    const std::string path = test::SourceDir() + "/tests/golden/stories260K_reference.json";
    auto text = ReadFileToString(path);
    if (!text.ok()) {
      ADD_FAILURE() << text.status().ToString();
      return r;
    }
    auto doc = ParseJson(*text, path);
    if (!doc.ok()) {
      ADD_FAILURE() << doc.status().ToString();
      return r;
    }
    r->prompt_ids = NumberArray<int32_t>(*doc, "prompt_ids");
    r->greedy = NumberArray<int32_t>(*doc, "greedy_from_bos");
    r->int8_greedy = NumberArray<int32_t>(*doc, "int8_greedy_from_bos");
    r->logits_bos = NumberArray<double>(*doc, "logits_bos");
    r->logits_prompt = NumberArray<double>(*doc, "logits_prompt");
    r->int8_logits_bos = NumberArray<double>(*doc, "int8_logits_bos");
    return r;
  }();
  return *ref;
}

// A bundle plus the model and a session over it.
struct Loaded {
  ModelBundle bundle;
  std::unique_ptr<Model> model;
  std::unique_ptr<Session> session;
};

Status Load(StatusOr<ModelBundle> imported, Loaded* out) {
  if (!imported.ok()) return imported.status();
  out->bundle = std::move(imported).value();
  SLM_ASSIGN_OR_RETURN(out->model, Model::Create(out->bundle.config, out->bundle.tensors));
  SLM_ASSIGN_OR_RETURN(out->session, Session::Create(*out->model));
  return Status::Ok();
}

std::vector<int32_t> GreedyFromBos(Session& s, size_t n) {
  std::vector<int32_t> ids;
  s.Reset();
  int32_t bos = 1;
  if (!s.Prefill(std::span<const int32_t>(&bos, 1)).ok()) return ids;
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = ArgMax(s.logits());
    ids.push_back(id);
    if (i + 1 < n && !s.Decode(id).ok()) break;
  }
  return ids;
}

double MaxAbsDiff(std::span<const float> ours, const std::vector<double>& ref) {
  if (ours.size() != ref.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(ours[i]) - ref[i]));
  }
  return worst;
}

size_t Agreement(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

class Golden : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = test::ModelPath("stories260K.bin");
    ASSERT_FALSE(path.empty());
    ASSERT_EQ(Ref().greedy.size(), 100u);
    Status s = Load(ImportLlama2c(path, ""), &f32_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Loaded f32_;
};

TEST_F(Golden, GreedyFromBosMatchesReferenceIds) {
  EXPECT_EQ(GreedyFromBos(*f32_.session, Ref().greedy.size()), Ref().greedy);
}

TEST_F(Golden, LogitsForBosMatchReference) {
  int32_t bos = 1;
  ASSERT_TRUE(f32_.session->Prefill(std::span<const int32_t>(&bos, 1)).ok());
  const double diff = MaxAbsDiff(f32_.session->logits(), Ref().logits_bos);
  EXPECT_LT(diff, kLogitTolerance);
  RecordProperty("max_abs_diff_bos", std::to_string(diff));
  std::printf("max |logit - float64 reference| for [1]: %.3g\n", diff);
}

TEST_F(Golden, LogitsForLongerPromptMatchReference) {
  ASSERT_GE(Ref().prompt_ids.size(), 5u);
  ASSERT_TRUE(f32_.session->Prefill(Ref().prompt_ids).ok());
  const double diff = MaxAbsDiff(f32_.session->logits(), Ref().logits_prompt);
  EXPECT_LT(diff, kLogitTolerance);
  std::printf("max |logit - float64 reference| for the %zu-token prompt: %.3g\n",
              Ref().prompt_ids.size(), diff);
}

// The int8 export is lossy. Against a reference computed on the same
// dequantized weights it must agree exactly; against the f32 model it agrees
// for as long as the two references agree (71 tokens for this file).
TEST_F(Golden, Int8ImportMatchesItsReferenceAndF32Prefix) {
  const std::string path = test::ModelPath("stories260K-q8.bin");
  ASSERT_FALSE(path.empty());
  Loaded q8;
  Status s = Load(ImportLlama2c(path, ""), &q8);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<int32_t> ids = GreedyFromBos(*q8.session, Ref().int8_greedy.size());
  EXPECT_EQ(ids, Ref().int8_greedy);
  const size_t ref_agree = Agreement(Ref().greedy, Ref().int8_greedy);
  EXPECT_GE(ref_agree, 71u);
  EXPECT_GE(Agreement(ids, GreedyFromBos(*f32_.session, Ref().greedy.size())), ref_agree);

  int32_t bos = 1;
  q8.session->Reset();
  ASSERT_TRUE(q8.session->Prefill(std::span<const int32_t>(&bos, 1)).ok());
  EXPECT_LT(MaxAbsDiff(q8.session->logits(), Ref().int8_logits_bos), kLogitTolerance);
}

// stories260K.gguf holds the same f32 tensors as stories260K.bin.
TEST_F(Golden, GgufImportGivesSameIdsAndBitIdenticalLogits) {
  const std::string path = test::ModelPath("stories260K.gguf");
  ASSERT_FALSE(path.empty());
  Loaded g;
  Status s = Load(ImportGguf(path), &g);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(GreedyFromBos(*g.session, Ref().greedy.size()), Ref().greedy);
  g.session->Reset();
  f32_.session->Reset();
  ASSERT_TRUE(g.session->Prefill(Ref().prompt_ids).ok());
  ASSERT_TRUE(f32_.session->Prefill(Ref().prompt_ids).ok());
  std::span<const float> a = g.session->logits(), b = f32_.session->logits();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST_F(Golden, GreedyFromBosDecodesToDocumentedText) {
  const std::string tok = test::ModelPath("tok512.bin");
  ASSERT_FALSE(tok.empty());
  auto bundle = ImportLlama2c(test::ModelPath("stories260K.bin"), tok);
  if (!bundle.ok() && bundle.status().code() == StatusCode::kUnsupported) {
    GTEST_SKIP() << "tokenizer loader not implemented yet: " << bundle.status().ToString();
  }
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  auto t = Tokenizer::Create(bundle->tokenizer);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string text = (*t)->Decode(GreedyFromBos(*f32_.session, Ref().greedy.size()));
  if (!text.empty() && text[0] == ' ') text.erase(0, 1);
  const std::string kDocumented =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
      "park.";
  EXPECT_EQ(text.substr(0, kDocumented.size()), kDocumented) << text;
}

}  // namespace
}  // namespace slm

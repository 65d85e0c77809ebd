// The KV-cache fields of slm_diagnostics (include/slm/slm.h, offsets 168..199)
// on stories260K: a second generation on the same session with the same
// prompt reuses its cached pages, and every field equals Session::kv_stats().
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "api/handles.h"
#include "import/import.h"
#include "package/package.h"
#include "runtime/session.h"
#include "slm/slm.h"
#include "test_util.h"

namespace slm {
namespace {

static_assert(sizeof(slm_diagnostics) == 200);
static_assert(offsetof(slm_diagnostics, kv_pages_used) == 168);
static_assert(offsetof(slm_diagnostics, kv_pages_shared) == 172);
static_assert(offsetof(slm_diagnostics, kv_pages_cached) == 176);
static_assert(offsetof(slm_diagnostics, kv_pages_free) == 180);
static_assert(offsetof(slm_diagnostics, kv_prompt_tokens) == 184);
static_assert(offsetof(slm_diagnostics, kv_reused_tokens) == 188);
static_assert(offsetof(slm_diagnostics, kv_evictions) == 192);
static_assert(offsetof(slm_diagnostics, time_to_first_token_ms) == 196);

// Runs one generation to its end; returns the ids.
std::vector<int32_t> Generate(slm_session* s, const std::vector<int32_t>& prompt, int32_t n) {
  std::vector<int32_t> ids;
  EXPECT_EQ(slm_generate_begin(s, prompt.data(), prompt.size(), n), SLM_OK) << slm_last_error();
  for (int i = 0; i < n + 2; ++i) {
    int32_t id = -1;
    EXPECT_EQ(slm_generate_next(s, &id), SLM_OK) << slm_last_error();
    if (id < 0) break;
    ids.push_back(id);
  }
  return ids;
}

void ExpectEqualsKvStats(const slm_diagnostics& d, const KvStats& kv) {
  EXPECT_EQ(d.tokens_in_cache, kv.tokens_in_cache);
  EXPECT_EQ(d.kv_pages_used, kv.pages_used);
  EXPECT_EQ(d.kv_pages_shared, kv.pages_shared);
  EXPECT_EQ(d.kv_pages_cached, kv.pages_cached);
  EXPECT_EQ(d.kv_pages_free, kv.pages_free);
  EXPECT_EQ(d.kv_prompt_tokens, kv.prompt_tokens);
  EXPECT_EQ(d.kv_reused_tokens, kv.reused_tokens);
  EXPECT_EQ(d.kv_evictions, kv.evictions);
  EXPECT_EQ(d.kv_pages_used + d.kv_pages_cached + d.kv_pages_free, kv.pages_total);
}

TEST(ApiDiagTest, SecondGenerationReusesThePromptPages) {
  slm_package* pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  slm_session* s = nullptr;
  ASSERT_EQ(slm_session_create(pkg, nullptr, &s), SLM_OK) << slm_last_error();
  const slm_diagnostics* d = slm_session_diagnostics(s);
  ASSERT_NE(d, nullptr);
  // Fresh session: nothing cached, every page free.
  EXPECT_EQ(d->kv_pages_used, 0);
  EXPECT_EQ(d->kv_prompt_tokens, 0);
  EXPECT_EQ(d->time_to_first_token_ms, 0.0f);
  EXPECT_GT(d->kv_pages_free, 0);
  ExpectEqualsKvStats(*d, s->session->kv_stats());

  // A prompt of more than two pages (16 positions each).
  const std::string text =
      "Once upon a time, there was a little girl named Lily. She loved to play outside "
      "in the park with her friends.";
  std::vector<int32_t> prompt(256);
  size_t n = 0;
  ASSERT_EQ(slm_tokenize(pkg, text.data(), text.size(), 1, prompt.data(), prompt.size(), &n),
            SLM_OK);
  prompt.resize(n);
  ASSERT_GT(n, 32u);

  const auto first = Generate(s, prompt, 12);
  d = slm_session_diagnostics(s);
  EXPECT_EQ(d->kv_prompt_tokens, static_cast<int32_t>(n));
  EXPECT_EQ(d->kv_reused_tokens, 0);
  EXPECT_GT(d->kv_pages_used, 0);
  EXPECT_GT(d->time_to_first_token_ms, 0.0f);
  EXPECT_GE(d->time_to_first_token_ms, static_cast<float>(d->prefill_ms));
  ExpectEqualsKvStats(*d, s->session->kv_stats());

  // Same prompt again after a reset: its full pages come from the cache.
  ASSERT_EQ(slm_session_reset(s), SLM_OK);
  d = slm_session_diagnostics(s);
  EXPECT_EQ(d->kv_pages_used, 0);
  EXPECT_GE(d->kv_pages_cached, 2);  // the prompt's full pages stay for reuse
  ExpectEqualsKvStats(*d, s->session->kv_stats());
  const auto second = Generate(s, prompt, 12);
  EXPECT_EQ(second, first);  // reuse gives the same bits
  d = slm_session_diagnostics(s);
  EXPECT_EQ(d->kv_prompt_tokens, 2 * static_cast<int32_t>(n));
  EXPECT_GE(d->kv_reused_tokens, 32);
  EXPECT_LT(d->kv_reused_tokens, static_cast<int32_t>(n));  // the last token is computed
  EXPECT_GT(d->time_to_first_token_ms, 0.0f);
  EXPECT_EQ(d->stop_reason, SLM_STOP_MAX_TOKENS);
  ExpectEqualsKvStats(*d, s->session->kv_stats());

  slm_session_destroy(s);
  slm_package_destroy(pkg);
}

TEST(ApiDiagTest, EvictionsAndSharedPagesAreReported) {
  slm_package* pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  // A 64-position context: 4 pages; distinct prompts of 3 full pages each
  // force the cached pages of the previous prompt out.
  slm_session_params sp;
  slm_session_params_default(&sp);
  sp.n_ctx = 64;
  slm_session* s = nullptr;
  ASSERT_EQ(slm_session_create(pkg, &sp, &s), SLM_OK) << slm_last_error();
  for (int32_t k = 0; k < 3; ++k) {
    std::vector<int32_t> prompt(50);
    for (size_t i = 0; i < prompt.size(); ++i)
      prompt[i] = 3 + static_cast<int32_t>((i * 7 + k * 11) % 500);
    ASSERT_EQ(slm_session_reset(s), SLM_OK);
    Generate(s, prompt, 4);
  }
  const slm_diagnostics* d = slm_session_diagnostics(s);
  EXPECT_GT(d->kv_evictions, 0);
  EXPECT_EQ(d->kv_pages_shared, 0);  // one sequence: nothing is shared
  ExpectEqualsKvStats(*d, s->session->kv_stats());
  slm_session_destroy(s);
  slm_package_destroy(pkg);
}

}  // namespace
}  // namespace slm

// The C ABI (include/slm/slm.h) on stories260K: same ids as the C++ API,
// the buffer and error rules, and the state left after failing calls.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "adapter_test_util.h"
#include "base/file.h"
#include "base/json.h"
#include "import/import.h"
#include "package/package.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "slm/slm.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace slm {
namespace {

// A package handle over an slm_alloc copy of the bytes (owned by the handle).

// The C++ API's Generate for the same package bytes.
std::vector<int32_t> CppGenerate(std::vector<int32_t> prompt, int32_t n, SamplerConfig sc) {
  auto p = Package::FromMemory(test::Stories260KPackage(), "stories260K");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  auto tok = Tokenizer::Create((*p)->tokenizer());
  auto m = Model::Create((*p)->config(), (*p)->tensors());
  auto s = Session::Create(**m);
  auto sampler = Sampler::Create((*p)->config().vocab_size, sc);
  std::vector<int32_t> ids;
  auto st = Generate(**s, **sampler, prompt, n, (*tok)->data().eos_id, [&](int32_t id) {
    ids.push_back(id);
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  return ids;
}

std::vector<int32_t> AbiGenerate(slm_session* s, std::vector<int32_t> prompt, int32_t n,
                                 std::string* text) {
  std::vector<int32_t> ids;
  EXPECT_EQ(slm_generate_begin(s, prompt.data(), prompt.size(), n), SLM_OK) << slm_last_error();
  for (int i = 0; i < n + 2; ++i) {
    int32_t id = 0;
    EXPECT_EQ(slm_generate_next(s, &id), SLM_OK) << slm_last_error();
    size_t len = 0;
    const char* piece = slm_generate_piece(s, &len);
    if (text) text->append(piece, len);
    if (id < 0) break;
    ids.push_back(id);
  }
  return ids;
}

TEST(ApiTest, GreedyIdsEqualCppGenerate) {
  slm_package* pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  slm_session* s = nullptr;
  ASSERT_EQ(slm_session_create(pkg, nullptr, &s), SLM_OK) << slm_last_error();
  std::string text;
  const auto ids = AbiGenerate(s, {1}, 60, &text);
  EXPECT_EQ(ids, CppGenerate({1}, 60, SamplerConfig{}));
  ASSERT_EQ(ids.size(), 60u);
  // Text equals slm_detokenize of the same ids.
  size_t len = 0;
  EXPECT_EQ(slm_detokenize(pkg, ids.data(), ids.size(), nullptr, 0, &len), SLM_OUT_OF_RANGE);
  std::string dec(len, '\0');
  ASSERT_EQ(slm_detokenize(pkg, ids.data(), ids.size(), dec.data(), dec.size(), &len), SLM_OK);
  EXPECT_EQ(dec, text);
  EXPECT_NE(text.find("Lily"), std::string::npos) << text;

  const slm_diagnostics* d = slm_session_diagnostics(s);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->stop_reason, SLM_STOP_MAX_TOKENS);
  EXPECT_EQ(d->generated_tokens, 60);
  EXPECT_EQ(d->prompt_tokens, 1);
  EXPECT_EQ(d->tokens_in_cache, 60);  // the last sampled token is not run
  EXPECT_EQ(d->tokens_in_cache, slm_session_position(s));
  EXPECT_STREQ(d->kernels, slm_kernels_name());
  EXPECT_EQ(d->adapter_count, 0);
  EXPECT_EQ(d->package_bytes, test::Stories260KPackage().size());
  EXPECT_GT(d->session_bytes, 0u);
  EXPECT_GT(d->decode_tok_s, 0);
  // Finished: -1 again, and begin may start over.
  int32_t id = 7;
  EXPECT_EQ(slm_generate_next(s, &id), SLM_OK);
  EXPECT_EQ(id, -1);
  slm_session_destroy(s);
  slm_package_destroy(pkg);
}

TEST(ApiTest, SeededSamplingEqualsCppGenerate) {
  slm_package* pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  slm_session* s = nullptr;
  ASSERT_EQ(slm_session_create(pkg, nullptr, &s), SLM_OK);
  slm_sampler_params sp;
  slm_sampler_params_default(&sp);
  EXPECT_EQ(sp.temperature, 0.0f);
  EXPECT_EQ(sp.top_p, 1.0f);
  sp.temperature = 0.8f;
  sp.top_k = 40;
  sp.top_p = 0.9f;
  sp.seed = 1234567890123ull;
  ASSERT_EQ(slm_session_set_sampler(s, &sp), SLM_OK) << slm_last_error();
  SamplerConfig sc{0.8f, 40, 0.9f, 1234567890123ull};
  const auto ids = AbiGenerate(s, {1}, 80, nullptr);
  EXPECT_EQ(ids, CppGenerate({1}, 80, sc));
  // Setting the sampler again restarts the stream: same ids after a reset.
  ASSERT_EQ(slm_session_reset(s), SLM_OK);
  ASSERT_EQ(slm_session_set_sampler(s, &sp), SLM_OK);
  EXPECT_EQ(AbiGenerate(s, {1}, 80, nullptr), ids);
  slm_session_destroy(s);
  slm_package_destroy(pkg);
}

TEST(ApiTest, StopEarlyThenPrefillEndsGeneration) {
  slm_package* pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  slm_session* s = nullptr;
  ASSERT_EQ(slm_session_create(pkg, nullptr, &s), SLM_OK);
  const int32_t prompt[] = {1};
  ASSERT_EQ(slm_generate_begin(s, prompt, 1, 100), SLM_OK);
  int32_t id = -1;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(slm_generate_next(s, &id), SLM_OK);
  EXPECT_GE(id, 0);
  EXPECT_EQ(slm_session_diagnostics(s)->stop_reason, SLM_STOP_NONE);
  ASSERT_EQ(slm_session_reset(s), SLM_OK);
  EXPECT_EQ(slm_session_diagnostics(s)->stop_reason, SLM_STOP_CALLER);
  EXPECT_EQ(slm_session_position(s), 0);
  EXPECT_EQ(slm_generate_next(s, &id), SLM_OK);
  EXPECT_EQ(id, -1);
  slm_session_destroy(s);
  slm_package_destroy(pkg);
}

TEST(ApiTest, LogitsAreAViewEqualToCpp) {
  slm_package* pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  slm_session* s = nullptr;
  ASSERT_EQ(slm_session_create(pkg, nullptr, &s), SLM_OK);
  size_t n = 99;
  EXPECT_EQ(slm_session_logits(s, &n), nullptr);
  EXPECT_EQ(n, 0u);
  int32_t id = 0;
  EXPECT_EQ(slm_session_sample(s, &id), SLM_INVALID_ARGUMENT);
  const std::vector<int32_t> prompt = {1, 403, 407};
  ASSERT_EQ(slm_session_prefill(s, prompt.data(), prompt.size()), SLM_OK) << slm_last_error();
  const float* l = slm_session_logits(s, &n);
  ASSERT_NE(l, nullptr);

  auto p = Package::FromMemory(test::Stories260KPackage(), "x");
  auto m = Model::Create((*p)->config(), (*p)->tensors());
  auto cs = Session::Create(**m);
  ASSERT_TRUE((*cs)->Prefill(prompt).ok());
  ASSERT_EQ(n, (*cs)->logits().size());
  EXPECT_EQ(std::memcmp(l, (*cs)->logits().data(), n * sizeof(float)), 0);
  EXPECT_EQ(slm_session_logits(s, nullptr), l);  // the same memory, no copy
  ASSERT_EQ(slm_session_sample(s, &id), SLM_OK);
  EXPECT_EQ(id, ArgMax((*cs)->logits()));
  slm_session_destroy(s);
  slm_package_destroy(pkg);
}

TEST(ApiTest, TokenizeRoundTripAndBufferRule) {
  slm_package* pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  const std::string text = "Once upon a time, there was a little girl named Lily.";
  size_t n = 0;
  EXPECT_EQ(slm_tokenize(pkg, text.data(), text.size(), 1, nullptr, 0, &n), SLM_OUT_OF_RANGE);
  ASSERT_GT(n, 1u);
  std::vector<int32_t> ids(n);
  ASSERT_EQ(slm_tokenize(pkg, text.data(), text.size(), 1, ids.data(), ids.size(), &n), SLM_OK);
  EXPECT_EQ(ids[0], 1);
  std::vector<int32_t> nobos(n);
  size_t n2 = 0;
  ASSERT_EQ(slm_tokenize(pkg, text.data(), text.size(), 0, nobos.data(), nobos.size(), &n2),
            SLM_OK);
  EXPECT_EQ(n2, n - 1);
  size_t len = 0;
  std::string out(200, '\0');
  ASSERT_EQ(slm_detokenize(pkg, ids.data() + 1, n - 1, out.data(), out.size(), &len), SLM_OK);
  out.resize(len);
  EXPECT_EQ(out, text);
  // Invalid UTF-8 and bad ids are errors with messages.
  EXPECT_EQ(slm_tokenize(pkg, "\xff", 1, 0, ids.data(), ids.size(), &n), SLM_INVALID_ARGUMENT);
  EXPECT_NE(std::string(slm_last_error()).find("UTF-8"), std::string::npos) << slm_last_error();
  const int32_t bad = 512;
  EXPECT_EQ(slm_detokenize(pkg, &bad, 1, out.data(), out.size(), &len), SLM_INVALID_ARGUMENT);
  EXPECT_NE(std::string(slm_last_error()).find("512"), std::string::npos);
  EXPECT_EQ(slm_tokenize(pkg, "a", 1, 2, ids.data(), ids.size(), &n), SLM_INVALID_ARGUMENT);
  slm_package_destroy(pkg);
}

TEST(ApiTest, InfoDescribeDigest) {
  slm_package* pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  slm_package_info info;
  ASSERT_EQ(slm_package_get_info(pkg, &info), SLM_OK);
  EXPECT_EQ(info.vocab_size, 512);
  EXPECT_EQ(info.bos_id, 1);
  EXPECT_EQ(info.eos_id, 2);
  EXPECT_EQ(info.file_size, test::Stories260KPackage().size());
  char hex[64];
  size_t len = 0;
  ASSERT_EQ(slm_package_digest(pkg, hex, sizeof(hex), &len), SLM_OK);
  EXPECT_EQ(len, 64u);
  auto p = Package::FromMemory(test::Stories260KPackage(), "x");
  EXPECT_EQ(std::string(hex, len), (*p)->digest_hex());
  ASSERT_EQ(slm_package_describe(pkg, nullptr, 0, &len), SLM_OUT_OF_RANGE);
  std::string json(len, '\0');
  ASSERT_EQ(slm_package_describe(pkg, json.data(), json.size(), &len), SLM_OK);
  EXPECT_EQ(json.front(), '{');
  EXPECT_NE(json.find((*p)->digest_hex()), std::string::npos);
  EXPECT_NE(json.find("\"token_embd.weight\""), std::string::npos);
  slm_package_destroy(pkg);
}

TEST(ApiTest, OpenFileNatively) {
  const std::string path = test::TempPath("api_test.slm");
  ASSERT_TRUE(WriteFileAtomic(path, test::Stories260KPackage()).ok());
  slm_package* pkg = nullptr;
  ASSERT_EQ(slm_package_open_file(path.data(), path.size(), nullptr, &pkg), SLM_OK)
      << slm_last_error();
  slm_session* s = nullptr;
  ASSERT_EQ(slm_session_create(pkg, nullptr, &s), SLM_OK);
  EXPECT_EQ(AbiGenerate(s, {1}, 20, nullptr), CppGenerate({1}, 20, SamplerConfig{}));
  slm_session_destroy(s);
  slm_package_destroy(pkg);
  const std::string missing = path + ".missing";
  slm_package* none = nullptr;
  EXPECT_NE(slm_package_open_file(missing.data(), missing.size(), nullptr, &none), SLM_OK);
  EXPECT_EQ(none, nullptr);
  EXPECT_NE(std::string(slm_last_error()).find("missing"), std::string::npos) << slm_last_error();
}

TEST(ApiTest, FailingCallsLeaveStateAndSayWhy) {
  // NULLs never crash.
  slm_package* pkg = nullptr;
  EXPECT_EQ(slm_package_open_memory(nullptr, 0, nullptr, 0, nullptr, nullptr),
            SLM_INVALID_ARGUMENT);
  EXPECT_EQ(slm_session_create(nullptr, nullptr, nullptr), SLM_INVALID_ARGUMENT);
  EXPECT_NE(std::string(slm_last_error()).find("NULL"), std::string::npos);
  EXPECT_EQ(slm_session_position(nullptr), -1);
  slm_package_destroy(nullptr);
  slm_session_destroy(nullptr);
  // Unaligned bytes.
  const auto& bytes = test::Stories260KPackage();
  ASSERT_FALSE(bytes.empty());
  auto* buf = static_cast<uint8_t*>(slm_alloc(bytes.size() + 64));
  std::memcpy(buf + 4, bytes.data(), bytes.size());
  EXPECT_EQ(slm_package_open_memory(buf + 4, bytes.size(), "u", 1, nullptr, &pkg),
            SLM_INVALID_ARGUMENT);
  EXPECT_EQ(pkg, nullptr);
  // A corrupted byte in the tensor data: integrity error naming the tensor.
  std::memcpy(buf, bytes.data(), bytes.size());
  buf[bytes.size() - 3] ^= 0x55;
  EXPECT_EQ(slm_package_open_memory(buf, bytes.size(), "bad.slm", 7, nullptr, &pkg),
            SLM_INTEGRITY_ERROR);
  EXPECT_EQ(pkg, nullptr);
  EXPECT_NE(std::string(slm_last_error()).find("bad.slm"), std::string::npos) << slm_last_error();
  // Garbage: format error.
  std::memset(buf, 'x', 256);
  EXPECT_EQ(slm_package_open_memory(buf, 256, "junk", 4, nullptr, &pkg), SLM_FORMAT_ERROR);
  EXPECT_EQ(pkg, nullptr);
  slm_free(buf);

  pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  slm_session_params sp;
  slm_session_params_default(&sp);
  sp.n_ctx = 1 << 20;
  slm_session* s = nullptr;
  EXPECT_EQ(slm_session_create(pkg, &sp, &s), SLM_INVALID_ARGUMENT);
  EXPECT_EQ(s, nullptr);
  sp.n_ctx = 8;
  ASSERT_EQ(slm_session_create(pkg, &sp, &s), SLM_OK);
  // Bad prefill: session unchanged.
  const int32_t good[] = {1, 403};
  ASSERT_EQ(slm_session_prefill(s, good, 2), SLM_OK);
  const int32_t bad[] = {5, 9999};
  EXPECT_EQ(slm_session_prefill(s, bad, 2), SLM_INVALID_ARGUMENT);
  EXPECT_EQ(slm_session_position(s), 2);
  EXPECT_EQ(slm_session_prefill(s, good, 0), SLM_INVALID_ARGUMENT);
  // Bad sampler: the old one stays.
  slm_sampler_params smp;
  slm_sampler_params_default(&smp);
  smp.top_p = 2;
  EXPECT_EQ(slm_session_set_sampler(s, &smp), SLM_INVALID_ARGUMENT);
  EXPECT_NE(std::string(slm_last_error()).find("top_p"), std::string::npos) << slm_last_error();
  int32_t id = -5;
  EXPECT_EQ(slm_generate_next(s, &id), SLM_INVALID_ARGUMENT);  // no generation yet
  EXPECT_EQ(slm_generate_begin(s, good, 2, -1), SLM_INVALID_ARGUMENT);
  // A full context is a clean stop: 2 + 2 prompt tokens, context 8.
  ASSERT_EQ(slm_generate_begin(s, good, 2, 100), SLM_OK);
  int produced = 0;
  while (true) {
    ASSERT_EQ(slm_generate_next(s, &id), SLM_OK);
    if (id < 0) break;
    ++produced;
  }
  EXPECT_EQ(produced, 5);  // positions 4..7 are decoded, then one more is sampled
  EXPECT_EQ(slm_session_diagnostics(s)->stop_reason, SLM_STOP_CONTEXT_FULL);
  EXPECT_EQ(slm_session_prefill(s, good, 1), SLM_OUT_OF_RANGE);
  slm_session_destroy(s);
  slm_package_destroy(pkg);
}

// slm_adapter_open_memory takes a llama.cpp LoRA GGUF's bytes as well as an
// .slm adapter (the browser's only way in): the torch fixture of tests/adapter
// gives the float64 reference's greedy ids (adapter_import_test.cc).
TEST(ApiTest, AdapterOpenMemoryImportsLoraGguf) {
  auto text = ReadFileToString(test::SourceDir() + "/tests/adapter/expected.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto expected = ParseJson(*text, "expected.json");
  ASSERT_TRUE(expected.ok());
  const std::vector<int32_t> prompt = adapter_test::Ints(*expected->Find("prompt_ids"));
  const std::vector<int32_t> want =
      adapter_test::Ints(*expected->Find("base_plus_lora")->Find("greedy"));
  auto gguf = ReadFileToString(test::SourceDir() + "/tests/adapter/lora.gguf");
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  const auto* bytes = reinterpret_cast<const uint8_t*>(gguf->data());

  slm_package* pkg = test::OpenStories260K();
  ASSERT_NE(pkg, nullptr);
  slm_adapter* a = nullptr;
  ASSERT_EQ(slm_adapter_open_memory(pkg, bytes, gguf->size(), "lora.gguf", 9, &a), SLM_OK)
      << slm_last_error();
  size_t len = 0;
  std::string desc(1 << 16, '\0');
  ASSERT_EQ(slm_adapter_describe(a, desc.data(), desc.size(), &len), SLM_OK);
  desc.resize(len);
  EXPECT_NE(desc.find("adapter.lora.alpha=8"), std::string::npos) << desc.substr(0, 400);
  slm_session* s = nullptr;
  ASSERT_EQ(slm_session_create(pkg, nullptr, &s), SLM_OK);
  const float scale = 1.0f;
  ASSERT_EQ(slm_session_set_adapters(s, &a, &scale, 1), SLM_OK) << slm_last_error();
  slm_adapter_destroy(a);  // the session keeps what it needs
  std::vector<int32_t> got = AbiGenerate(s, prompt, static_cast<int32_t>(want.size()), nullptr);
  EXPECT_EQ(got, want);
  EXPECT_EQ(slm_session_diagnostics(s)->adapter_count, 1);

  // The PEFT folder of the same LoRA, from its two files: the same ids.
  auto cfg = ReadFileToString(test::SourceDir() + "/tests/adapter/peft/adapter_config.json");
  auto st = ReadFileToString(test::SourceDir() + "/tests/adapter/peft/adapter_model.safetensors");
  ASSERT_TRUE(cfg.ok() && st.ok());
  slm_adapter* p = nullptr;
  ASSERT_EQ(slm_adapter_open_peft_memory(pkg, reinterpret_cast<const uint8_t*>(cfg->data()),
                                         cfg->size(), reinterpret_cast<const uint8_t*>(st->data()),
                                         st->size(), "peft", 4, &p),
            SLM_OK)
      << slm_last_error();
  ASSERT_EQ(slm_session_set_adapters(s, &p, &scale, 1), SLM_OK) << slm_last_error();
  slm_adapter_destroy(p);
  EXPECT_EQ(AbiGenerate(s, prompt, static_cast<int32_t>(want.size()), nullptr), want);
  // Config and weights swapped: refused, naming the config.
  EXPECT_NE(slm_adapter_open_peft_memory(pkg, reinterpret_cast<const uint8_t*>(st->data()),
                                         st->size(), reinterpret_cast<const uint8_t*>(cfg->data()),
                                         cfg->size(), "peft", 4, &p),
            SLM_OK);
  EXPECT_NE(std::string(slm_last_error()).find("adapter_config.json"), std::string::npos)
      << slm_last_error();

  // Cut in half: refused, naming the file; nothing is opened.
  slm_adapter* cut = nullptr;
  EXPECT_NE(slm_adapter_open_memory(pkg, bytes, gguf->size() / 2, "lora.gguf", 9, &cut), SLM_OK);
  EXPECT_EQ(cut, nullptr);
  EXPECT_NE(std::string(slm_last_error()).find("lora.gguf"), std::string::npos) << slm_last_error();
  // A model GGUF is not an adapter.
  auto vocab = ReadFileToString(test::ModelPath("ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(vocab.ok());
  EXPECT_NE(slm_adapter_open_memory(pkg, reinterpret_cast<const uint8_t*>(vocab->data()),
                                    vocab->size(), "vocab.gguf", 10, &cut),
            SLM_OK);
  EXPECT_NE(std::string(slm_last_error()).find("general.type = adapter"), std::string::npos)
      << slm_last_error();
  slm_session_destroy(s);
  slm_package_destroy(pkg);
}

}  // namespace
}  // namespace slm

// End-to-end tests of the slm binary: every subcommand, the three import paths
// of stories260K, and the error contract (one line on stderr, exit 1; usage
// errors exit 2).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/json.h"
#include "test_util.h"

namespace slm {
namespace {

// llama2.c's documented greedy output for stories260K from BOS (SOURCES.md).
constexpr char kReferenceText[] =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
    "One day, she saw a big, red ball. She wanted to play with";

struct CliRun {
  int code;
  std::string out;
};

CliRun Slm(const std::string& args, bool merge_stderr = false) {
  CliRun r;
  r.code = test::RunCommand(test::CliPath() + " " + args, &r.out, merge_stderr);
  return r;
}

JsonValue ParseOrFail(const std::string& s) {
  auto v = ParseJson(s, "cli output");
  EXPECT_TRUE(v.ok()) << v.status().ToString() << "\n" << s;
  return v.ok() ? *v : JsonValue();
}

std::vector<int> Ids(const JsonValue* arr) {
  std::vector<int> ids;
  if (arr == nullptr) return ids;
  for (const JsonValue& v : arr->items()) ids.push_back(static_cast<int>(v.as_number()));
  return ids;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string bin = test::ModelPath("stories260K.bin");
    std::string q8 = test::ModelPath("stories260K-q8.bin");
    std::string gguf = test::ModelPath("stories260K.gguf");
    std::string tok = test::ModelPath("tok512.bin");
    if (bin.empty() || q8.empty() || gguf.empty() || tok.empty()) return;
    bin_pkg_ = test::TempPath("cli_bin.slm");
    q8_pkg_ = test::TempPath("cli_q8.slm");
    gguf_pkg_ = test::TempPath("cli_gguf.slm");
    convert_bin_ = Slm("convert " + bin + " --tokenizer " + tok + " -o " + bin_pkg_, true);
    convert_q8_ = Slm("convert " + q8 + " --tokenizer " + tok + " -o " + q8_pkg_, true);
    convert_gguf_ = Slm("convert " + gguf + " -o " + gguf_pkg_, true);
  }
  static std::string bin_pkg_, q8_pkg_, gguf_pkg_;
  static CliRun convert_bin_, convert_q8_, convert_gguf_;
};
std::string CliTest::bin_pkg_, CliTest::q8_pkg_, CliTest::gguf_pkg_;
CliRun CliTest::convert_bin_, CliTest::convert_q8_, CliTest::convert_gguf_;

TEST_F(CliTest, ConvertsAllThreeImportPaths) {
  ASSERT_EQ(convert_bin_.code, 0) << convert_bin_.out;
  ASSERT_EQ(convert_q8_.code, 0) << convert_q8_.out;
  ASSERT_EQ(convert_gguf_.code, 0) << convert_gguf_.out;
  EXPECT_NE(convert_bin_.out.find("package digest"), std::string::npos);
  for (const std::string& p : {bin_pkg_, q8_pkg_, gguf_pkg_}) {
    CliRun v = Slm("validate " + p, true);
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_NE(v.out.find("ok:"), std::string::npos) << v.out;
  }
}

TEST_F(CliTest, GreedyFromBosMatchesLlama2cFromEveryImport) {
  ASSERT_EQ(convert_bin_.code, 0) << convert_bin_.out;
  std::vector<int> first;
  for (const std::string& p : {bin_pkg_, gguf_pkg_, q8_pkg_}) {
    CliRun g = Slm("generate " + p + " --prompt-ids 1 -n 60 --json");
    ASSERT_EQ(g.code, 0) << p;
    JsonValue v = ParseOrFail(g.out);
    std::string text = v.Find("text") ? v.Find("text")->as_string() : "";
    EXPECT_EQ(text.substr(0, sizeof(kReferenceText) - 1), kReferenceText) << p << ": " << text;
    std::vector<int> ids = Ids(v.Find("ids"));
    EXPECT_EQ(ids.size(), 60u);
    if (first.empty()) first = ids;
    EXPECT_EQ(ids, first) << p << " differs from the .bin import";
    EXPECT_EQ(Ids(v.Find("prompt_ids")), std::vector<int>{1});
    const JsonValue* d = v.Find("diagnostics");
    ASSERT_NE(d, nullptr);
    // The last sampled token is emitted but not yet run through the model.
    EXPECT_EQ(d->GetNumber("tokens_in_cache").value(), 60);
    EXPECT_GT(d->GetNumber("decode_tok_s").value(), 0);
    EXPECT_EQ(d->GetString("package_digest").value().size(), 64u);
  }
}

TEST_F(CliTest, StreamedTextEqualsJsonText) {
  ASSERT_EQ(convert_bin_.code, 0);
  CliRun plain = Slm("generate " + bin_pkg_ + " -n 30");
  CliRun json = Slm("generate " + bin_pkg_ + " -n 30 --json");
  ASSERT_EQ(plain.code, 0);
  JsonValue v = ParseOrFail(json.out);
  EXPECT_EQ(plain.out, v.Find("text")->as_string() + "\n");
}

TEST_F(CliTest, PromptTextAndSeededSamplingReplay) {
  ASSERT_EQ(convert_bin_.code, 0);
  std::string args = "generate " + bin_pkg_ +
                     " --prompt \"Once upon a time\" -n 40 --temp 0.9 --top-k 40 --top-p 0.9 --json";
  CliRun a = Slm(args + " --seed 7"), b = Slm(args + " --seed 7"), c = Slm(args + " --seed 8");
  ASSERT_EQ(a.code, 0) << a.out;
  JsonValue va = ParseOrFail(a.out), vb = ParseOrFail(b.out), vc = ParseOrFail(c.out);
  EXPECT_EQ(Ids(va.Find("ids")), Ids(vb.Find("ids")));
  EXPECT_NE(Ids(va.Find("ids")), Ids(vc.Find("ids")));
  std::vector<int> prompt = Ids(va.Find("prompt_ids"));
  ASSERT_FALSE(prompt.empty());
  EXPECT_EQ(prompt[0], 1) << "BOS first";
}

TEST_F(CliTest, ConvertIsDeterministicAndDigestIsIdentity) {
  ASSERT_EQ(convert_bin_.code, 0);
  std::string again = test::TempPath("cli_bin_again.slm");
  CliRun r = Slm("convert " + test::ModelPath("stories260K.bin") + " --tokenizer " +
              test::ModelPath("tok512.bin") + " -o " + again, true);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(ReadAll(again), ReadAll(bin_pkg_)) << "same input must give the same bytes";
  CliRun i = Slm("inspect " + bin_pkg_ + " --json");
  ASSERT_EQ(i.code, 0);
  JsonValue v = ParseOrFail(i.out);
  std::string digest = v.GetString("package_digest").value();
  EXPECT_NE(convert_bin_.out.find(digest), std::string::npos);
  const JsonValue* prov = v.Find("provenance");
  ASSERT_NE(prov, nullptr);
  EXPECT_EQ(prov->GetString("source_sha256").value(),
            "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696");
  EXPECT_EQ(v.Find("tensors")->size(), 2u + 9u * 5u);  // embd + final norm + 9 per layer (tied)
  EXPECT_EQ(v.Find("config")->GetInt("vocab_size").value(), 512);
  // The q8 import says its weights were dequantized.
  CliRun q = Slm("inspect " + q8_pkg_);
  EXPECT_NE(q.out.find("dequantized"), std::string::npos) << q.out;
  // Human-readable inspect shows the digest too.
  CliRun h = Slm("inspect " + bin_pkg_);
  EXPECT_NE(h.out.find(digest), std::string::npos);
}

TEST_F(CliTest, LogitsPrintsTheWholeVocabulary) {
  ASSERT_EQ(convert_bin_.code, 0);
  CliRun r = Slm("logits " + bin_pkg_ + " --prompt-ids 1,403,407 --json");
  ASSERT_EQ(r.code, 0);
  JsonValue v = ParseOrFail(r.out);
  ASSERT_NE(v.Find("logits"), nullptr);
  EXPECT_EQ(v.Find("logits")->size(), 512u);
  CliRun g = Slm("logits " + gguf_pkg_ + " --prompt-ids 1,403,407 --json");
  EXPECT_EQ(r.out, g.out) << "the .bin and .gguf imports hold the same f32 weights";
}

TEST_F(CliTest, TokenizeFromPackageAndTokenizerFiles) {
  ASSERT_EQ(convert_bin_.code, 0);
  CliRun a = Slm("tokenize " + bin_pkg_ + " --text \"Once upon a time\" --json");
  CliRun b = Slm("tokenize " + test::ModelPath("tok512.bin") + " --text \"Once upon a time\" --json");
  CliRun c = Slm("tokenize " + gguf_pkg_ + " --text \"Once upon a time\" --json --bos");
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  JsonValue va = ParseOrFail(a.out), vc = ParseOrFail(c.out);
  std::vector<int> ids = Ids(va.Find("ids")), bos_ids = Ids(vc.Find("ids"));
  ASSERT_FALSE(ids.empty());
  EXPECT_NE(ids[0], 1) << "no BOS unless --bos";
  ASSERT_EQ(bos_ids.size(), ids.size() + 1);
  EXPECT_EQ(bos_ids[0], 1);
  EXPECT_EQ(va.Find("pieces")->size(), ids.size());
  CliRun gpt2 = Slm("tokenize " + test::ModelPath("ggml-vocab-gpt-2.gguf") + " --text \"Hello world\" --json");
  ASSERT_EQ(gpt2.code, 0) << gpt2.out;
  EXPECT_EQ(Ids(ParseOrFail(gpt2.out).Find("ids")), (std::vector<int>{15496, 995}));
}

TEST_F(CliTest, ErrorsAreOneLineWithExitCodes) {
  ASSERT_EQ(convert_bin_.code, 0);
  struct Case { std::string args; int code; const char* needle; };
  std::string long_prompt = "1";
  for (int i = 0; i < 600; ++i) long_prompt += ",5";
  const Case cases[] = {
      {"inspect /nonexistent.slm", 1, "no such file"},
      {"generate " + bin_pkg_ + " --bogus", 2, "unknown flag"},
      {"frobnicate", 2, "unknown command"},
      {"generate " + bin_pkg_ + " --prompt-ids 1,2,x", 1, "element 2"},
      {"generate " + bin_pkg_ + " --prompt-ids 1,99999", 1, "99999"},
      {"generate " + bin_pkg_ + " --prompt-ids " + long_prompt, 1, "context"},
      {"generate " + bin_pkg_ + " --temp -1", 1, "temperature"},
      {"tokenize " + bin_pkg_ + " --text \"$(printf '\\377\\376')\"", 1, "UTF-8"},
      {"convert " + test::ModelPath("tok512.bin") + " -o " + test::TempPath("x.slm"), 1, ""},
      {"validate " + test::ModelPath("stories260K.gguf"), 1, "magic"},
  };
  for (const Case& c : cases) {
    CliRun r = Slm(c.args + " 2>&1 >/dev/null");
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << c.args << "\n" << r.out;
    EXPECT_EQ(r.out.rfind("slm: error: ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.args << "\n" << r.out;
  }
}

TEST_F(CliTest, ValidateNamesTheCorruptedTensor) {
  ASSERT_EQ(convert_bin_.code, 0);
  std::string bytes = ReadAll(bin_pkg_);
  std::string bad = test::TempPath("cli_corrupt.slm");
  bytes[bytes.size() - 10] ^= 0x40;  // inside the last tensor's data
  std::ofstream(bad, std::ios::binary) << bytes;
  CliRun r = Slm("validate " + bad + " 2>&1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("tensor"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SHA-256"), std::string::npos) << r.out;
}

TEST_F(CliTest, HelpForEveryCommand) {
  for (const char* cmd : {"convert", "inspect", "validate", "tokenize", "generate", "logits"}) {
    CliRun r = Slm(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_EQ(r.out.rfind(std::string("usage: slm ") + cmd, 0), 0u) << r.out;
  }
  CliRun top = Slm("--help");
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("generate"), std::string::npos);
}

}  // namespace
}  // namespace slm

// llama.cpp's tokenizer test vectors (tests/test-tokenizer-0.cpp): every case
// of ggml-vocab-*.gguf.inp must encode to the ids on the matching line of
// .out. Like test-tokenizer-0: add_special = false (no BOS), parse_special =
// false, and each case is the text between "\n__ggml_vocab_test__\n"
// separators (its own trailing newline belongs to the separator).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/json.h"
#include "import/gguf.h"
#include "test_util.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

namespace slm {
namespace {

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<Case> ReadCases(const std::string& vocab_path) {
  std::vector<Case> cases;
  auto inp = ReadFileToString(vocab_path + ".inp");
  auto out = ReadFileToString(vocab_path + ".out");
  EXPECT_TRUE(inp.ok()) << inp.status().ToString();
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!inp.ok() || !out.ok()) return cases;
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  while (pos < inp->size()) {
    const size_t next = inp->find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(inp->substr(pos));
      break;
    }
    texts.push_back(inp->substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::istringstream lines(*out);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    if (i >= texts.size()) break;
    Case c;
    c.text = texts[i++];
    std::istringstream nums(line);
    int32_t v;
    while (nums >> v) c.ids.push_back(v);
    cases.push_back(std::move(c));
  }
  EXPECT_EQ(i, texts.size()) << "input and output files have different numbers of cases";
  return cases;
}

std::string Ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

void RunVectors(const std::string& name, size_t expected_cases) {
  const std::string path = test::ModelPath(name);
  ASSERT_FALSE(path.empty());
  auto g = GgufFile::Open(path);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto data = TokenizerFromGguf(**g);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  auto tok = Tokenizer::Create(std::move(*data));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::vector<Case> cases = ReadCases(path);
  EXPECT_EQ(cases.size(), expected_cases);
  size_t passed = 0;
  for (const Case& c : cases) {
    auto ids = (*tok)->Encode(c.text, /*add_bos=*/false);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    EXPECT_EQ(*ids, c.ids) << "case text: '" << c.text << "'\n  expected: " << Ids(c.ids)
                           << "\n  got:      " << Ids(*ids);
    if (*ids == c.ids) ++passed;
  }
  std::printf("%s: %zu/%zu cases pass\n", name.c_str(), passed, cases.size());
}

TEST(TokenizerVectors, LlamaSpm) { RunVectors("ggml-vocab-llama-spm.gguf", 46); }
TEST(TokenizerVectors, Gpt2) { RunVectors("ggml-vocab-gpt-2.gguf", 46); }
TEST(TokenizerVectors, DeepSeekLlm) { RunVectors("ggml-vocab-deepseek-llm.gguf", 46); }
TEST(TokenizerVectors, DeepSeekCoder) { RunVectors("ggml-vocab-deepseek-coder.gguf", 46); }

}  // namespace
}  // namespace slm

namespace slm {
namespace {

// Google's sentencepiece on tok512.model and llama2-tokenizer.model
// (tests/golden/gen_spm_vectors.py): our SentencePiece-BPE must agree.
TEST(TokenizerVectors, SentencePieceReference) {
  auto text = ReadFileToString(test::SourceDir() + "/tests/golden/spm_vectors.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto root = ParseJson(*text, "spm_vectors.json");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  std::map<std::string, std::unique_ptr<Tokenizer>> toks;
  size_t passed = 0, total = 0;
  for (const JsonValue& c : root->Find("cases")->items()) {
    const std::string model = *c.GetString("model");
    if (toks.count(model) == 0) {
      const std::string path = test::ModelPath(model);
      ASSERT_FALSE(path.empty());
      auto d = LoadTokenizerFile(path);
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      auto t = Tokenizer::Create(std::move(*d));
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      toks[model] = std::move(*t);
    }
    const std::string s = *c.GetString("text");
    std::vector<int32_t> want;
    for (const JsonValue& v : c.Find("ids")->items()) want.push_back(static_cast<int32_t>(v.as_number()));
    auto got = toks[model]->Encode(s, false);
    ASSERT_TRUE(got.ok());
    ++total;
    if (*got == want) ++passed;
    else ADD_FAILURE() << model << ": '" << s << "'\n  expected: " << Ids(want) << "\n  got:      " << Ids(*got);
  }
  std::printf("sentencepiece reference: %zu/%zu cases pass\n", passed, total);
}

}  // namespace
}  // namespace slm

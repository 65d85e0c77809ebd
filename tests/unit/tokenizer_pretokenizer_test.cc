// Pre-tokenizer splits against tests/golden/pretokenizer_vectors.json, which
// tests/golden/gen_pretokenizer_vectors.py computes with Python's `regex`
// module from llama.cpp's regex lists (an independent implementation).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/file.h"
#include "base/json.h"
#include "base/utf8.h"
#include "test_util.h"
#include "tokenizer/pretokenizer.h"

namespace slm {
namespace {

std::vector<std::string> Split(PreTokenizerKind kind, const std::string& s) {
  std::vector<uint32_t> cps;
  std::vector<size_t> offs;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = Utf8Decode(s, i, &cp);
    if (n == 0) return {};
    cps.push_back(cp);
    offs.push_back(i);
    i += n;
  }
  offs.push_back(s.size());
  std::vector<std::string> out;
  for (auto [b, e] : PreTokenize(kind, cps)) out.push_back(s.substr(offs[b], offs[e] - offs[b]));
  return out;
}

TEST(PreTokenizerGolden, MatchesRegexReference) {
  auto text = ReadFileToString(test::SourceDir() + "/tests/golden/pretokenizer_vectors.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto root = ParseJson(*text, "pretokenizer_vectors.json");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  const JsonValue* cases = root->Find("cases");
  ASSERT_NE(cases, nullptr);
  ASSERT_GE(cases->size(), 1000u);
  size_t failures = 0;
  for (const JsonValue& c : cases->items()) {
    auto pre = c.GetString("pre");
    auto s = c.GetString("text");
    ASSERT_TRUE(pre.ok() && s.ok());
    auto kind = ParsePreTokenizer(*pre);
    ASSERT_TRUE(kind.ok()) << kind.status().ToString();
    std::vector<std::string> want;
    for (const JsonValue& ch : c.Find("chunks")->items()) want.push_back(ch.as_string());
    const std::vector<std::string> got = Split(*kind, *s);
    if (got != want && failures++ < 20) {
      std::string w, g;
      for (const auto& x : want) w += "[" + x + "]";
      for (const auto& x : got) g += "[" + x + "]";
      ADD_FAILURE() << *pre << ": '" << *s << "'\n  expected " << w << "\n  got      " << g;
    }
  }
  EXPECT_EQ(failures, 0u);
}

}  // namespace
}  // namespace slm

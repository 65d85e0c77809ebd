// src/eval: the regex dialect (checked against std::regex on ASCII patterns),
// cases-file parsing and validation, match rules and log-softmax.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "base/math.h"
#include "eval/cases.h"
#include "eval/regex.h"
#include "eval/score.h"

namespace slm::eval {
namespace {

bool Search(const std::string& p, const std::string& t) {
  auto re = Regex::Compile(p);
  EXPECT_TRUE(re.ok()) << p << ": " << re.status().ToString();
  return re.ok() && re->Search(t);
}

TEST(EvalRegex, Basics) {
  EXPECT_TRUE(Search("abc", "xxabcxx"));
  EXPECT_FALSE(Search("^abc", "xxabc"));
  EXPECT_TRUE(Search("^abc$", "abc"));
  EXPECT_FALSE(Search("^abc$", "abcd"));
  EXPECT_TRUE(Search("a.c", "abc"));
  EXPECT_FALSE(Search("a.c", "a\nc"));
  EXPECT_TRUE(Search("[a-c]+x", "zzbcax"));
  EXPECT_TRUE(Search("[^a-c]", "abcd"));
  EXPECT_FALSE(Search("^[^a-c]+$", "abcd"));
  EXPECT_TRUE(Search("\\d{3}-\\d{2,}", "call 555-1234"));
  EXPECT_FALSE(Search("^\\d{3}$", "1234"));
  EXPECT_TRUE(Search("(cat|dog)s?$", "two dogs"));
  EXPECT_TRUE(Search("\\w+\\s\\w+", "hello world"));
  EXPECT_TRUE(Search("\\.\\*\\(\\)", "a.*()b"));
  EXPECT_TRUE(Search("", "anything"));
  EXPECT_TRUE(Search("a|", "b"));
  EXPECT_TRUE(Search("(a*)*b", "aaab"));
  EXPECT_TRUE(Search("x{0}y", "y"));
  EXPECT_TRUE(Search("a{2,3}?", "aa"));
  EXPECT_TRUE(Search("[\\]\\-]", "-"));
}

TEST(EvalRegex, CodePointsNotBytes) {
  EXPECT_TRUE(Search("^.$", "\xC3\xA9"));  // é is one code point
  EXPECT_TRUE(Search("^[é-ë]{2}$", "\xC3\xA9\xC3\xAB"));
  EXPECT_TRUE(Search("^\xE2\x96\x81+$", "\xE2\x96\x81\xE2\x96\x81"));
  EXPECT_FALSE(Search("^..$", "\xC3\xA9"));
}

TEST(EvalRegex, NoExponentialBlowUp) {
  // (a*)*b on a^5000 is catastrophic for backtracking engines.
  std::string text(5000, 'a');
  auto re = Regex::Compile("(a|a)*(a*)*b");
  ASSERT_TRUE(re.ok());
  EXPECT_FALSE(re->Search(text));
  auto re2 = Regex::Compile("^(a?){30}a{30}$");
  ASSERT_TRUE(re2.ok());
  EXPECT_TRUE(re2->Search(std::string(30, 'a')));
}

TEST(EvalRegex, ErrorsNameTheOffset) {
  struct Bad {
    const char* p;
    const char* msg;
  } bad[] = {
      {"ab(c", "offset 2: unclosed '('"},
      {"abc)", "offset 3: unbalanced ')'"},
      {"*a", "offset 0: quantifier '*' has nothing to repeat"},
      {"a**", "offset 2: quantifier follows a quantifier"},
      {"[abc", "offset 0: unclosed '['"},
      {"a{3,2}", "max < min"},
      {"a{1001}", "above 1000"},
      {"(a)\\1", "offset 3: unsupported escape '\\1'"},
      {"a\\", "ends with '\\'"},
      {"[z-a]", "range out of order"},
      {"a{2", "expected '}'"},
  };
  for (const Bad& b : bad) {
    auto re = Regex::Compile(b.p);
    ASSERT_FALSE(re.ok()) << b.p;
    EXPECT_NE(re.status().message().find(b.msg), std::string::npos)
        << b.p << " -> " << re.status().message();
  }
  auto huge = Regex::Compile("(a{1000}){1000}");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("instructions"), std::string::npos);
}

// Differential check against an independent engine (std::regex, ECMAScript)
// over patterns inside the common subset of both dialects.
TEST(EvalRegex, AgreesWithStdRegex) {
  const char* patterns[] = {"a",
                            "ab*c",
                            "^a+b?$",
                            "(ab|cd)+",
                            "[a-c][^b]",
                            "\\d+\\.\\d*",
                            "x{2,4}y",
                            "^(a|b)*abb$",
                            "\\w\\s\\w",
                            "c.t",
                            "(a|ab)(c|bcd)(d*)",
                            "^$",
                            "b{0,1}c{1,}",
                            "[0-9a-f]{2}$",
                            "^(\\d\\d)?[ab]+$",
                            "a|b|c|"};
  const char* texts[] = {"",     "a",    "abc",    "ac",  "abbbc", "cdab", "xxxy",
                         "aabb", "babb", "ab abb", "1.5", "12.",   "cat",  "c\nt",
                         "abcd", "bcc",  "ff",     "0a",  "12ab",  "x y"};
  for (const char* p : patterns) {
    auto re = Regex::Compile(p);
    ASSERT_TRUE(re.ok()) << p;
    std::regex std_re(p, std::regex::ECMAScript);
    for (const char* t : texts) {
      EXPECT_EQ(re->Search(t), std::regex_search(std::string(t), std_re))
          << "/" << p << "/ on '" << t << "'";
    }
  }
}

// Random patterns and texts over a hostile alphabet: compile either
// succeeds or fails with a message; matching never crashes (run under ASan).
TEST(EvalRegex, RandomPatternsNeverCrash) {
  const std::string alphabet = "ab.()[]{}|*+?^$\\-,0123dws\xC3\xA9";
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  int compiled = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string p;
    for (size_t n = next() % 12; n > 0; --n) p += alphabet[next() % alphabet.size()];
    auto re = Regex::Compile(p);
    if (!re.ok()) {
      EXPECT_NE(re.status().message().find("regex"), std::string::npos) << p;
      continue;
    }
    ++compiled;
    for (int k = 0; k < 4; ++k) {
      std::string t;
      for (size_t n = next() % 16; n > 0; --n) t += alphabet[next() % alphabet.size()];
      (void)re->Search(t);
      (void)re->FullMatch(t);
    }
  }
  EXPECT_GT(compiled, 300);
}

TEST(EvalCases, RandomLinesAreRefusedWithTheLine) {
  const std::string good =
      "{\"id\":\"a\",\"prompt\":\"p\",\"expected\":\"e\",\"max_new_tokens\":5}";
  uint64_t state = 99;
  for (int i = 0; i < 2000; ++i) {
    std::string line = good;
    for (int k = 0; k < 3; ++k) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      char ch = static_cast<char>(state >> 20);
      line[(state >> 33) % line.size()] = ch == '\n' ? ' ' : ch;
    }
    auto cs = ParseCases(good + "\n" + line + "\n", "c.jsonl");
    if (!cs.ok()) {
      EXPECT_EQ(cs.status().message().rfind("c.jsonl: line 2", 0), 0u) << cs.status().message();
    }
  }
}

TEST(EvalCases, ParsesAllFields) {
  std::string text =
      "{\"id\":\"a\",\"prompt\":\"Once\",\"expected\":\" upon\",\"max_new_tokens\":5}\n"
      "\n"
      "{\"id\":\"b\",\"prompt_ids\":[1,2],\"expected\":\"^x+$\",\"max_new_tokens\":0,\"match\":"
      "\"regex\","
      "\"weight\":2.5,\"tags\":[\"t1\",\"t2\"],\"reference\":\"xx\"}\r\n";
  auto cs = ParseCases(text, "c.jsonl");
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  ASSERT_EQ(cs->size(), 2u);
  EXPECT_EQ((*cs)[0].match, MatchRule::kExact);
  EXPECT_EQ((*cs)[0].weight, 1);
  EXPECT_EQ((*cs)[1].line, 3);
  EXPECT_TRUE((*cs)[1].has_prompt_ids);
  EXPECT_EQ((*cs)[1].prompt_ids, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ((*cs)[1].match, MatchRule::kRegex);
  EXPECT_EQ((*cs)[1].tags.size(), 2u);
  EXPECT_EQ((*cs)[1].reference, "xx");
}

TEST(EvalCases, ErrorsNameLineAndField) {
  const std::string ok =
      "{\"id\":\"a\",\"prompt\":\"p\",\"expected\":\"e\",\"max_new_tokens\":5}\n";
  struct Bad {
    std::string line;
    std::string msg;
  } bad[] = {
      {"{\"id\":\"b\",\"prompt\":\"p\",\"expected\":\"e\",\"max_new_tokens\":5,\"match\":"
       "\"fuzzy\"}",
       "c.jsonl: line 2: field 'match': expected one of exact|prefix|contains|regex, found "
       "'fuzzy'"},
      {"{\"id\":\"b\",\"prompt\":\"p\",\"expected\":\"a(\",\"max_new_tokens\":5,\"match\":"
       "\"regex\"}",
       "c.jsonl: line 2: field 'expected': bad regex: regex at offset 1: unclosed '('"},
      {"{\"id\":\"a\",\"prompt\":\"p\",\"expected\":\"e\",\"max_new_tokens\":5}",
       "line 2: field 'id': 'a' already used on line 1"},
      {"{\"id\":\"b\",\"expected\":\"e\",\"max_new_tokens\":5}", "line 2: field 'prompt': missing"},
      {"{\"id\":\"b\",\"prompt\":\"p\",\"expected\":\"e\",\"max_new_tokens\":-1}",
       "line 2: field 'max_new_tokens': expected an integer 0..1048576, found -1"},
      {"{\"id\":\"b\",\"prompt\":\"p\",\"expected\":\"e\",\"max_new_tokens\":1.5}",
       "field 'max_new_tokens'"},
      {"{\"id\":\"b\",\"prompt\":\"p\",\"expected\":\"\",\"max_new_tokens\":1}",
       "field 'expected': expected a non-empty"},
      {"{\"id\":\"b\",\"prompt\":\"p\",\"expected\":\"e\",\"max_new_tokens\":1,\"weight\":-1}",
       "field 'weight'"},
      {"{\"id\":\"b\",\"prompt\":\"p\",\"expected\":\"e\",\"max_new_tokens\":1,\"tags\":[1]}",
       "field 'tags': element 0"},
      {"{\"id\":\"b\",\"prompt_ids\":[1,-2],\"expected\":\"e\",\"max_new_tokens\":1}",
       "field 'prompt_ids': element 1"},
      {"{\"id\":\"b\",\"prompt\":\"p\",\"expcted\":\"e\",\"max_new_tokens\":1}",
       "field 'expcted': unknown field"},
      {"{\"id\":\"b\",", "c.jsonl: line 2"},
      {"[1,2]", "line 2: expected a JSON object"},
      {"{\"id\":\"b\",\"prompt\":\"\xC3\x28\",\"expected\":\"e\",\"max_new_tokens\":1}",
       "line 2: invalid UTF-8"},
  };
  for (const Bad& b : bad) {
    auto cs = ParseCases(ok + b.line + "\n", "c.jsonl");
    ASSERT_FALSE(cs.ok()) << b.line;
    EXPECT_NE(cs.status().message().find(b.msg), std::string::npos)
        << b.line << "\n  -> " << cs.status().message();
  }
  EXPECT_FALSE(ParseCases("\n\n", "c.jsonl").ok());
}

TEST(EvalCases, MegabyteLinesAreHandled) {
  std::string big(1000000, 'x');
  auto cs = ParseCases(
      "{\"id\":\"a\",\"prompt\":\"" + big + "\",\"expected\":\"e\",\"max_new_tokens\":1}\n", "c");
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ((*cs)[0].prompt.size(), big.size());
  std::string huge(kMaxLineBytes + 1, ' ');
  auto too_big = ParseCases(huge, "c");
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("c: line 1: 16777217 bytes, expected at most"),
            std::string::npos);
}

TEST(EvalScore, MatchRulesAndPartialCredit) {
  EvalCase c;
  c.expected = "abcd";
  c.match = MatchRule::kExact;
  EXPECT_TRUE(MatchOutput(c, "abcd").pass);
  MatchResult r = MatchOutput(c, "abxy");
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.score, 0.5);
  EXPECT_EQ(MatchOutput(c, "abcdefgh").score, 0.5);
  c.match = MatchRule::kPrefix;
  EXPECT_TRUE(MatchOutput(c, "abcdefgh").pass);
  EXPECT_EQ(MatchOutput(c, "abc").score, 0.75);
  c.match = MatchRule::kContains;
  EXPECT_TRUE(MatchOutput(c, "xxabcdxx").pass);
  EXPECT_FALSE(MatchOutput(c, "abc").pass);
}

TEST(EvalScore, LogSoftmaxMatchesDefinition) {
  std::vector<float> l = {1.0f, 2.0f, 3.0f, -1.0f};
  double z = 0;
  for (float v : l) z += ExpD(v);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(LogSoftmaxAt(l, i), l[i] - LogD(z), 1e-12);
  double total = 0;
  for (int i = 0; i < 4; ++i) total += ExpD(LogSoftmaxAt(l, i));
  EXPECT_NEAR(total, 1.0, 1e-12);
}

}  // namespace
}  // namespace slm::eval

// SHA-256, UTF-8 and JSON checked against independent implementations:
// the expected digests come from Python's hashlib, the UTF-8 verdicts from
// Python's strict decoder, the JSON documents from Python's json module.
#include <gtest/gtest.h>

#include "base/json.h"
#include "base/sha256.h"
#include "base/utf8.h"
#include "base/file.h"
#include "test_util.h"

namespace slm {
namespace {

TEST(Sha256, MatchesHashlib) {
  struct Case { std::string data; const char* hex; };
  std::string all_bytes;
  for (int r = 0; r < 3; ++r) for (int i = 0; i < 256; ++i) all_bytes += char(i);
  const Case cases[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      {all_bytes, "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363"},
      {std::string(55, 'x'), "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {std::string(56, 'x'), "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
      {std::string(63, 'x'), "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
      {std::string(64, 'x'), "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
      {std::string(65, 'x'), "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DigestHex(Sha256Of(c.data)), c.hex) << "length " << c.data.size();
    // Incremental updates in odd chunk sizes give the same digest.
    Sha256 s;
    for (size_t i = 0; i < c.data.size(); i += 7) s.Update(std::string_view(c.data).substr(i, 7));
    EXPECT_EQ(DigestHex(s.Finish()), c.hex);
  }
}

TEST(Sha256, MatchesSourcesMdForFixture) {
  std::string path = test::ModelPath("stories260K.bin");
  ASSERT_FALSE(path.empty());
  auto f = MappedFile::Open(path);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(DigestHex(Sha256Of((*f)->bytes())),
            "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696");
}

TEST(Sha256, HexRoundTrip) {
  Digest d = Sha256Of("abc"), e{};
  ASSERT_TRUE(ParseDigestHex(DigestHex(d), &e));
  EXPECT_EQ(d, e);
  EXPECT_FALSE(ParseDigestHex("zz", &e));
}

TEST(Utf8, VerdictsMatchPythonStrictDecoder) {
  // {bytes, valid?} where validity is Python's bytes.decode('utf-8') verdict.
  const std::pair<std::string, bool> cases[] = {
      {"hello", true}, {"\xC3\xA9", true}, {"\xE2\x82\xAC", true}, {"\xF0\x9F\x98\x80", true},
      {"\xC0\xAF", false},          // overlong '/'
      {"\xE0\x80\xAF", false},      // overlong
      {"\xED\xA0\x80", false},      // surrogate U+D800
      {"\xF4\x90\x80\x80", false},  // > U+10FFFF
      {"\x80", false}, {"\xC3", false}, {"\xE2\x82", false}, {"\xFF", false},
      {"\xF4\x8F\xBF\xBF", true},   // U+10FFFF
      {"\xEF\xBB\xBF", true},       // BOM
  };
  for (const auto& [s, valid] : cases) EXPECT_EQ(ValidateUtf8(s).ok(), valid) << s;
  Status st = ValidateUtf8(std::string("ab\xFF"));
  EXPECT_NE(st.message().find("byte offset 2"), std::string::npos) << st.message();
}

TEST(Utf8, EncodeDecodeAllPlanes) {
  for (uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    AppendUtf8(&s, cp);
    uint32_t back = 0;
    ASSERT_EQ(Utf8Decode(s, 0, &back), s.size());
    EXPECT_EQ(back, cp);
  }
}

TEST(Utf8, IncompleteTail) {
  EXPECT_EQ(Utf8IncompleteTail("abc"), 0u);
  EXPECT_EQ(Utf8IncompleteTail("ab\xE2\x82"), 2u);
  EXPECT_EQ(Utf8IncompleteTail("ab\xE2\x82\xAC"), 0u);
  EXPECT_EQ(Utf8IncompleteTail("\xF0\x9F\x98"), 3u);
  EXPECT_EQ(Utf8IncompleteTail("\xC3"), 1u);
}

TEST(Json, ParsesPythonJsonOutput) {
  // json.dumps({"a": [1, 2.5, -3e-07, true, null], "s": "\u00e9\ud83d\ude00\n\"", "o": {}})
  auto v = ParseJson(R"({"a": [1, 2.5, -3e-07, true, null], "s": "\u00e9\ud83d\ude00\n\"", "o": {}})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->size(), 5u);
  EXPECT_EQ(a->items()[0].as_number(), 1);
  EXPECT_EQ(a->items()[1].as_number(), 2.5);
  EXPECT_EQ(a->items()[2].as_number(), -3e-07);
  EXPECT_TRUE(a->items()[3].as_bool());
  EXPECT_TRUE(a->items()[4].is_null());
  EXPECT_EQ(*v->GetString("s"), "\xC3\xA9\xF0\x9F\x98\x80\n\"");
  EXPECT_TRUE(v->Find("o")->is_object());
  // Dump then parse again gives the same document.
  auto again = ParseJson(v->Dump());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Dump(), v->Dump());
  EXPECT_EQ(v->Dump(), R"({"a":[1,2.5,-3e-07,true,null],"s":"é😀\n\"","o":{}})");
}

TEST(Json, RejectsBadDocumentsWithPosition) {
  const char* bad[] = {"", "{", "[1,]", "{\"a\" 1}", "\"\\ud800\"", "01", "1.", "nul",
                       "{\"a\":1,\"a\":2}", "\"\xFF\"", "[1] x", "\"a\nb\""};
  for (const char* s : bad) {
    auto v = ParseJson(s, "doc");
    ASSERT_FALSE(v.ok()) << s;
    EXPECT_NE(v.status().message().find("doc: line 1, column"), std::string::npos)
        << v.status().message();
  }
}

TEST(Json, BoundsNestingDepth) {
  std::string deep(100000, '[');
  auto v = ParseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("nesting deeper than"), std::string::npos);
  std::string ok_depth = std::string(200, '[') + std::string(200, ']');
  EXPECT_TRUE(ParseJson(ok_depth).ok());
}

TEST(Json, ParsesRealTokenizerJson) {
  std::string path = test::ModelPath("gpt2-tokenizer.json");
  ASSERT_FALSE(path.empty());
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  auto v = ParseJson(*text, path);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const JsonValue* model = v->Find("model");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(*model->GetString("type"), "BPE");
  EXPECT_EQ(model->Find("vocab")->size(), 50257u);
  EXPECT_EQ(model->Find("merges")->size(), 50000u);
}

}  // namespace
}  // namespace slm

// Tokenizer behaviour beyond llama.cpp's vectors: round trips, invalid input,
// streaming decode, special tokens, and Create's validation.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/prng.h"
#include "base/utf8.h"
#include "import/gguf.h"
#include "test_util.h"
#include "tokenizer/load.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace slm {
namespace {

std::unique_ptr<Tokenizer> LoadGguf(const std::string& name) {
  const std::string path = test::ModelPath(name);
  if (path.empty()) return nullptr;
  auto g = GgufFile::Open(path);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return nullptr;
  auto d = TokenizerFromGguf(**g);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  if (!d.ok()) return nullptr;
  auto t = Tokenizer::Create(std::move(*d));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : nullptr;
}

// Random valid UTF-8 built from edge cases: ASCII, whitespace runs, control
// bytes, 2/3/4-byte characters, combining marks, emoji ZWJ sequences.
std::string RandomText(Prng* rng, bool allow_spm_space) {
  static const char* const kAtoms[] = {
      "a", "Z", "7", " ", "  ", "\n", "\n\n", "\t", "\r\n", "'s", "'LL", "!", "...", "\x01", "\x7f",
      "" /* NUL, see below */, "\xC3\xA9", "e\xCC\x81", "\xD0\xB6", "\xE4\xB8\xAD", "\xE2\x80\x8B",
      "\xE3\x80\x80", "\xEF\xBF\xBD", "\xF0\x9F\xA6\x99", "\xF0\x9F\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB",
      "\xF4\x8F\xBF\xBF", "\xE1\x9E\x80", "123", "\xD9\xA3", "Hello", " world", "<s>", "<|endoftext|>"};
  const size_t n_atoms = sizeof(kAtoms) / sizeof(kAtoms[0]);
  std::string s;
  const int len = static_cast<int>(rng->Next() % 24);
  for (int i = 0; i < len; ++i) {
    const size_t k = rng->Next() % (n_atoms + 1);
    if (k == n_atoms) {
      if (allow_spm_space) s += "\xE2\x96\x81";
      continue;
    }
    if (k == 15) s.push_back('\0');  // the NUL atom (c_str() would drop it)
    else s += kAtoms[k];
  }
  return s;
}

void CheckRoundTrip(const Tokenizer& t, bool allow_spm_space, int iterations) {
  Prng rng(1234);
  for (int i = 0; i < iterations; ++i) {
    const std::string s = RandomText(&rng, allow_spm_space);
    for (bool bos : {false, true}) {
      auto ids = t.Encode(s, bos);
      ASSERT_TRUE(ids.ok()) << ids.status().ToString();
      EXPECT_EQ(t.Decode(*ids), s) << "bos=" << bos;
      // Streaming decode gives the same text.
      StreamDecoder sd(t);
      std::string streamed;
      for (int32_t id : *ids) {
        const std::string part = sd.Feed(id);
        EXPECT_TRUE(ValidateUtf8(part).ok());
        streamed += part;
      }
      streamed += sd.Flush();
      EXPECT_EQ(streamed, s);
    }
  }
}

TEST(Tokenizer, SpmRoundTrip) {
  auto t = LoadGguf("ggml-vocab-llama-spm.gguf");
  ASSERT_NE(t, nullptr);
  // U+2581 itself cannot survive SentencePiece's escaping (it decodes to ' ').
  CheckRoundTrip(*t, /*allow_spm_space=*/false, 300);
  auto ids = t->Encode("a\xE2\x96\x81" "b", false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(t->Decode(*ids), "a b");
}

TEST(Tokenizer, ByteLevelRoundTrip) {
  for (const char* name : {"ggml-vocab-gpt-2.gguf", "ggml-vocab-deepseek-llm.gguf",
                           "ggml-vocab-deepseek-coder.gguf"}) {
    auto t = LoadGguf(name);
    ASSERT_NE(t, nullptr) << name;
    CheckRoundTrip(*t, /*allow_spm_space=*/true, 200);
  }
}

TEST(Tokenizer, EdgeStringsRoundTrip) {
  auto spm = LoadGguf("ggml-vocab-llama-spm.gguf");
  auto bpe = LoadGguf("ggml-vocab-gpt-2.gguf");
  ASSERT_NE(spm, nullptr);
  ASSERT_NE(bpe, nullptr);
  for (const std::string& s : {std::string(""), std::string(" "), std::string("   "), std::string("\n"),
                              std::string(" leading"), std::string("trailing "), std::string(1000, ' '),
                              std::string(300, 'a'), std::string("\xF0\x9F\xA6\x99\xF0\x9F\xA6\x99")}) {
    for (const Tokenizer* t : {spm.get(), bpe.get()}) {
      auto ids = t->Encode(s, false);
      ASSERT_TRUE(ids.ok());
      EXPECT_EQ(t->Decode(*ids), s);
    }
  }
}

TEST(Tokenizer, AddBos) {
  auto t = LoadGguf("ggml-vocab-llama-spm.gguf");
  ASSERT_NE(t, nullptr);
  auto with = t->Encode("Hello world", true);
  auto without = t->Encode("Hello world", false);
  ASSERT_TRUE(with.ok() && without.ok());
  ASSERT_EQ(with->size(), without->size() + 1);
  EXPECT_EQ((*with)[0], 1);
  EXPECT_EQ(*without, (std::vector<int32_t>{15043, 3186}));  // "▁Hello", "▁world"
  auto empty = t->Encode("", true);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, std::vector<int32_t>{1});
  EXPECT_EQ(t->TokenBytes(1), "");   // control
  EXPECT_EQ(t->TokenBytes(13), "\n");  // <0x0A>
  EXPECT_EQ(t->TokenBytes(15043), " Hello");
}

TEST(Tokenizer, InvalidUtf8IsAnErrorNamingTheOffset) {
  auto spm = LoadGguf("ggml-vocab-llama-spm.gguf");
  auto bpe = LoadGguf("ggml-vocab-gpt-2.gguf");
  ASSERT_NE(spm, nullptr);
  ASSERT_NE(bpe, nullptr);
  for (const Tokenizer* t : {spm.get(), bpe.get()}) {
    for (const std::string& bad : {std::string("abc\xFF"), std::string("ab\xC3"), std::string("\xED\xA0\x80"),
                                  std::string("\xC0\xAF"), std::string("x\x80y"), std::string("\xF4\x90\x80\x80")}) {
      auto ids = t->Encode(bad, false);
      ASSERT_FALSE(ids.ok());
      EXPECT_EQ(ids.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(ids.status().message().find("offset"), std::string::npos) << ids.status().message();
    }
    auto ids = t->Encode("abc\xFF", false);
    EXPECT_NE(ids.status().message().find("offset 3"), std::string::npos) << ids.status().message();
  }
}

TEST(StreamDecoder, HoldsBackSplitCharacter) {
  auto t = LoadGguf("ggml-vocab-llama-spm.gguf");
  ASSERT_NE(t, nullptr);
  // U+1F999 (llama) is not a Llama 2 piece: it falls back to four byte tokens.
  auto ids = t->Encode("\xF0\x9F\xA6\x99", false);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 5u);  // "▁" + 4 bytes
  StreamDecoder sd(*t);
  EXPECT_EQ(sd.Feed((*ids)[0]), "");  // the dummy-prefix space is dropped
  EXPECT_EQ(sd.Feed((*ids)[1]), "");
  EXPECT_EQ(sd.Feed((*ids)[2]), "");
  EXPECT_EQ(sd.Feed((*ids)[3]), "");
  EXPECT_EQ(sd.Feed((*ids)[4]), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(sd.Flush(), "");
  // An incomplete sequence at the end flushes as one U+FFFD per byte.
  StreamDecoder cut(*t);
  EXPECT_EQ(cut.Feed((*ids)[1]), "");
  EXPECT_EQ(cut.Feed((*ids)[2]), "");
  EXPECT_EQ(cut.Flush(), "\xEF\xBF\xBD\xEF\xBF\xBD");
  // A stray continuation byte cannot complete anything: replaced at once.
  StreamDecoder stray(*t);
  EXPECT_EQ(stray.Feed(t->Find("<0x80>")), "\xEF\xBF\xBD");
  EXPECT_EQ(stray.Feed(t->Find("a")), "a");
}

TEST(StreamDecoder, ByteLevelSplitCharacter) {
  auto t = LoadGguf("ggml-vocab-gpt-2.gguf");
  ASSERT_NE(t, nullptr);
  auto ids = t->Encode(" \xF0\x9F\xA6\x99", false);  // " 🦙": split across tokens
  ASSERT_TRUE(ids.ok());
  ASSERT_GT(ids->size(), 1u);
  StreamDecoder sd(*t);
  std::string all;
  for (size_t i = 0; i < ids->size(); ++i) {
    const std::string part = sd.Feed((*ids)[i]);
    if (i + 1 < ids->size()) {
      EXPECT_EQ(part.find('\xF0'), std::string::npos);  // never a partial character
    }
    all += part;
  }
  EXPECT_EQ(all, " \xF0\x9F\xA6\x99");
}

TEST(Tokenizer, ControlTokensAreTextUnlessParseSpecial) {
  auto t = LoadGguf("ggml-vocab-gpt-2.gguf");
  ASSERT_NE(t, nullptr);
  const int32_t eot = t->Find("<|endoftext|>");
  ASSERT_EQ(eot, 50256);
  auto plain = t->Encode("a<|endoftext|>b", false);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(std::count(plain->begin(), plain->end(), eot), 0);
  auto special = t->Encode("a<|endoftext|>b", false, /*parse_special=*/true);
  ASSERT_TRUE(special.ok());
  ASSERT_EQ(special->size(), 3u);
  EXPECT_EQ((*special)[1], eot);
}

// A tiny hand-made vocabulary: user-defined pieces are matched verbatim and
// are followed by a fresh dummy prefix, as in llama.cpp.
TEST(Tokenizer, UserDefinedPiecesSplitTheText) {
  TokenizerData d;
  d.type = TokenizerType::kSentencePiece;
  d.pieces = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "\xE2\x96\x81" "a", "ab", "<sep>"};
  d.scores = {0, 0, 0, -1, -1, -1, -2, -3, 0};
  d.attrs = {2, 3, 3, 1, 1, 1, 1, 1, 4};
  d.bos_id = 1;
  d.eos_id = 2;
  d.unk_id = 0;
  auto t = Tokenizer::Create(d);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto ids = (*t)->Encode("ab<sep>ab", false);
  ASSERT_TRUE(ids.ok());
  // "▁ab": "▁a" (score -2) merges before "ab" (-3); then "<sep>", then "▁a" "b".
  EXPECT_EQ(*ids, (std::vector<int32_t>{6, 5, 8, 6, 5}));
  EXPECT_EQ((*t)->Decode(*ids), "ab<sep> ab");
  // A character with no piece and no byte pieces becomes <unk>.
  auto unk = (*t)->Encode("z", false);
  ASSERT_TRUE(unk.ok());
  EXPECT_EQ(*unk, (std::vector<int32_t>{3, 0}));
}

TEST(Tokenizer, SpmTiesGoToTheLeftmostPair) {
  TokenizerData d;
  d.type = TokenizerType::kSentencePiece;
  d.pieces = {"<unk>", "a", "aa"};
  d.scores = {0, 0, -1};
  d.attrs = {2, 1, 1};
  d.unk_id = 0;
  d.add_space_prefix = false;
  auto t = Tokenizer::Create(d);
  ASSERT_TRUE(t.ok());
  auto ids = (*t)->Encode("aaa", false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{2, 1}));
}

TEST(Tokenizer, CreateRejectsInconsistentData) {
  TokenizerData good;
  good.type = TokenizerType::kByteLevelBpe;
  good.pre = "gpt2";
  good.pieces = {"a", "b", "ab"};
  good.attrs = {1, 1, 1};
  good.merges = {"a b"};
  ASSERT_TRUE(Tokenizer::Create(good).ok());

  TokenizerData d = good;
  d.attrs = {1, 1};
  EXPECT_EQ(Tokenizer::Create(d).status().code(), StatusCode::kInvalidArgument);
  d = good;
  d.bos_id = 3;
  EXPECT_EQ(Tokenizer::Create(d).status().code(), StatusCode::kOutOfRange);
  d = good;
  d.merges = {"a c"};
  auto s = Tokenizer::Create(d);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("merge 0"), std::string::npos) << s.status().message();
  d = good;
  d.merges = {"ab"};
  EXPECT_FALSE(Tokenizer::Create(d).ok());
  d = good;
  d.pieces[1] = "\xFF";
  EXPECT_FALSE(Tokenizer::Create(d).ok());
  d = good;
  d.attrs[0] = 9;
  EXPECT_FALSE(Tokenizer::Create(d).ok());
  d = good;
  d.pre = "no-such-pre";
  EXPECT_EQ(Tokenizer::Create(d).status().code(), StatusCode::kUnsupported);
  d = good;
  d.type = TokenizerType::kSentencePiece;  // needs scores
  EXPECT_FALSE(Tokenizer::Create(d).ok());
  d = good;
  d.pieces.clear();
  d.attrs.clear();
  EXPECT_FALSE(Tokenizer::Create(d).ok());
}

std::vector<std::string> Split(PreTokenizerKind kind, const std::string& s) {
  std::vector<uint32_t> cps;
  std::vector<size_t> offs;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = Utf8Decode(s, i, &cp);
    cps.push_back(cp);
    offs.push_back(i);
    i += n;
  }
  offs.push_back(s.size());
  std::vector<std::string> out;
  for (auto [b, e] : PreTokenize(kind, cps)) out.push_back(s.substr(offs[b], offs[e] - offs[b]));
  return out;
}

TEST(PreTokenizer, Patterns) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Split(PreTokenizerKind::kGpt2, "Hello world's  end 123"),
            (V{"Hello", " world", "'s", " ", " end", " 123"}));
  EXPECT_EQ(Split(PreTokenizerKind::kGpt2, "x  \n"), (V{"x", "  \n"}));
  EXPECT_EQ(Split(PreTokenizerKind::kLlama3, "I'LL pay 12345!!\n\n  ok"),
            (V{"I", "'LL", " pay", " ", "123", "45", "!!\n\n", " ", " ok"}));
  EXPECT_EQ(Split(PreTokenizerKind::kQwen2, "a 12"), (V{"a", " ", "1", "2"}));
  EXPECT_EQ(Split(PreTokenizerKind::kSmolLm, "a 12"), (V{"a", " ", "1", "2"}));
  EXPECT_EQ(Split(PreTokenizerKind::kDeepSeekCoder, "if x:\n  y12"),
            (V{"if", " x", ":", "\n", " ", " y", "1", "2"}));
  EXPECT_EQ(Split(PreTokenizerKind::kDeepSeekLlm, "ab 中文 3.14  "),
            (V{"ab", " ", "中文", " ", "3", ".", "14", "  "}));
}

TEST(Unicode, Classes) {
  EXPECT_EQ(GetUnicodeClass('a'), UnicodeClass::kLetter);
  EXPECT_EQ(GetUnicodeClass('9'), UnicodeClass::kNumber);
  EXPECT_EQ(GetUnicodeClass('!'), UnicodeClass::kPunctuation);
  EXPECT_EQ(GetUnicodeClass('$'), UnicodeClass::kSymbol);
  EXPECT_EQ(GetUnicodeClass(0x0301), UnicodeClass::kMark);
  EXPECT_EQ(GetUnicodeClass(0x4E2D), UnicodeClass::kLetter);
  EXPECT_EQ(GetUnicodeClass(0x0663), UnicodeClass::kNumber);  // Arabic-Indic three
  EXPECT_EQ(GetUnicodeClass(0x00A0), UnicodeClass::kSeparator);
  EXPECT_EQ(GetUnicodeClass(0x0378), UnicodeClass::kUndefined);
  EXPECT_EQ(GetUnicodeClass(0xE000), UnicodeClass::kControl);  // private use
  EXPECT_EQ(GetUnicodeClass(0x110000), UnicodeClass::kUndefined);
  EXPECT_TRUE(IsWhitespace(0x3000));
  EXPECT_TRUE(IsWhitespace(0x85));
  EXPECT_FALSE(IsWhitespace(0x200B));
  EXPECT_FALSE(IsWhitespace(0x1C));
  for (int b = 0; b < 256; ++b) EXPECT_EQ(UnicodeToByte(ByteToUnicode(static_cast<uint8_t>(b))), b);
  EXPECT_EQ(ByteToUnicode(' '), 0x120u);  // 'Ġ'
  EXPECT_EQ(ByteToUnicode('\n'), 0x10Au);  // 'Ċ'
}

}  // namespace
}  // namespace slm

namespace slm {
namespace {

// Large and pathological inputs stay fast (the merge loops are O(n log n)).
TEST(Tokenizer, LargeInputs) {
  auto spm = LoadGguf("ggml-vocab-llama-spm.gguf");
  auto bpe = LoadGguf("ggml-vocab-deepseek-llm.gguf");
  ASSERT_NE(spm, nullptr);
  ASSERT_NE(bpe, nullptr);
  std::string prose;
  while (prose.size() < (1 << 20)) prose += "Once upon a time, \xE4\xB8\xAD\xE6\x96\x87 there was 12345 ... \n";
  const std::string run(1 << 18, 'a');  // one 256 KiB pre-token chunk
  const std::string spaces(1 << 18, ' ');
  for (const Tokenizer* t : {spm.get(), bpe.get()}) {
    for (const std::string* s : {static_cast<const std::string*>(&prose), &run, &spaces}) {
      auto ids = t->Encode(*s, false);
      ASSERT_TRUE(ids.ok());
      EXPECT_EQ(t->Decode(*ids), *s);
    }
  }
}

}  // namespace
}  // namespace slm

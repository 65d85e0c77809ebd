// Tokenizer importers: the same vocabulary from different formats must agree,
// and malformed files must fail with a message, never crash.
#include "tokenizer/load.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/prng.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace slm {
namespace {

TokenizerData Load(const std::string& name) {
  const std::string path = test::ModelPath(name);
  EXPECT_FALSE(path.empty());
  auto d = LoadTokenizerFile(path);
  EXPECT_TRUE(d.ok()) << name << ": " << d.status().ToString();
  return d.ok() ? std::move(*d) : TokenizerData{};
}

std::vector<uint8_t> Bytes(const std::string& name) {
  const std::string path = test::ModelPath(name);
  EXPECT_FALSE(path.empty());
  auto s = ReadFileToString(path);
  EXPECT_TRUE(s.ok());
  return s.ok() ? std::vector<uint8_t>(s->begin(), s->end()) : std::vector<uint8_t>{};
}

void ExpectSamePiecesAndScores(const TokenizerData& a, const TokenizerData& b, const char* what) {
  ASSERT_EQ(a.pieces.size(), b.pieces.size()) << what;
  ASSERT_EQ(a.scores.size(), b.scores.size()) << what;
  size_t piece_diffs = 0, score_diffs = 0;
  for (size_t i = 0; i < a.pieces.size(); ++i) {
    if (a.pieces[i] != b.pieces[i] && piece_diffs++ < 5) {
      ADD_FAILURE() << what << ": piece " << i << ": '" << a.pieces[i] << "' vs '" << b.pieces[i] << "'";
    }
    if (a.scores[i] != b.scores[i] && score_diffs++ < 5) {
      ADD_FAILURE() << what << ": score " << i << ": " << a.scores[i] << " vs " << b.scores[i];
    }
  }
  EXPECT_EQ(piece_diffs, 0u) << what;
  EXPECT_EQ(score_diffs, 0u) << what;
  EXPECT_EQ(a.bos_id, b.bos_id) << what;
  EXPECT_EQ(a.eos_id, b.eos_id) << what;
  EXPECT_EQ(a.unk_id, b.unk_id) << what;
}

std::vector<std::string> VectorInputs() {
  std::vector<std::string> texts;
  auto inp = ReadFileToString(test::ModelPath("ggml-vocab-gpt-2.gguf") + ".inp");
  EXPECT_TRUE(inp.ok());
  if (!inp.ok()) return texts;
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0;
  while (pos < inp->size()) {
    size_t next = inp->find(sep, pos);
    if (next == std::string::npos) next = inp->size();
    texts.push_back(inp->substr(pos, next - pos));
    pos = next + sep.size();
  }
  return texts;
}

void ExpectSameEncodings(const TokenizerData& a, const TokenizerData& b, const char* what) {
  auto ta = Tokenizer::Create(a);
  auto tb = Tokenizer::Create(b);
  ASSERT_TRUE(ta.ok()) << ta.status().ToString();
  ASSERT_TRUE(tb.ok()) << tb.status().ToString();
  for (const std::string& s : VectorInputs()) {
    auto ia = (*ta)->Encode(s, true);
    auto ib = (*tb)->Encode(s, true);
    ASSERT_TRUE(ia.ok() && ib.ok());
    EXPECT_EQ(*ia, *ib) << what << ": '" << s << "'";
  }
}

TEST(TokenizerLoad, Tok512BinMatchesModel) {
  TokenizerData bin = Load("tok512.bin");
  TokenizerData model = Load("tok512.model");
  EXPECT_EQ(bin.pieces.size(), 512u);
  ExpectSamePiecesAndScores(bin, model, "tok512.bin vs tok512.model");
  EXPECT_EQ(bin.attrs, model.attrs);
  ExpectSameEncodings(bin, model, "tok512");
}

TEST(TokenizerLoad, Llama2BinModelAndGgufAgree) {
  TokenizerData bin = Load("llama2-tokenizer.bin");
  TokenizerData model = Load("llama2-tokenizer.model");
  TokenizerData gguf = Load("ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(gguf.pieces.size(), 32000u);
  ExpectSamePiecesAndScores(bin, model, "llama2 .bin vs .model");
  ExpectSamePiecesAndScores(model, gguf, "llama2 .model vs .gguf");
  EXPECT_EQ(model.attrs, gguf.attrs);
  EXPECT_EQ(bin.attrs, gguf.attrs);
  EXPECT_EQ(model.add_space_prefix, true);
  ExpectSameEncodings(bin, gguf, "llama2 .bin vs .gguf");
  ExpectSameEncodings(model, gguf, "llama2 .model vs .gguf");
}

TEST(TokenizerLoad, Gpt2JsonMatchesGguf) {
  TokenizerData json = Load("gpt2-tokenizer.json");
  TokenizerData gguf = Load("ggml-vocab-gpt-2.gguf");
  EXPECT_EQ(json.type, TokenizerType::kByteLevelBpe);
  EXPECT_EQ(json.pre, "gpt2");
  EXPECT_EQ(json.pieces, gguf.pieces);
  EXPECT_EQ(json.merges, gguf.merges);
  EXPECT_EQ(json.merges.size(), 50000u);
  EXPECT_EQ(json.bos_id, 50256);
  EXPECT_EQ(json.eos_id, 50256);
  ExpectSameEncodings(json, gguf, "gpt2 .json vs .gguf");
}

TEST(TokenizerLoad, DetectsEveryFormat) {
  EXPECT_EQ(Load("stories260K.gguf").pieces.size(), 512u);
  EXPECT_EQ(Load("ggml-vocab-deepseek-coder.gguf").pre, "deepseek-coder");
  EXPECT_EQ(Load("gpt2-tokenizer.json").type, TokenizerType::kByteLevelBpe);
  EXPECT_EQ(Load("tok512.model").type, TokenizerType::kSentencePiece);
  EXPECT_EQ(Load("tok512.bin").pieces[1], "<s>");
  auto missing = LoadTokenizerFile(test::TempPath("no-such-tokenizer.bin"));
  EXPECT_FALSE(missing.ok());
}

// Truncating a file anywhere must give an error (or, at a record boundary, a
// shorter valid vocabulary), never a crash or an unbounded allocation.
TEST(TokenizerLoad, TruncatedLlama2cBin) {
  const std::vector<uint8_t> b = Bytes("tok512.bin");
  ASSERT_FALSE(b.empty());
  size_t errors = 0;
  for (size_t cut = 0; cut < b.size(); ++cut) {
    auto d = TokenizerFromLlama2cBin(std::span<const uint8_t>(b.data(), cut), "tok512.bin");
    if (!d.ok()) {
      ++errors;
      EXPECT_NE(d.status().message().find("offset"), std::string::npos) << d.status().message();
    }
  }
  EXPECT_GT(errors, b.size() / 2);
}

TEST(TokenizerLoad, TruncatedSentencePieceModel) {
  const std::vector<uint8_t> b = Bytes("tok512.model");
  ASSERT_FALSE(b.empty());
  for (size_t cut = 0; cut < b.size(); ++cut) {
    auto d = TokenizerFromSentencePieceModel(std::span<const uint8_t>(b.data(), cut), "tok512.model");
    if (!d.ok()) {
      const std::string& m = d.status().message();
      EXPECT_TRUE(m.find("offset") != std::string::npos || m.find("expected") != std::string::npos) << m;
    }
  }
  // Cut inside the pieces: the trainer_spec is missing or a field is cut.
  auto d = TokenizerFromSentencePieceModel(std::span<const uint8_t>(b.data(), 100), "tok512.model");
  ASSERT_FALSE(d.ok());
}

TEST(TokenizerLoad, CorruptedFilesNeverCrash) {
  Prng rng(7);
  for (const char* name : {"tok512.model", "tok512.bin"}) {
    const std::vector<uint8_t> orig = Bytes(name);
    ASSERT_FALSE(orig.empty());
    for (int iter = 0; iter < 300; ++iter) {
      std::vector<uint8_t> b = orig;
      for (int k = 0; k < 4; ++k) b[rng.Next() % b.size()] = static_cast<uint8_t>(rng.Next());
      auto m = TokenizerFromSentencePieceModel(b, name);
      auto l = TokenizerFromLlama2cBin(b, name);
      for (auto* d : {&m, &l}) {
        if (d->ok()) {
          auto t = Tokenizer::Create(std::move(d->value()));  // may reject; must not crash
          if (t.ok()) {
            auto ids = (*t)->Encode("Once upon a time", true);
            EXPECT_TRUE(ids.ok());
          }
        }
      }
    }
  }
}

TEST(TokenizerLoad, HostileLengths) {
  // llama2.c: a token claiming 2^31-1 bytes.
  std::vector<uint8_t> b(12, 0);
  const int32_t max_len = 7, huge = 0x7FFFFFFF;
  std::memcpy(b.data(), &max_len, 4);
  std::memcpy(b.data() + 8, &huge, 4);
  auto d = TokenizerFromLlama2cBin(b, "hostile.bin");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("offset 8"), std::string::npos) << d.status().message();
  EXPECT_NE(d.status().message().find("exceeds"), std::string::npos) << d.status().message();
  // protobuf: field 1 claiming a 2^62-byte message.
  const std::vector<uint8_t> p = {0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3F};
  auto m = TokenizerFromSentencePieceModel(p, "hostile.model");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("remain"), std::string::npos) << m.status().message();
  // protobuf: an endless varint and a group wire type.
  const std::vector<uint8_t> v(20, 0xFF);
  EXPECT_FALSE(TokenizerFromSentencePieceModel(v, "varint.model").ok());
  const std::vector<uint8_t> g = {0x0B};
  auto gm = TokenizerFromSentencePieceModel(g, "group.model");
  ASSERT_FALSE(gm.ok());
  EXPECT_NE(gm.status().message().find("wire type"), std::string::npos) << gm.status().message();
}

TEST(TokenizerLoad, MalformedJson) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "line"},
      {"[]", "expected a JSON object"},
      {"{}", "model"},
      {R"({"model": {"type": "Unigram", "vocab": []}})", "Unigram"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 1.5}, "merges": []}})", "integer id"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 2}, "merges": []}})", "integer id in [0, 2)"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": []}})", "used by both"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [3]}, "pre_tokenizer": {"type": "ByteLevel"}})",
       "merges[0]"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})", "neither"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "x+"}}, {"type": "ByteLevel", "use_regex": false}]}})",
       "regex"},
  };
  for (const auto& [json, needle] : cases) {
    auto d = TokenizerFromHfJson(json, "bad.json");
    ASSERT_FALSE(d.ok()) << json;
    EXPECT_NE(d.status().message().find(needle), std::string::npos)
        << json << " -> " << d.status().message();
  }
}

}  // namespace
}  // namespace slm

namespace slm {
namespace {

TEST(TokenizerLoad, HfJsonKinds) {
  // Llama 2 style: byte_fallback + Prepend/Replace normalizer -> SentencePiece.
  const char* spm_json = R"({
    "added_tokens": [{"id": 0, "content": "<unk>", "special": true},
                     {"id": 1, "content": "<s>", "special": true},
                     {"id": 2, "content": "</s>", "special": true}],
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    "model": {"type": "BPE", "byte_fallback": true,
              "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x41>": 3, "\u2581": 4, "a": 5, "b": 6,
                        "\u2581a": 7, "ab": 8, "\u2581ab": 9},
              "merges": ["\u2581 a", "a b", "\u2581a b"]}})";
  auto d = TokenizerFromHfJson(spm_json, "spm.json");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->type, TokenizerType::kSentencePiece);
  EXPECT_EQ(d->unk_id, 0);
  EXPECT_EQ(d->bos_id, 1);
  EXPECT_EQ(d->attrs[3], static_cast<int32_t>(TokenAttr::kByte));
  EXPECT_EQ(d->attrs[0], static_cast<int32_t>(TokenAttr::kUnknown));
  auto t = Tokenizer::Create(*d);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto ids = (*t)->Encode("ab A", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{1, 9, 4, 3}));
  EXPECT_EQ((*t)->Decode(*ids), "ab A");

  // Llama 3 style: Split(regex) + ByteLevel(use_regex false) -> llama3.
  const char* l3_json = R"({
    "added_tokens": [{"id": 3, "content": "<|begin_of_text|>", "special": true},
                     {"id": 4, "content": "<tool>", "special": false}],
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated"},
        {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}})";
  auto l3 = TokenizerFromHfJson(l3_json, "l3.json");
  ASSERT_TRUE(l3.ok()) << l3.status().ToString();
  EXPECT_EQ(l3->type, TokenizerType::kByteLevelBpe);
  EXPECT_EQ(l3->pre, "llama3");
  EXPECT_EQ(l3->bos_id, 3);
  EXPECT_EQ(l3->merges, std::vector<std::string>{"a b"});
  EXPECT_EQ(l3->attrs[4], static_cast<int32_t>(TokenAttr::kUserDefined));
  auto t3 = Tokenizer::Create(*l3);
  ASSERT_TRUE(t3.ok()) << t3.status().ToString();
  auto ids3 = (*t3)->Encode("ab<tool>ba", true);
  ASSERT_TRUE(ids3.ok());
  EXPECT_EQ(*ids3, (std::vector<int32_t>{3, 2, 4, 1, 0}));
  EXPECT_EQ((*t3)->Decode(*ids3), "ab<tool>ba");
}

}  // namespace
}  // namespace slm

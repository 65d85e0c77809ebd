// GGUF reader (src/import/gguf.h) on any bytes, then what reads a parsed file:
// the GGUF tokenizer loader (+ Tokenizer::Create and a short encode/decode)
// and the llama-family importer (src/import/gguf_import.h).
#include "fuzz_util.h"
#include "import/gguf.h"
#include "import/gguf_import.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  slm::fuzz::AlignedBytes buf(data, size);
  auto g = slm::GgufFile::Parse(slm::MappedFile::FromMemory(buf.span(), "fuzz.gguf"));
  slm::fuzz::Note("gguf", g);
  if (!g.ok()) return 0;
  for (const auto& [key, v] : (*g)->kv()) {
    (void)(*g)->GetString(key);
    (void)(*g)->GetInt(key);
    (void)(*g)->GetFloat(key);
    (void)(*g)->GetStringArray(key);
  }
  auto td = slm::TokenizerFromGguf(**g);
  slm::fuzz::Note("tokenizer", td);
  if (td.ok()) {
    auto t = slm::Tokenizer::Create(std::move(*td));
    if (t.ok()) {
      auto ids = (*t)->Encode("Hello world, \xe2\x96\x81 once upon a time", true);
      if (ids.ok()) (void)(*t)->Decode(*ids);
    }
  }
  auto bundle = slm::ImportGgufFile(std::move(*g));
  slm::fuzz::Note("import", bundle);
  return 0;
}

// Hugging Face tokenizer.json loader (src/tokenizer/load.h), then
// Tokenizer::Create and a short encode/decode when it loads.
#include <string_view>

#include "fuzz_util.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto td = slm::TokenizerFromHfJson(text, "tokenizer.json");
  slm::fuzz::Note("load", td);
  if (!td.ok()) return 0;
  auto t = slm::Tokenizer::Create(std::move(*td));
  slm::fuzz::Note("create", t);
  if (!t.ok()) return 0;
  auto ids = (*t)->Encode("Hello world! 12 \xc3\xa9t\xc3\xa9  <|endoftext|>", true, true);
  if (ids.ok()) (void)(*t)->Decode(*ids);
  return 0;
}

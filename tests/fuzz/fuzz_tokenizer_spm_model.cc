// SentencePiece ModelProto loader (src/tokenizer/load.h: minimal protobuf
// reader), then Tokenizer::Create and a short encode/decode when it loads.
#include "fuzz_util.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto td = slm::TokenizerFromSentencePieceModel({data, size}, "fuzz.model");
  slm::fuzz::Note("load", td);
  if (!td.ok()) return 0;
  auto t = slm::Tokenizer::Create(std::move(*td));
  slm::fuzz::Note("create", t);
  if (!t.ok()) return 0;
  auto ids = (*t)->Encode("Once upon a time, \xe4\xb8\xad 42", true);
  if (ids.ok()) (void)(*t)->Decode(*ids);
  return 0;
}

#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

namespace slm {
StatusOr<TokenizerData> TokenizerFromGguf(const GgufFile&) { return Unsupported("todo"); }
StatusOr<TokenizerData> TokenizerFromHfJson(std::string_view, const std::string&) { return Unsupported("todo"); }
StatusOr<TokenizerData> TokenizerFromSentencePieceModel(std::span<const uint8_t>, const std::string&) { return Unsupported("todo"); }
StatusOr<TokenizerData> TokenizerFromLlama2cBin(std::span<const uint8_t>, const std::string&) { return Unsupported("todo"); }
StatusOr<TokenizerData> LoadTokenizerFile(const std::string&) { return Unsupported("todo"); }
StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(TokenizerData) { return Unsupported("todo"); }
StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view, bool) const { return Unsupported("todo"); }
std::string Tokenizer::TokenBytes(int32_t) const { return ""; }
std::string Tokenizer::Decode(std::span<const int32_t>) const { return ""; }
const std::string& Tokenizer::piece(int32_t id) const { return data_.pieces[id]; }
int32_t Tokenizer::Find(std::string_view) const { return -1; }
std::string StreamDecoder::Feed(int32_t) { return ""; }
std::string StreamDecoder::Flush() { return ""; }
}  // namespace slm

// LoadTokenizerFile: format detection by content, not by file name.
#include "base/file.h"
#include "tokenizer/load.h"

namespace slm {

StatusOr<TokenizerData> LoadTokenizerFile(const std::string& path) {
  SLM_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  const std::span<const uint8_t> b = file->bytes();
  if (b.size() >= 4 && b[0] == 'G' && b[1] == 'G' && b[2] == 'U' && b[3] == 'F') {
    SLM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> g, GgufFile::Parse(std::move(file)));
    return TokenizerFromGguf(*g);
  }
  size_t i = 0;
  while (i < b.size() && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) ++i;
  if (i < b.size() && b[i] == '{') {
    return TokenizerFromHfJson(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), path);
  }
  // A ModelProto starts with field 1 (pieces), wire type 2: byte 0x0A. A
  // llama2.c file whose max_token_length is 10 starts the same way, so fall
  // back to llama2.c when the protobuf reading fails.
  if (!b.empty() && b[0] == 0x0A) {
    auto spm = TokenizerFromSentencePieceModel(b, path);
    if (spm.ok()) return spm;
    auto bin = TokenizerFromLlama2cBin(b, path);
    if (bin.ok()) return bin;
    return spm.status();
  }
  return TokenizerFromLlama2cBin(b, path);
}

}  // namespace slm

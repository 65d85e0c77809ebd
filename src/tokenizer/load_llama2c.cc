// llama2.c tokenizer.bin -> TokenizerData.
// Layout (little-endian): i32 max_token_length, then until EOF, per token:
// f32 score, i32 len, len bytes. llama2.c's exporter writes spaces as ' '
// (not U+2581) and BOS/EOS as "\n<s>\n" / "\n</s>\n"; both are undone here so
// the pieces equal the SentencePiece model's.
#include "base/byte_reader.h"
#include "base/utf8.h"
#include "tokenizer/load.h"

namespace slm {

StatusOr<TokenizerData> TokenizerFromLlama2cBin(std::span<const uint8_t> bytes,
                                                const std::string& source) {
  ByteReader r(bytes, source);
  int32_t max_len = 0;
  SLM_RETURN_IF_ERROR(r.ReadI32(&max_len, "max_token_length"));
  if (max_len <= 0 || max_len > (1 << 16)) {
    return r.ErrorAt(0, "max_token_length: expected 1..65536, found " + std::to_string(max_len));
  }
  TokenizerData d;
  d.type = TokenizerType::kSentencePiece;
  d.bos_id = 1;
  d.eos_id = 2;
  d.unk_id = 0;
  d.add_bos = true;
  d.add_space_prefix = true;
  while (r.remaining() > 0) {
    const size_t at = r.offset();
    const std::string idx = std::to_string(d.pieces.size());
    float score = 0;
    int32_t len = 0;
    SLM_RETURN_IF_ERROR(r.ReadF32(&score, "score of token " + idx));
    SLM_RETURN_IF_ERROR(r.ReadI32(&len, "length of token " + idx));
    if (len < 0 || static_cast<size_t>(len) > r.remaining()) {
      return r.ErrorAt(at + 4, "token " + idx + ": length " + std::to_string(len) +
                                   " exceeds the " + std::to_string(r.remaining()) +
                                   " bytes that remain");
    }
    std::string raw;
    SLM_RETURN_IF_ERROR(r.ReadString(static_cast<size_t>(len), &raw, "token " + idx));
    Status valid = ValidateUtf8(raw);
    if (!valid.ok()) return r.ErrorAt(at + 8, "token " + idx + ": " + valid.message());
    const size_t id = d.pieces.size();
    if ((id == 1 && raw == "\n<s>\n") || (id == 2 && raw == "\n</s>\n")) {
      raw = raw.substr(1, raw.size() - 2);
    }
    std::string piece;
    piece.reserve(raw.size());
    for (char c : raw) {
      if (c == ' ') piece += "\xE2\x96\x81";
      else piece.push_back(c);
    }
    TokenAttr attr = TokenAttr::kNormal;
    if (id == 0 && piece == "<unk>") attr = TokenAttr::kUnknown;
    else if ((id == 1 && piece == "<s>") || (id == 2 && piece == "</s>")) attr = TokenAttr::kControl;
    else if (piece.size() == 6 && piece.compare(0, 3, "<0x") == 0 && piece[5] == '>') attr = TokenAttr::kByte;
    d.pieces.push_back(std::move(piece));
    d.scores.push_back(score);
    d.attrs.push_back(static_cast<int32_t>(attr));
  }
  if (d.pieces.size() < 3) {
    return r.Error("expected at least 3 tokens (<unk>, <s>, </s>), found " +
                   std::to_string(d.pieces.size()));
  }
  return d;
}

}  // namespace slm

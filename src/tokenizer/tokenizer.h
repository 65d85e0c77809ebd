// Tokenizer: text <-> token ids for the two llama-family schemes.
//
//   kSentencePiece  llama.cpp llm_tokenizer_spm semantics: optional dummy-prefix
//                   space, spaces -> U+2581, start from UTF-8 characters and
//                   repeatedly merge the adjacent pair whose concatenation is a
//                   vocab piece with the highest score (ties: leftmost); pieces
//                   left outside the vocab fall back to <0xNN> bytes (or unk).
//   kByteLevelBpe   GPT-2 style: a pre-tokenizer (regex list per
//                   tokenizer.ggml.pre) splits the text, each chunk's bytes are
//                   mapped through bytes_to_unicode, then merges are applied by
//                   rank (lower index first).
//
// Tokens marked kUserDefined are matched verbatim in the text before BPE
// (longest first); control tokens are never produced from plain text (this is
// llama.cpp's parse_special=false, which its test vectors use).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_data.h"

namespace slm {

class Tokenizer {
 public:
  // Validates sizes (pieces/scores/attrs agree), ids in range, pieces valid
  // UTF-8 and unique, merges naming known pieces.
  static StatusOr<std::unique_ptr<Tokenizer>> Create(TokenizerData data);

  // Invalid UTF-8 -> InvalidArgument naming the byte offset. add_bos prepends
  // bos_id when it is >= 0.
  StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_bos) const {
    return Encode(text, add_bos, /*parse_special=*/false);
  }
  // parse_special: control and unknown pieces written in the text (e.g.
  // "<|endoftext|>") become their ids too, as llama.cpp's parse_special.
  StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_bos,
                                        bool parse_special) const;
  // Raw bytes a token stands for: byte pieces -> that byte; SPM U+2581 -> ' ';
  // byte-level BPE pieces unmapped to bytes; control tokens -> "".
  std::string TokenBytes(int32_t id) const;
  // Concatenated TokenBytes; for SPM with add_space_prefix, the single leading
  // space the dummy prefix produced is stripped (as llama.cpp/SentencePiece).
  std::string Decode(std::span<const int32_t> ids) const;

  const TokenizerData& data() const { return data_; }
  int32_t vocab_size() const { return static_cast<int32_t>(data_.pieces.size()); }
  const std::string& piece(int32_t id) const;

  // Id of a piece, or -1.
  int32_t Find(std::string_view piece) const;

 private:
  explicit Tokenizer(TokenizerData data) : data_(std::move(data)) {}
  Status Init();
  // SentencePiece BPE over text already escaped (U+2581 for spaces).
  void EncodeSpm(std::string_view escaped, std::vector<int32_t>* out) const;
  // Byte-level BPE over one raw-text fragment: pre-tokenize, then merge.
  void EncodeBpe(std::string_view text, std::vector<int32_t>* out) const;
  void EncodeBpeChunk(std::string_view bytes, std::vector<int32_t>* out) const;

  struct PairHash {
    size_t operator()(const std::pair<int32_t, int32_t>& p) const {
      return std::hash<uint64_t>()((static_cast<uint64_t>(static_cast<uint32_t>(p.first)) << 32) |
                                   static_cast<uint32_t>(p.second));
    }
  };

  TokenizerData data_;
  PreTokenizerKind pre_kind_ = PreTokenizerKind::kDefault;
  bool ignore_merges_ = false;  // llama3: a chunk that is a whole piece skips BPE
  // Views into data_.pieces; for duplicate pieces the last id wins (as llama.cpp).
  std::unordered_map<std::string_view, int32_t> piece_to_id_;
  // SPM: byte -> <0xNN> id; byte-level BPE: byte -> id of its bytes_to_unicode
  // piece. -1 where absent. [256]
  std::vector<int32_t> byte_to_id_;
  // Byte-level BPE: (left id, right id) -> (rank, merged id or -1).
  std::unordered_map<std::pair<int32_t, int32_t>, std::pair<int32_t, int32_t>, PairHash> merges_;
  std::vector<int32_t> user_defined_;  // ids matched verbatim, longest piece first
  std::vector<int32_t> specials_;      // user-defined + control + unknown, longest first
  std::vector<std::string> token_bytes_;  // [vocab] cached TokenBytes
};

// Streaming decode: holds back an incomplete UTF-8 sequence until it completes.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& t) : t_(t) {}
  // Text that is complete after this token.
  std::string Feed(int32_t id);
  // Whatever is held back; bytes that can never complete become U+FFFD each.
  std::string Flush();

 private:
  const Tokenizer& t_;
  std::string pending_;
  bool first_ = true;
};

}  // namespace slm

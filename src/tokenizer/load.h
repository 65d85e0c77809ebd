// Tokenizer importers: each turns one file format into TokenizerData.
// All of them bound every count and length by the bytes that remain, and
// report errors naming the source, what was expected, what was found and the
// byte offset.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "import/gguf.h"
#include "tokenizer/tokenizer_data.h"

namespace slm {

// tokenizer.ggml.model "llama" -> kSentencePiece, "gpt2" -> kByteLevelBpe;
// tokens, scores, token_type, merges, special ids, add_bos_token,
// add_space_prefix, tokenizer.ggml.pre.
StatusOr<TokenizerData> TokenizerFromGguf(const GgufFile& g);
// Hugging Face tokenizer.json with a BPE model: ByteLevel pre-tokenizer ->
// byte-level; byte_fallback / Metaspace -> SentencePiece-style. added_tokens
// become control (special) or user-defined pieces.
StatusOr<TokenizerData> TokenizerFromHfJson(std::string_view json_text, const std::string& source);
// SentencePiece ModelProto (.model), decoded by a minimal protobuf reader.
StatusOr<TokenizerData> TokenizerFromSentencePieceModel(std::span<const uint8_t> bytes,
                                                        const std::string& source);
// llama2.c tokenizer.bin: i32 max_token_length, then per token
// {f32 score, i32 len, len bytes} until EOF. bos=1 eos=2 unk=0.
StatusOr<TokenizerData> TokenizerFromLlama2cBin(std::span<const uint8_t> bytes,
                                                const std::string& source);
// Detects the format: GGUF magic, '{' JSON, protobuf .model, else llama2.c .bin.
StatusOr<TokenizerData> LoadTokenizerFile(const std::string& path);

}  // namespace slm

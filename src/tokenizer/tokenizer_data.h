// Everything needed to rebuild a tokenizer: what the importers extract from
// GGUF / tokenizer.json / SentencePiece .model / llama2.c tokenizer .bin, what
// the .slm package stores in its tokenizer section, and what Tokenizer is
// built from. Plain data; the algorithms live in tokenizer.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace slm {

enum class TokenizerType : int32_t {
  // SentencePiece-style BPE: merges ranked by piece score, U+2581 for spaces,
  // optional dummy-prefix space, byte fallback to <0xNN> pieces
  // (Llama 2, TinyLlama, llama2.c stories models).
  kSentencePiece = 0,
  // Byte-level BPE: GPT-2 bytes_to_unicode mapping, merges ranked by order,
  // text first split by a pre-tokenizer (GPT-2, Llama 3, SmolLM, Qwen2, DeepSeek).
  kByteLevelBpe = 1,
};

// Token attribute, same values as GGUF tokenizer.ggml.token_type.
enum class TokenAttr : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,       // <s>, </s>, <|endoftext|>: never produced by plain text
  kUserDefined = 4,   // matched verbatim in text before BPE
  kUnused = 5,
  kByte = 6,          // <0x00>..<0xFF> byte-fallback pieces
};

struct TokenizerData {
  TokenizerType type = TokenizerType::kSentencePiece;
  std::vector<std::string> pieces;  // [vocab] token text (SPM uses U+2581 for space)
  std::vector<float> scores;        // [vocab] SPM merge priority; empty for byte-level BPE
  std::vector<int32_t> attrs;       // [vocab] TokenAttr values
  std::vector<std::string> merges;  // byte-level BPE: "left right", rank = index
  // Pre-tokenizer name for byte-level BPE: "gpt2", "llama3", "qwen2", "smollm",
  // "deepseek-llm", "deepseek-coder" (GGUF tokenizer.ggml.pre values).
  std::string pre = "default";
  int32_t bos_id = -1;  // -1: none
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  bool add_bos = true;           // prepend BOS when the caller asks for "default"
  bool add_space_prefix = true;  // SPM: prepend a space (dummy prefix) before encoding
};

}  // namespace slm

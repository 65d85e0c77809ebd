// Pre-tokenizers for byte-level BPE: split text into chunks that BPE merges
// never cross. Each kind reproduces one regex list from llama.cpp's
// llm_tokenizer_bpe (keyed by GGUF tokenizer.ggml.pre) with hand-written
// matchers instead of a regex engine (std::regex has no \p{L}).
//
// A list of regexes is applied in order; each one splits every current chunk
// into its matches and the unmatched gaps between them (both kept), exactly
// as llama.cpp's unicode_regex_split does.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace slm {

enum class PreTokenizerKind {
  kDefault,        // llama.cpp's fallback list (punctuation runs, GPT-2, digits)
  kGpt2,           // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kLlama3,         // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kQwen2,          // as llama3 with \p{N} (single digits)
  kSmolLm,         // \p{N} then GPT-2
  kDeepSeekLlm,    // [\r\n], \s?[cased letters]+, \s?[ASCII/fullwidth punct]+, \s+$, [CJK]+, \p{N}+
  kDeepSeekCoder,  // [\r\n], \s?\p{L}+, \s?\p{P}+, [CJK]+, \p{N}
};

// Maps a tokenizer.ggml.pre value ("gpt-2", "llama-bpe", ...) to a kind;
// Unsupported for names we do not implement.
StatusOr<PreTokenizerKind> ParsePreTokenizer(std::string_view name);

// Splits code points cps into chunks; returns [begin, end) code point index
// pairs covering cps in order, none empty.
std::vector<std::pair<size_t, size_t>> PreTokenize(PreTokenizerKind kind,
                                                   std::span<const uint32_t> cps);

}  // namespace slm

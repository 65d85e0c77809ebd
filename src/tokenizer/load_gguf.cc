// GGUF tokenizer.ggml.* keys -> TokenizerData (llama.cpp's llama_vocab::load).
#include <cmath>

#include "tokenizer/load.h"

namespace slm {
namespace {

// Optional integer key: *out unchanged when absent; error if wrongly typed.
Status OptionalInt(const GgufFile& g, const std::string& key, int32_t* out) {
  if (g.Find(key) == nullptr) return Status::Ok();
  SLM_ASSIGN_OR_RETURN(int64_t v, g.GetInt(key));
  // Converters write "none" as -1 or as u32 0xFFFFFFFF; both mean no token.
  *out = (v < 0 || v > 0x7FFFFFFF) ? -1 : static_cast<int32_t>(v);
  return Status::Ok();
}

Status OptionalBool(const GgufFile& g, const std::string& key, bool* out) {
  if (g.Find(key) == nullptr) return Status::Ok();
  SLM_ASSIGN_OR_RETURN(int64_t v, g.GetInt(key));
  *out = v != 0;
  return Status::Ok();
}

}  // namespace

StatusOr<TokenizerData> TokenizerFromGguf(const GgufFile& g) {
  TokenizerData d;
  SLM_ASSIGN_OR_RETURN(std::string model, g.GetString("tokenizer.ggml.model"));
  if (model == "llama") {
    d.type = TokenizerType::kSentencePiece;
    d.bos_id = 1;  // llama.cpp's defaults for SPM vocabularies
    d.eos_id = 2;
    d.unk_id = 0;
    d.add_bos = true;
    d.add_space_prefix = true;
  } else if (model == "gpt2") {
    d.type = TokenizerType::kByteLevelBpe;
    d.add_bos = false;
    d.add_space_prefix = false;
  } else {
    return Unsupported(g.path() + ": tokenizer.ggml.model '" + model +
                       "' (supported: 'llama' SentencePiece, 'gpt2' byte-level BPE)");
  }
  SLM_ASSIGN_OR_RETURN(const std::vector<std::string>* tokens,
                       g.GetStringArray("tokenizer.ggml.tokens"));
  d.pieces = *tokens;
  const size_t n = d.pieces.size();

  if (const GgufValue* v = g.Find("tokenizer.ggml.scores")) {
    if (!v->is_array() || v->af.size() != n) {
      return FormatError(g.path() + ": tokenizer.ggml.scores: expected " + std::to_string(n) +
                         " floats, found " + std::to_string(v->is_array() ? v->af.size() : 0));
    }
    d.scores.reserve(n);
    for (double s : v->af) d.scores.push_back(static_cast<float>(s));
  } else if (d.type == TokenizerType::kSentencePiece) {
    d.scores.assign(n, 0.0f);
  }
  if (const GgufValue* v = g.Find("tokenizer.ggml.token_type")) {
    if (!v->is_array() || v->ai.size() != n) {
      return FormatError(g.path() + ": tokenizer.ggml.token_type: expected " + std::to_string(n) +
                         " integers, found " + std::to_string(v->is_array() ? v->ai.size() : 0));
    }
    d.attrs.reserve(n);
    for (int64_t t : v->ai) {
      if (t < 0 || t > 6) {
        return FormatError(g.path() + ": tokenizer.ggml.token_type: value " + std::to_string(t) +
                           " outside 0..6");
      }
      d.attrs.push_back(t == 0 ? static_cast<int32_t>(TokenAttr::kNormal) : static_cast<int32_t>(t));
    }
  } else {
    d.attrs.assign(n, static_cast<int32_t>(TokenAttr::kNormal));
  }
  if (g.Find("tokenizer.ggml.merges") != nullptr) {
    SLM_ASSIGN_OR_RETURN(const std::vector<std::string>* merges,
                         g.GetStringArray("tokenizer.ggml.merges"));
    d.merges = *merges;
  }
  if (g.Find("tokenizer.ggml.pre") != nullptr) {
    SLM_ASSIGN_OR_RETURN(d.pre, g.GetString("tokenizer.ggml.pre"));
  }
  if (d.pre == "llama3" || d.pre == "llama-v3" || d.pre == "llama-bpe") d.add_bos = true;  // llama.cpp
  SLM_RETURN_IF_ERROR(OptionalInt(g, "tokenizer.ggml.bos_token_id", &d.bos_id));
  SLM_RETURN_IF_ERROR(OptionalInt(g, "tokenizer.ggml.eos_token_id", &d.eos_id));
  SLM_RETURN_IF_ERROR(OptionalInt(g, "tokenizer.ggml.unknown_token_id", &d.unk_id));
  SLM_RETURN_IF_ERROR(OptionalInt(g, "tokenizer.ggml.padding_token_id", &d.pad_id));
  SLM_RETURN_IF_ERROR(OptionalBool(g, "tokenizer.ggml.add_bos_token", &d.add_bos));
  SLM_RETURN_IF_ERROR(OptionalBool(g, "tokenizer.ggml.add_space_prefix", &d.add_space_prefix));
  for (int32_t* id : {&d.bos_id, &d.eos_id, &d.unk_id, &d.pad_id}) {
    if (*id >= static_cast<int64_t>(n)) *id = -1;  // llama.cpp ignores out-of-range ids too
  }
  return d;
}

}  // namespace slm

// Hugging Face tokenizer.json (model.type "BPE") -> TokenizerData.
//
//   byte-level   pre_tokenizer ByteLevel (GPT-2), or a Sequence whose Split
//                regex is Llama 3's / Qwen2's, or Digits + ByteLevel (SmolLM)
//   SentencePiece-style  model.byte_fallback, or a Metaspace pre-tokenizer, or
//                a normalizer that replaces ' ' by U+2581 (Llama 2 exports).
//                HF BPE has no scores: a piece made by merge r gets score -r,
//                so merge order is kept; other pieces get a score below all.
// added_tokens become control pieces (special: true) or user-defined ones.
#include <unordered_map>

#include "base/json.h"
#include "tokenizer/load.h"

namespace slm {
namespace {

const char kGpt2Regex[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char kLlama3Regex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char kQwen2Regex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::string TypeOf(const JsonValue* v) {
  if (v == nullptr || !v->is_object()) return "";
  const JsonValue* t = v->Find("type");
  return (t != nullptr && t->is_string()) ? t->as_string() : "";
}

// Flattens a pre_tokenizer / normalizer (possibly a Sequence) into its steps.
std::vector<const JsonValue*> Steps(const JsonValue* v, const char* list_key) {
  std::vector<const JsonValue*> out;
  if (v == nullptr || !v->is_object()) return out;
  if (TypeOf(v) == "Sequence") {
    const JsonValue* items = v->Find(list_key);
    if (items != nullptr && items->is_array()) {
      for (const JsonValue& it : items->items()) out.push_back(&it);
    }
  } else {
    out.push_back(v);
  }
  return out;
}

// Which pre-tokenizer a byte-level model uses; "" when not byte-level.
StatusOr<std::string> DetectPre(const JsonValue* pre, const std::string& source) {
  std::vector<const JsonValue*> steps = Steps(pre, "pretokenizers");
  bool byte_level = false, digits = false;
  std::string regex;
  for (const JsonValue* s : steps) {
    const std::string t = TypeOf(s);
    if (t == "ByteLevel") {
      byte_level = true;
      const JsonValue* use_regex = s->Find("use_regex");
      if (use_regex == nullptr || (use_regex->is_bool() && use_regex->as_bool())) regex = kGpt2Regex;
    } else if (t == "Digits") {
      digits = true;
    } else if (t == "Split") {
      const JsonValue* pat = s->Find("pattern");
      const JsonValue* rx = pat != nullptr ? pat->Find("Regex") : nullptr;
      if (rx != nullptr && rx->is_string()) regex = rx->as_string();
    }
  }
  if (!byte_level) return std::string();
  if (regex == kGpt2Regex) return std::string(digits ? "smollm" : "gpt2");
  if (regex == kLlama3Regex) return std::string("llama3");
  if (regex == kQwen2Regex) return std::string("qwen2");
  return Unsupported(source + ": byte-level pre-tokenizer with regex '" + regex +
                     "' (supported: GPT-2, Llama 3, Qwen2, SmolLM patterns)");
}

}  // namespace

StatusOr<TokenizerData> TokenizerFromHfJson(std::string_view json_text, const std::string& source) {
  SLM_ASSIGN_OR_RETURN(JsonValue root, ParseJson(json_text, source));
  if (!root.is_object()) return FormatError(source + ": expected a JSON object at the top level");
  const JsonValue* model = root.Find("model");
  if (model == nullptr || !model->is_object()) return FormatError(source + ": expected object 'model'");
  const std::string mtype = TypeOf(model);
  if (mtype != "BPE" && !(mtype.empty() && model->Find("merges") != nullptr)) {
    return Unsupported(source + ": model.type '" + mtype + "' (only BPE is implemented)");
  }
  const JsonValue* vocab = model->Find("vocab");
  if (vocab == nullptr || !vocab->is_object()) return FormatError(source + ": expected object 'model.vocab'");

  // Ids: vocab entries plus added_tokens; all must be dense in [0, n).
  const JsonValue* added = root.Find("added_tokens");
  const size_t n_added = (added != nullptr && added->is_array()) ? added->size() : 0;
  const size_t limit = vocab->size() + n_added;
  TokenizerData d;
  d.pieces.assign(limit, std::string());
  std::vector<bool> seen(limit, false);
  d.attrs.assign(limit, static_cast<int32_t>(TokenAttr::kNormal));
  auto place = [&](const std::string& piece, const JsonValue& idv, const char* where) -> Status {
    if (!idv.is_number() || idv.as_number() < 0 || idv.as_number() >= static_cast<double>(limit) ||
        idv.as_number() != static_cast<double>(static_cast<int64_t>(idv.as_number()))) {
      return FormatError(source + ": " + where + " '" + piece + "': expected an integer id in [0, " +
                         std::to_string(limit) + "), found " + idv.Dump());
    }
    const size_t id = static_cast<size_t>(idv.as_number());
    if (seen[id] && d.pieces[id] != piece) {
      return FormatError(source + ": id " + std::to_string(id) + " is used by both '" + d.pieces[id] +
                         "' and '" + piece + "'");
    }
    seen[id] = true;
    d.pieces[id] = piece;
    return Status::Ok();
  };
  for (const auto& [piece, idv] : vocab->members()) SLM_RETURN_IF_ERROR(place(piece, idv, "model.vocab"));
  if (n_added > 0) {
    for (const JsonValue& t : added->items()) {
      SLM_ASSIGN_OR_RETURN(std::string content, t.GetString("content"));
      const JsonValue* idv = t.Find("id");
      if (idv == nullptr) return FormatError(source + ": added token '" + content + "' has no id");
      SLM_RETURN_IF_ERROR(place(content, *idv, "added_tokens"));
      const JsonValue* special = t.Find("special");
      const bool is_special = special != nullptr && special->is_bool() && special->as_bool();
      d.attrs[static_cast<size_t>(idv->as_number())] =
          static_cast<int32_t>(is_special ? TokenAttr::kControl : TokenAttr::kUserDefined);
    }
  }
  size_t n = 0;
  while (n < limit && seen[n]) ++n;
  for (size_t i = n; i < limit; ++i) {
    if (seen[i]) return FormatError(source + ": token ids are not dense: id " + std::to_string(n) + " is missing");
  }
  d.pieces.resize(n);
  d.attrs.resize(n);

  const JsonValue* merges = model->Find("merges");
  if (merges != nullptr && merges->is_array()) {
    d.merges.reserve(merges->size());
    for (const JsonValue& m : merges->items()) {
      if (m.is_string()) {
        d.merges.push_back(m.as_string());
      } else if (m.is_array() && m.size() == 2 && m.items()[0].is_string() && m.items()[1].is_string()) {
        d.merges.push_back(m.items()[0].as_string() + " " + m.items()[1].as_string());
      } else {
        return FormatError(source + ": model.merges[" + std::to_string(d.merges.size()) +
                           "]: expected \"left right\" or [left, right], found " + m.Dump());
      }
    }
  }

  SLM_ASSIGN_OR_RETURN(std::string pre, DetectPre(root.Find("pre_tokenizer"), source));
  const JsonValue* bf = model->Find("byte_fallback");
  const bool byte_fallback = bf != nullptr && bf->is_bool() && bf->as_bool();
  bool metaspace = false;
  for (const JsonValue* s : Steps(root.Find("pre_tokenizer"), "pretokenizers")) {
    metaspace = metaspace || TypeOf(s) == "Metaspace";
  }
  bool prepends_space = false;
  for (const JsonValue* s : Steps(root.Find("normalizer"), "normalizers")) {
    const std::string t = TypeOf(s);
    if (t == "Replace") metaspace = true;  // ' ' -> U+2581
    if (t == "Prepend") prepends_space = true;
  }

  std::unordered_map<std::string, int32_t> ids;
  for (size_t i = 0; i < n; ++i) ids[d.pieces[i]] = static_cast<int32_t>(i);
  auto find = [&](const char* p) { auto it = ids.find(p); return it == ids.end() ? -1 : it->second; };

  if (!pre.empty()) {
    d.type = TokenizerType::kByteLevelBpe;
    d.pre = pre;
    d.add_bos = false;
    d.add_space_prefix = false;
    for (const char* b : {"<|endoftext|>", "<|begin_of_text|>", "<s>"}) {
      if (d.bos_id < 0) d.bos_id = find(b);
    }
    for (const char* e : {"<|endoftext|>", "<|end_of_text|>", "</s>"}) {
      if (d.eos_id < 0) d.eos_id = find(e);
    }
    if (pre == "llama3") d.add_bos = true;
  } else if (byte_fallback || metaspace) {
    d.type = TokenizerType::kSentencePiece;
    d.add_bos = true;
    d.add_space_prefix = prepends_space || metaspace;
    // Scores from merge order (see the file comment).
    d.scores.assign(n, -1e9f);
    for (size_t r = 0; r < d.merges.size(); ++r) {
      const std::string& m = d.merges[r];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) continue;
      auto it = ids.find(m.substr(0, sp) + m.substr(sp + 1));
      if (it != ids.end() && d.scores[static_cast<size_t>(it->second)] == -1e9f) {
        d.scores[static_cast<size_t>(it->second)] = -static_cast<float>(r);
      }
    }
    d.merges.clear();
    for (size_t i = 0; i < n; ++i) {
      const std::string& p = d.pieces[i];
      if (d.attrs[i] == static_cast<int32_t>(TokenAttr::kNormal) && p.size() == 6 &&
          p.compare(0, 3, "<0x") == 0 && p[5] == '>') {
        d.attrs[i] = static_cast<int32_t>(TokenAttr::kByte);
      }
    }
    d.unk_id = find("<unk>");
    d.bos_id = find("<s>");
    d.eos_id = find("</s>");
    if (d.unk_id >= 0) d.attrs[static_cast<size_t>(d.unk_id)] = static_cast<int32_t>(TokenAttr::kUnknown);
  } else {
    return Unsupported(source + ": BPE model that is neither byte-level (ByteLevel pre-tokenizer) "
                       "nor SentencePiece-style (byte_fallback / Metaspace)");
  }
  return d;
}

}  // namespace slm

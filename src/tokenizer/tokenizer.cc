// Tokenizer construction, special-token partitioning, decoding and streaming.
// The merge loops live in spm.cc and bpe.cc.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "base/utf8.h"
#include "tokenizer/unicode.h"

namespace slm {
namespace {

constexpr char kSpmSpace[] = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

bool AttrIs(const TokenizerData& d, int32_t id, TokenAttr a) {
  return d.attrs[static_cast<size_t>(id)] == static_cast<int32_t>(a);
}

// "<0xNN>" -> NN, or -1.
int ParseBytePiece(std::string_view p) {
  if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return -1;
  int v = 0;
  for (char c : p.substr(3, 2)) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s.substr(i, from.size()) == from) {
      out.append(to);
      i += from.size();
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// Byte-level BPE piece -> bytes via the inverse bytes_to_unicode; code points
// outside the image are kept as UTF-8 (added tokens are stored raw).
std::string UnmapByteLevel(std::string_view piece) {
  std::string out;
  size_t i = 0;
  while (i < piece.size()) {
    uint32_t cp = 0;
    size_t n = Utf8Decode(piece, i, &cp);
    if (n == 0) {  // not reachable: pieces are validated
      out.push_back(piece[i++]);
      continue;
    }
    int b = UnicodeToByte(cp);
    if (b >= 0) out.push_back(static_cast<char>(b));
    else out.append(piece.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(TokenizerData data) {
  std::unique_ptr<Tokenizer> t(new Tokenizer(std::move(data)));
  SLM_RETURN_IF_ERROR(t->Init());
  return t;
}

Status Tokenizer::Init() {
  TokenizerData& d = data_;
  const size_t n = d.pieces.size();
  if (n == 0) return InvalidArgument("tokenizer: empty vocabulary");
  if (n > 0x7FFFFFFF) return OutOfRange("tokenizer: vocabulary larger than 2^31-1");
  if (d.attrs.empty()) d.attrs.assign(n, static_cast<int32_t>(TokenAttr::kNormal));
  if (d.attrs.size() != n) {
    return InvalidArgument("tokenizer: " + std::to_string(d.attrs.size()) + " token attributes for " +
                           std::to_string(n) + " pieces");
  }
  if (d.type == TokenizerType::kSentencePiece && d.scores.size() != n) {
    return InvalidArgument("tokenizer: SentencePiece vocabulary needs one score per piece, found " +
                           std::to_string(d.scores.size()) + " scores for " + std::to_string(n) +
                           " pieces");
  }
  if (!d.scores.empty() && d.scores.size() != n) {
    return InvalidArgument("tokenizer: " + std::to_string(d.scores.size()) + " scores for " +
                           std::to_string(n) + " pieces");
  }
  auto check_id = [&](int32_t id, const char* what) -> Status {
    if (id < -1 || id >= static_cast<int64_t>(n)) {
      return OutOfRange(std::string("tokenizer: ") + what + " id " + std::to_string(id) +
                        " outside the vocabulary [0, " + std::to_string(n) + ")");
    }
    return Status::Ok();
  };
  SLM_RETURN_IF_ERROR(check_id(d.bos_id, "bos"));
  SLM_RETURN_IF_ERROR(check_id(d.eos_id, "eos"));
  SLM_RETURN_IF_ERROR(check_id(d.unk_id, "unk"));
  SLM_RETURN_IF_ERROR(check_id(d.pad_id, "pad"));

  piece_to_id_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const int32_t a = d.attrs[i];
    if (a == 0) d.attrs[i] = static_cast<int32_t>(TokenAttr::kNormal);  // GGUF "undefined"
    else if (a < 1 || a > 6) {
      return InvalidArgument("tokenizer: piece " + std::to_string(i) + " has token type " +
                             std::to_string(a) + ", expected 1..6");
    }
    Status s = ValidateUtf8(d.pieces[i]);
    if (!s.ok()) return InvalidArgument("tokenizer: piece " + std::to_string(i) + ": " + s.message());
    if (!d.pieces[i].empty()) piece_to_id_[d.pieces[i]] = static_cast<int32_t>(i);
  }

  byte_to_id_.assign(256, -1);
  if (d.type == TokenizerType::kSentencePiece) {
    static const char kHex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const char name[7] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>', 0};
      byte_to_id_[b] = Find(name);
    }
  } else {
    SLM_ASSIGN_OR_RETURN(pre_kind_, ParsePreTokenizer(d.pre));
    ignore_merges_ = pre_kind_ == PreTokenizerKind::kLlama3;
    for (int b = 0; b < 256; ++b) {
      std::string s;
      AppendUtf8(&s, ByteToUnicode(static_cast<uint8_t>(b)));
      byte_to_id_[b] = Find(s);
    }
    merges_.reserve(d.merges.size());
    for (size_t r = 0; r < d.merges.size(); ++r) {
      const std::string& m = d.merges[r];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) {
        return InvalidArgument("tokenizer: merge " + std::to_string(r) + " '" + m +
                               "': expected 'left right'");
      }
      const int32_t l = Find(std::string_view(m).substr(0, sp));
      const int32_t rt = Find(std::string_view(m).substr(sp + 1));
      if (l < 0 || rt < 0) {
        return InvalidArgument("tokenizer: merge " + std::to_string(r) + " '" + m +
                               "' names a piece that is not in the vocabulary");
      }
      const int32_t merged = Find(std::string(m, 0, sp) + m.substr(sp + 1));
      // The first (lowest-rank) occurrence of a pair wins.
      merges_.try_emplace({l, rt}, static_cast<int32_t>(r), merged);
    }
  }

  for (size_t i = 0; i < n; ++i) {
    if (d.pieces[i].empty()) continue;
    const int32_t a = d.attrs[i];
    if (a == static_cast<int32_t>(TokenAttr::kUserDefined) ||
        a == static_cast<int32_t>(TokenAttr::kControl) ||
        a == static_cast<int32_t>(TokenAttr::kUnknown)) {
      specials_.push_back(static_cast<int32_t>(i));
    }
  }
  std::stable_sort(specials_.begin(), specials_.end(), [&](int32_t a, int32_t b) {
    return d.pieces[a].size() > d.pieces[b].size();
  });
  for (int32_t id : specials_) {
    if (AttrIs(d, id, TokenAttr::kUserDefined)) user_defined_.push_back(id);
  }

  token_bytes_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& p = d.pieces[i];
    switch (static_cast<TokenAttr>(d.attrs[i])) {
      case TokenAttr::kControl:
        break;  // "" : control tokens carry no text
      case TokenAttr::kUnknown:
        // llama.cpp renders SPM's unknown token as U+2585.
        if (d.type == TokenizerType::kSentencePiece) token_bytes_[i] = "\xE2\x96\x85";
        break;
      case TokenAttr::kUserDefined:
        token_bytes_[i] = p;  // matched verbatim, so decoded verbatim
        break;
      case TokenAttr::kByte: {
        const int b = ParseBytePiece(p);
        if (b >= 0) {
          token_bytes_[i] = std::string(1, static_cast<char>(b));
          break;
        }
        [[fallthrough]];
      }
      default:
        token_bytes_[i] = d.type == TokenizerType::kSentencePiece ? ReplaceAll(p, kSpmSpace, " ")
                                                                   : UnmapByteLevel(p);
    }
  }
  return Status::Ok();
}

int32_t Tokenizer::Find(std::string_view piece) const {
  auto it = piece_to_id_.find(piece);
  return it == piece_to_id_.end() ? -1 : it->second;
}

const std::string& Tokenizer::piece(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || id >= vocab_size()) return kEmpty;
  return data_.pieces[static_cast<size_t>(id)];
}

StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view text, bool add_bos,
                                                 bool parse_special) const {
  Status valid = ValidateUtf8(text);
  if (!valid.ok()) return InvalidArgument("encode: " + valid.message());

  // Split the text around special pieces, longest piece first, as llama.cpp's
  // tokenizer_st_partition: each piece splits every remaining raw fragment.
  struct Fragment {
    int32_t id;  // >= 0: a special token; -1: raw text [begin, end)
    size_t begin, end;
  };
  std::vector<Fragment> frags;
  if (!text.empty()) frags.push_back({-1, 0, text.size()});
  const std::vector<int32_t>& specials = parse_special ? specials_ : user_defined_;
  for (int32_t id : specials) {
    const std::string& p = data_.pieces[static_cast<size_t>(id)];
    std::vector<Fragment> next;
    next.reserve(frags.size());
    for (const Fragment& f : frags) {
      if (f.id >= 0) {
        next.push_back(f);
        continue;
      }
      size_t pos = f.begin;
      while (pos < f.end) {
        const size_t hit = text.substr(0, f.end).find(p, pos);
        if (hit == std::string_view::npos) break;
        if (hit > pos) next.push_back({-1, pos, hit});
        next.push_back({id, hit, hit + p.size()});
        pos = hit + p.size();
      }
      if (pos < f.end) next.push_back({-1, pos, f.end});
    }
    frags.swap(next);
  }

  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && data_.bos_id >= 0) out.push_back(data_.bos_id);
  bool prev_special = true;  // the first fragment gets the dummy prefix
  for (const Fragment& f : frags) {
    if (f.id >= 0) {
      out.push_back(f.id);
      prev_special = true;
      continue;
    }
    const std::string_view raw = text.substr(f.begin, f.end - f.begin);
    if (data_.type == TokenizerType::kSentencePiece) {
      std::string escaped;
      escaped.reserve(raw.size() + 3);
      if (data_.add_space_prefix && prev_special) escaped += kSpmSpace;
      for (char c : raw) {
        if (c == ' ') escaped += kSpmSpace;
        else escaped.push_back(c);
      }
      EncodeSpm(escaped, &out);
    } else {
      EncodeBpe(raw, &out);
    }
    prev_special = false;
  }
  return out;
}

std::string Tokenizer::TokenBytes(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return "";
  return token_bytes_[static_cast<size_t>(id)];
}

std::string Tokenizer::Decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id >= 0 && id < vocab_size()) out += token_bytes_[static_cast<size_t>(id)];
  }
  if (data_.type == TokenizerType::kSentencePiece && data_.add_space_prefix && !out.empty() &&
      out[0] == ' ') {
    out.erase(0, 1);
  }
  return out;
}

std::string StreamDecoder::Feed(int32_t id) {
  pending_ += t_.TokenBytes(id);
  if (first_ && !pending_.empty()) {
    first_ = false;
    const TokenizerData& d = t_.data();
    if (d.type == TokenizerType::kSentencePiece && d.add_space_prefix && pending_[0] == ' ') {
      pending_.erase(0, 1);
    }
  }
  // Emit every complete sequence; a byte that can never start or continue a
  // valid sequence becomes U+FFFD; an incomplete tail waits for more bytes.
  std::string out;
  const size_t hold = Utf8IncompleteTail(pending_);
  const size_t limit = pending_.size() - hold;
  size_t i = 0;
  while (i < limit) {
    uint32_t cp = 0;
    const size_t n = Utf8Decode(pending_, i, &cp);
    if (n == 0 || i + n > limit) {
      AppendUtf8(&out, 0xFFFD);
      ++i;
    } else {
      out.append(pending_, i, n);
      i += n;
    }
  }
  pending_.erase(0, limit);
  return out;
}

std::string StreamDecoder::Flush() {
  std::string out;
  for (size_t i = 0; i < pending_.size(); ++i) AppendUtf8(&out, 0xFFFD);
  pending_.clear();
  return out;
}

}  // namespace slm

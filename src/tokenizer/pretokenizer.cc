#include "tokenizer/pretokenizer.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "tokenizer/unicode.h"

namespace slm {
namespace {

using Chunks = std::vector<std::pair<size_t, size_t>>;
using Cps = std::span<const uint32_t>;

// One regex pass over every chunk. match(cps, pos, end) returns the length of
// the match starting at pos (0: none); like std::regex_iterator, the search
// resumes after a match, and unmatched gaps become chunks of their own.
template <typename Match>
Chunks SplitPass(Cps cps, const Chunks& in, Match match) {
  Chunks out;
  out.reserve(in.size());
  for (auto [b, e] : in) {
    size_t gap = b;
    size_t p = b;
    while (p < e) {
      const size_t n = match(cps, p, e);
      if (n == 0) {
        ++p;
        continue;
      }
      if (p > gap) out.emplace_back(gap, p);
      out.emplace_back(p, p + n);
      p += n;
      gap = p;
    }
    if (gap < e) out.emplace_back(gap, e);
  }
  return out;
}

bool IsCrLf(uint32_t c) { return c == '\r' || c == '\n'; }
uint32_t AsciiLower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// 's|'t|'re|'ve|'m|'ll|'d at pos (case-insensitive when icase); 0 if none.
size_t MatchContraction(Cps cps, size_t pos, size_t end, bool icase) {
  if (cps[pos] != '\'' || pos + 1 >= end) return 0;
  auto lower = [&](uint32_t c) { return icase ? AsciiLower(c) : c; };
  const uint32_t c1 = lower(cps[pos + 1]);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 >= end) return 0;
  const uint32_t c2 = lower(cps[pos + 2]);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// \s+(?!\S)|\s+ at pos (after the other alternatives failed).
size_t MatchTrailingSpaces(Cps cps, size_t pos, size_t end) {
  size_t n = 0;
  while (pos + n < end && IsWhitespace(cps[pos + n])) ++n;
  if (n > 1 && pos + n < end) return n - 1;  // leave the last space to prefix the word
  return n > 0 ? n : 1;                      // no alternative matched: one code point
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t MatchGpt2(Cps cps, size_t pos, size_t end) {
  if (size_t n = MatchContraction(cps, pos, end, /*icase=*/false)) return n;
  size_t q = pos + (cps[pos] == ' ' ? 1 : 0);
  if (q < end) {
    const uint32_t c = cps[q];
    if (IsLetter(c)) {
      while (q < end && IsLetter(cps[q])) ++q;
      return q - pos;
    }
    if (IsNumber(c)) {
      while (q < end && IsNumber(cps[q])) ++q;
      return q - pos;
    }
    if (!IsWhitespace(c)) {
      while (q < end && !IsWhitespace(cps[q]) && !IsLetter(cps[q]) && !IsNumber(cps[q])) ++q;
      return q - pos;
    }
  }
  return MatchTrailingSpaces(cps, pos, end);
}

// Llama 3 / Qwen2 (max_digits 3 / 1):
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t MatchLlama3(Cps cps, size_t pos, size_t end, size_t max_digits) {
  if (size_t n = MatchContraction(cps, pos, end, /*icase=*/true)) return n;
  const uint32_t c = cps[pos];
  if (!IsCrLf(c) && !IsNumber(c) && (IsLetter(c) || (pos + 1 < end && IsLetter(cps[pos + 1])))) {
    size_t q = pos + 1;
    while (q < end && IsLetter(cps[q])) ++q;
    return q - pos;
  }
  if (IsNumber(c)) {
    size_t q = pos;
    while (q < end && q - pos < max_digits && IsNumber(cps[q])) ++q;
    return q - pos;
  }
  size_t q = pos + (c == ' ' ? 1 : 0);
  if (q < end && !IsWhitespace(cps[q]) && !IsLetter(cps[q]) && !IsNumber(cps[q])) {
    while (q < end && !IsWhitespace(cps[q]) && !IsLetter(cps[q]) && !IsNumber(cps[q])) ++q;
    while (q < end && IsCrLf(cps[q])) ++q;
    return q - pos;
  }
  // \s*[\r\n]+ : through the last CR/LF of the whitespace run.
  size_t n = 0, last_crlf = 0;
  while (pos + n < end && IsWhitespace(cps[pos + n])) {
    if (IsCrLf(cps[pos + n])) last_crlf = n + 1;
    ++n;
  }
  if (last_crlf > 0) return last_crlf;
  return MatchTrailingSpaces(cps, pos, end);
}

// A run of code points satisfying pred, optionally preceded by one \s:
// \s?[class]+ (pred must reject whitespace).
template <typename Pred>
size_t MatchSpaceThenRun(Cps cps, size_t pos, size_t end, Pred pred) {
  size_t q = pos;
  if (IsWhitespace(cps[q]) && q + 1 < end && pred(cps[q + 1])) ++q;
  if (!pred(cps[q])) return 0;
  while (q < end && pred(cps[q])) ++q;
  return q - pos;
}

template <typename Pred>
size_t MatchRun(Cps cps, size_t pos, size_t end, Pred pred) {
  size_t q = pos;
  while (q < end && pred(cps[q])) ++q;
  return q - pos;
}

// \s+$ : the whitespace run that ends the chunk, if any.
Chunks SplitTrailingWhitespace(Cps cps, const Chunks& in) {
  Chunks out;
  out.reserve(in.size());
  for (auto [b, e] : in) {
    size_t t = e;
    while (t > b && IsWhitespace(cps[t - 1])) --t;
    if (t > b) out.emplace_back(b, t);
    if (t < e) out.emplace_back(t, e);
  }
  return out;
}

struct Range {
  uint32_t lo, hi;
};

// DeepSeek LLM's letter class: the cased letters (Lu/Ll/Lt) listed in its
// tokenizer.json regex, as ranges (sorted).
constexpr Range kDeepSeekLetters[] = {
    {0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6},
    {0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373},
    {0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A},
    {0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F},
    {0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB},
    {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107},
    {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
    {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4},
    {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F},
    {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17},
    {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

bool InRanges(std::span<const Range> ranges, uint32_t c) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                             [](uint32_t v, const Range& r) { return v < r.lo; });
  return it != ranges.begin() && c <= std::prev(it)->hi;
}

// llama.cpp runs these bracket classes with std::wregex after replacing
// non-ASCII whitespace by U+000B, so whitespace never matches a class.
bool IsDeepSeekLetter(uint32_t c) { return InRanges(kDeepSeekLetters, c); }
bool IsDeepSeekPunct(uint32_t c) {
  // [!-/:-~！-／：-～‘-‟　-。]
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) || (c >= 0xFF01 && c <= 0xFF0F) ||
         (c >= 0xFF1A && c <= 0xFF5E) || (c >= 0x2018 && c <= 0x201F) ||
         (c >= 0x3001 && c <= 0x3002);  // U+3000 is whitespace
}
bool IsDeepSeekCjk(uint32_t c) {
  // [一-龥ࠀ-一가-퟿]: U+0800..U+9FA5 and U+AC00..U+D7FF, minus whitespace.
  return ((c >= 0x0800 && c <= 0x9FA5) || (c >= 0xAC00 && c <= 0xD7FF)) && !IsWhitespace(c);
}

// [\p{P}\$\+<=>\^~\|]+ of the default list.
bool IsDefaultPunct(uint32_t c) {
  switch (c) {
    case '$': case '+': case '<': case '=': case '>': case '^': case '~': case '|':
      return true;
    default:
      return IsPunctuation(c);
  }
}

bool IsAsciiDigit(uint32_t c) { return c >= '0' && c <= '9'; }

Chunks NewlinePass(Cps cps, const Chunks& in) {
  return SplitPass(cps, in, [](Cps s, size_t p, size_t) -> size_t { return IsCrLf(s[p]) ? 1 : 0; });
}

}  // namespace

StatusOr<PreTokenizerKind> ParsePreTokenizer(std::string_view name) {
  if (name.empty() || name == "default") return PreTokenizerKind::kDefault;
  if (name == "gpt2" || name == "gpt-2") return PreTokenizerKind::kGpt2;
  if (name == "llama3" || name == "llama-v3" || name == "llama-bpe") return PreTokenizerKind::kLlama3;
  if (name == "qwen2") return PreTokenizerKind::kQwen2;
  if (name == "smollm") return PreTokenizerKind::kSmolLm;
  if (name == "deepseek-llm") return PreTokenizerKind::kDeepSeekLlm;
  if (name == "deepseek-coder") return PreTokenizerKind::kDeepSeekCoder;
  return Unsupported("pre-tokenizer '" + std::string(name) +
                     "' (supported: default, gpt2, llama3, qwen2, smollm, deepseek-llm, "
                     "deepseek-coder)");
}

std::vector<std::pair<size_t, size_t>> PreTokenize(PreTokenizerKind kind, Cps cps) {
  Chunks chunks;
  if (cps.empty()) return chunks;
  chunks.emplace_back(0, cps.size());
  switch (kind) {
    case PreTokenizerKind::kGpt2:
      return SplitPass(cps, chunks, MatchGpt2);
    case PreTokenizerKind::kLlama3:
      return SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchLlama3(s, p, e, 3); });
    case PreTokenizerKind::kQwen2:
      return SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchLlama3(s, p, e, 1); });
    case PreTokenizerKind::kSmolLm:
      chunks = SplitPass(cps, chunks, [](Cps s, size_t p, size_t) -> size_t { return IsNumber(s[p]) ? 1 : 0; });
      return SplitPass(cps, chunks, MatchGpt2);
    case PreTokenizerKind::kDefault:
      chunks = SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchRun(s, p, e, IsDefaultPunct); });
      chunks = SplitPass(cps, chunks, MatchGpt2);
      chunks = SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchRun(s, p, e, IsNumber); });
      return SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) -> size_t {
        return (p + 3 <= e && IsAsciiDigit(s[p]) && IsAsciiDigit(s[p + 1]) && IsAsciiDigit(s[p + 2])) ? 3 : 0;
      });
    case PreTokenizerKind::kDeepSeekLlm:
      chunks = NewlinePass(cps, chunks);
      chunks = SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchSpaceThenRun(s, p, e, IsDeepSeekLetter); });
      chunks = SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchSpaceThenRun(s, p, e, IsDeepSeekPunct); });
      chunks = SplitTrailingWhitespace(cps, chunks);
      chunks = SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchRun(s, p, e, IsDeepSeekCjk); });
      return SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchRun(s, p, e, IsNumber); });
    case PreTokenizerKind::kDeepSeekCoder:
      chunks = NewlinePass(cps, chunks);
      chunks = SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchSpaceThenRun(s, p, e, IsLetter); });
      chunks = SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchSpaceThenRun(s, p, e, IsPunctuation); });
      chunks = SplitPass(cps, chunks, [](Cps s, size_t p, size_t e) { return MatchRun(s, p, e, IsDeepSeekCjk); });
      return SplitPass(cps, chunks, [](Cps s, size_t p, size_t) -> size_t { return IsNumber(s[p]) ? 1 : 0; });
  }
  return chunks;
}

}  // namespace slm

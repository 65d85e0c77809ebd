// SentencePiece-style BPE (llama.cpp's llm_tokenizer_spm semantics).
//
// Start from one symbol per UTF-8 character; a max-heap holds every adjacent
// pair whose concatenation is a vocabulary piece, keyed by that piece's score
// (ties: leftmost). Pop, skip pairs made stale by earlier merges, merge, and
// push the two new neighbour pairs. O(n log n) in the number of characters.
// Symbols left that are not pieces fall back to <0xNN> byte tokens (or unk).
#include <queue>

#include "tokenizer/tokenizer.h"

namespace slm {
namespace {

struct Symbol {
  size_t start;  // byte offset into the escaped text
  size_t len;    // bytes; 0 once merged into its left neighbour
  int prev;      // index of the previous live symbol, -1 at the start
  int next;      // index of the next live symbol, -1 at the end
};

struct Bigram {
  float score;
  int left, right;
  size_t len;  // bytes of the concatenation when it was pushed
};

struct BigramLess {
  // priority_queue pops the greatest: highest score, then smallest left.
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

size_t Utf8Len(unsigned char lead) {
  static const size_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

}  // namespace

void Tokenizer::EncodeSpm(std::string_view text, std::vector<int32_t>* out) const {
  std::vector<Symbol> sym;
  sym.reserve(text.size());
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(Utf8Len(static_cast<unsigned char>(text[off])), text.size() - off);
    const int idx = static_cast<int>(sym.size());
    sym.push_back({off, len, idx - 1, off + len == text.size() ? -1 : idx + 1});
    off += len;
  }

  std::vector<Bigram> storage;
  storage.reserve(sym.size());
  std::priority_queue<Bigram, std::vector<Bigram>, BigramLess> queue(BigramLess{}, std::move(storage));
  auto try_add = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const size_t len = sym[l].len + sym[r].len;
    const int32_t id = Find(text.substr(sym[l].start, len));
    if (id < 0) return;
    queue.push({data_.scores[static_cast<size_t>(id)], l, r, len});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    // Stale: one side was merged away or grew since the pair was pushed.
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int i = sym.empty() ? -1 : 0; i != -1; i = sym[i].next) {
    const std::string_view s = text.substr(sym[i].start, sym[i].len);
    const int32_t id = Find(s);
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    bool all_bytes = true;
    for (char c : s) all_bytes = all_bytes && byte_to_id_[static_cast<unsigned char>(c)] >= 0;
    if (all_bytes) {
      for (char c : s) out->push_back(byte_to_id_[static_cast<unsigned char>(c)]);
    } else if (data_.unk_id >= 0) {
      out->push_back(data_.unk_id);
    }
  }
}

}  // namespace slm

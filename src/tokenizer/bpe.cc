// Byte-level BPE (GPT-2 family; llama.cpp's llm_tokenizer_bpe semantics).
//
// The pre-tokenizer cuts the text into chunks; in each chunk every byte
// starts as the piece of its bytes_to_unicode code point, and a min-heap of
// adjacent pairs keyed by merge rank (ties: leftmost) drives the merges, as
// in spm.cc. O(n log n) per chunk.
#include <queue>

#include "base/utf8.h"
#include "tokenizer/unicode.h"
#include "tokenizer/tokenizer.h"

namespace slm {
namespace {

struct Symbol {
  size_t start, len;  // bytes of the chunk; len 0 once merged away
  int prev, next;
  int32_t id;         // vocabulary id of the symbol's text, -1 if none
};

struct Bigram {
  int32_t rank;
  int left, right;
  int32_t left_id, right_id, merged_id;
};

struct BigramGreater {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

void Tokenizer::EncodeBpe(std::string_view text, std::vector<int32_t>* out) const {
  // Code points and the byte offset of each (plus one past the end).
  std::vector<uint32_t> cps;
  std::vector<size_t> offs;
  cps.reserve(text.size());
  offs.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t n = Utf8Decode(text, i, &cp);
    if (n == 0) {  // validated by Encode; stay safe anyway
      cp = 0xFFFD;
      n = 1;
    }
    cps.push_back(cp);
    offs.push_back(i);
    i += n;
  }
  offs.push_back(text.size());
  for (auto [b, e] : PreTokenize(pre_kind_, cps)) {
    EncodeBpeChunk(text.substr(offs[b], offs[e] - offs[b]), out);
  }
}

void Tokenizer::EncodeBpeChunk(std::string_view bytes, std::vector<int32_t>* out) const {
  if (ignore_merges_) {
    std::string mapped;
    for (char c : bytes) AppendUtf8(&mapped, ByteToUnicode(static_cast<uint8_t>(c)));
    const int32_t id = Find(mapped);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  std::vector<Symbol> sym(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    const int idx = static_cast<int>(i);
    sym[i] = {i, 1, idx - 1, i + 1 == bytes.size() ? -1 : idx + 1,
              byte_to_id_[static_cast<unsigned char>(bytes[i])]};
  }
  std::vector<Bigram> storage;
  storage.reserve(sym.size());
  std::priority_queue<Bigram, std::vector<Bigram>, BigramGreater> queue(BigramGreater{},
                                                                        std::move(storage));
  auto try_add = [&](int l, int r) {
    if (l < 0 || r < 0 || sym[l].id < 0 || sym[r].id < 0) return;
    auto it = merges_.find({sym[l].id, sym[r].id});
    if (it == merges_.end()) return;
    queue.push({it->second.first, l, r, sym[l].id, sym[r].id, it->second.second});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.id != b.left_id || r.id != b.right_id) continue;  // stale
    l.len += r.len;
    l.id = b.merged_id;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int i = sym.empty() ? -1 : 0; i != -1; i = sym[i].next) {
    if (sym[i].id >= 0) {
      out->push_back(sym[i].id);
      continue;
    }
    // Not a piece: one token per byte where the vocabulary has it.
    for (size_t k = 0; k < sym[i].len; ++k) {
      const int32_t id = byte_to_id_[static_cast<unsigned char>(bytes[sym[i].start + k])];
      if (id >= 0) out->push_back(id);
    }
  }
}

}  // namespace slm

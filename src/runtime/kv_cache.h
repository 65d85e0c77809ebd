// The paged KV cache of a Session (docs/kv-cache.md).
//
// One arena of n_pages fixed pages, allocated once when the session is
// created (no allocation afterwards: free list, page tables and the prefix
// table are all sized up front). A page holds kPageTokens consecutive
// positions of one sequence, K and V for every layer:
//   page p = [n_layers][2 (K, V)][kPageTokens][kv_dim] f32
// so the K row of position t of a sequence, layer l, is
//   K(table[t / kPageTokens], l) + (t % kPageTokens) * kv_dim.
//
// Prefix reuse: a full page gets a key, the first 8 bytes of
//   SHA-256("slm-kv-page-v1" | parent key | 16 token ids | assembly checksum)
// where the parent key is the previous page's key (0 for the first page). The
// key therefore names the whole token prefix and the adapter set it was
// computed under. Published pages sit in an open-addressing table; lookups
// also compare the stored parent key, tokens and checksum, so a 64-bit
// collision can never hand out a wrong page. Pages are reference-counted; a
// published page nobody references is "cached" (evictable, least recently
// released first), an unpublished one goes back to the free list at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace slm {

// Diagnostics of the cache (Session::kv_stats()). Counters are cumulative
// since the session was created; page counts are a snapshot.
struct KvStats {
  int32_t page_tokens = 0;      // positions per page (16)
  int32_t pages_total = 0;      // pages in the arena (the budget)
  int32_t pages_used = 0;       // pages referenced by at least one live sequence
  int32_t pages_shared = 0;     // of those, referenced by two or more sequences
  int32_t pages_cached = 0;     // unreferenced full pages kept for prefix reuse (evictable)
  int32_t pages_free = 0;       // never written or released without a key
  int64_t tokens_in_cache = 0;  // positions held by live sequences (sum of positions)
  int64_t prompt_tokens = 0;    // tokens passed to Prefill
  int64_t reused_tokens = 0;    // of those, taken from cached pages instead of computed
  double prefix_hit_rate = 0;   // reused_tokens / prompt_tokens (0 when no prompt yet)
  int64_t evictions = 0;        // cached pages recycled for new content
  int64_t page_bytes = 0;       // bytes of one page
  int64_t arena_bytes = 0;      // pages_total * page_bytes
  int64_t bytes_used = 0;       // (pages_used + pages_cached) * page_bytes
};

class KvCache {
 public:
  static constexpr int32_t kPageTokens = 16;
  using Key = uint64_t;
  using Checksum = std::array<uint8_t, 32>;

  // Floats of one page.
  static int64_t PageFloats(int32_t n_layers, int32_t kv_dim) {
    return static_cast<int64_t>(n_layers) * 2 * kPageTokens * kv_dim;
  }
  // Allocates the arena (n_pages >= 1; the caller checked the size).
  KvCache(int32_t n_layers, int32_t kv_dim, int32_t n_pages);

  int32_t n_pages() const { return n_pages_; }
  // Layer l's [kPageTokens][kv_dim] K (V) rows of page p.
  float* K(int32_t p, int32_t l) { return arena_.data() + p * page_floats_ + l * layer_floats_; }
  float* V(int32_t p, int32_t l) { return K(p, l) + kPageTokens * kv_dim_; }
  const float* K(int32_t p, int32_t l) const {
    return arena_.data() + p * page_floats_ + l * layer_floats_;
  }
  const float* V(int32_t p, int32_t l) const { return K(p, l) + kPageTokens * kv_dim_; }

  // Pages Allocate can hand out now: free plus cached (evictable).
  int32_t Available() const { return n_free_ + n_cached_; }
  // A page with reference count 1 and no content (fill 0); evicts the least
  // recently released cached page when the free list is empty. Requires
  // Available() > 0.
  int32_t Allocate();
  void Ref(int32_t p);
  // Drops one reference; at zero a published page becomes cached, any other
  // page free.
  void Unref(int32_t p);
  int32_t refs(int32_t p) const { return pages_[p].refs; }

  // What a sequence writes into its page: the token at row `row` (the rows
  // below are already written). `parent` is the key of the sequence's previous
  // page, `checksum` the assembly checksum; `shareable` false keeps the page
  // out of partial-match lookups (content mixed from two adapter sets).
  void NoteToken(int32_t p, int32_t row, int32_t id, Key parent, const Checksum& checksum,
                 bool shareable);
  // For a full page: its key (see the header comment).
  static Key ChainKey(Key parent, const int32_t* ids, const Checksum& checksum);
  // Publishes full page p under `key` unless a page with that key is already
  // published (then p stays private and is freed when released).
  void Publish(int32_t p, Key key);
  // The published page holding exactly `ids[0..kPageTokens)` after `parent`
  // under `checksum`, or -1.
  int32_t Find(Key parent, const int32_t* ids, const Checksum& checksum) const;
  // The shareable page after `parent` under `checksum` (published, or the
  // partial last page of a live sequence) whose first rows match the most of
  // ids[0..n_max), n_max <= kPageTokens; -1 if none matches at least one.
  int32_t FindPartial(Key parent, const int32_t* ids, int32_t n_max, const Checksum& checksum,
                      int32_t* matched) const;
  Key key(int32_t p) const { return pages_[p].key; }
  const int32_t* tokens(int32_t p) const { return pages_[p].ids; }
  // Copies rows [0, n) of every layer's K and V from page src to page dst.
  void CopyRows(int32_t dst, int32_t src, int32_t n);

  void CountPrompt(int64_t prompt, int64_t reused) {
    prompt_tokens_ += prompt;
    reused_tokens_ += reused;
  }
  // Page counts and counters; tokens_in_cache is the caller's.
  KvStats Stats() const;

 private:
  struct Page {
    int32_t refs = 0;
    int32_t fill = 0;  // rows written
    bool published = false;
    bool shareable = false;
    Key key = 0;            // valid when published (or full)
    Key parent = 0;         // key of the previous page of the prefix (0 = first page)
    uint64_t released = 0;  // LRU clock value when it became cached
    Checksum checksum{};
    int32_t ids[kPageTokens] = {};
  };
  bool Same(const Page& pg, Key parent, const Checksum& checksum) const {
    return pg.parent == parent && pg.checksum == checksum;
  }
  size_t Slot(Key k) const { return static_cast<size_t>(k) & (table_.size() - 1); }
  void TableRemove(int32_t p);

  int32_t n_layers_, kv_dim_, n_pages_;
  int64_t page_floats_, layer_floats_;
  std::vector<float> arena_;    // [n_pages][page_floats]
  std::vector<Page> pages_;     // [n_pages]
  std::vector<int32_t> free_;   // stack of free page ids (capacity n_pages)
  std::vector<int32_t> table_;  // open addressing (linear probing), -1 = empty; power of 2
  int32_t n_free_ = 0, n_cached_ = 0;
  uint64_t clock_ = 0;
  int64_t evictions_ = 0, prompt_tokens_ = 0, reused_tokens_ = 0;
};

}  // namespace slm

#include "runtime/kv_cache.h"

#include <cstring>

#include "base/sha256.h"

namespace slm {

KvCache::KvCache(int32_t n_layers, int32_t kv_dim, int32_t n_pages)
    : n_layers_(n_layers),
      kv_dim_(kv_dim),
      n_pages_(n_pages),
      page_floats_(PageFloats(n_layers, kv_dim)),
      layer_floats_(int64_t{2} * kPageTokens * kv_dim) {
  arena_.assign(static_cast<size_t>(n_pages) * static_cast<size_t>(page_floats_), 0.0f);
  pages_.resize(static_cast<size_t>(n_pages));
  free_.reserve(static_cast<size_t>(n_pages));
  // Lowest ids handed out first (stack popped from the back).
  for (int32_t p = n_pages - 1; p >= 0; --p) free_.push_back(p);
  n_free_ = n_pages;
  size_t cap = 16;
  while (cap < static_cast<size_t>(n_pages) * 2) cap *= 2;
  table_.assign(cap, -1);
}

int32_t KvCache::Allocate() {
  int32_t p = -1;
  if (!free_.empty()) {
    p = free_.back();
    free_.pop_back();
    --n_free_;
  } else {
    // Least recently released cached page (ties: lowest id).
    uint64_t best = 0;
    for (int32_t i = 0; i < n_pages_; ++i) {
      const Page& pg = pages_[i];
      if (pg.refs == 0 && pg.published && (p < 0 || pg.released < best)) {
        p = i;
        best = pg.released;
      }
    }
    TableRemove(p);
    --n_cached_;
    ++evictions_;
  }
  Page& pg = pages_[p];
  pg = Page{};
  pg.refs = 1;
  return p;
}

void KvCache::Ref(int32_t p) {
  Page& pg = pages_[p];
  if (pg.refs == 0 && pg.published) --n_cached_;
  ++pg.refs;
}

void KvCache::Unref(int32_t p) {
  Page& pg = pages_[p];
  if (--pg.refs > 0) return;
  if (pg.published) {
    pg.released = ++clock_;
    ++n_cached_;
  } else {
    pg.fill = 0;
    pg.shareable = false;
    free_.push_back(p);
    ++n_free_;
  }
}

void KvCache::NoteToken(int32_t p, int32_t row, int32_t id, Key parent, const Checksum& checksum,
                        bool shareable) {
  Page& pg = pages_[p];
  if (row == 0) {
    pg.parent = parent;
    pg.checksum = checksum;
    pg.shareable = shareable;
  } else if (!shareable || pg.checksum != checksum) {
    pg.shareable = false;
  }
  pg.ids[row] = id;
  pg.fill = row + 1;
}

KvCache::Key KvCache::ChainKey(Key parent, const int32_t* ids, const Checksum& checksum) {
  Sha256 h;
  h.Update("slm-kv-page-v1");
  uint8_t buf[8 + 4 * kPageTokens];
  std::memcpy(buf, &parent, 8);  // little-endian hosts (x86, wasm)
  std::memcpy(buf + 8, ids, 4 * kPageTokens);
  h.Update(std::span<const uint8_t>(buf, sizeof(buf)));
  h.Update(std::span<const uint8_t>(checksum.data(), checksum.size()));
  const Digest d = h.Finish();
  Key k;
  std::memcpy(&k, d.data(), 8);
  return k;
}

void KvCache::Publish(int32_t p, Key key) {
  Page& pg = pages_[p];
  pg.key = key;
  if (!pg.shareable || pg.fill != kPageTokens || pg.published) return;
  if (Find(pg.parent, pg.ids, pg.checksum) >= 0) return;  // computed twice; keep the first
  size_t s = Slot(key);
  while (table_[s] >= 0) s = (s + 1) & (table_.size() - 1);
  table_[s] = p;
  pg.published = true;
}

int32_t KvCache::Find(Key parent, const int32_t* ids, const Checksum& checksum) const {
  const Key key = ChainKey(parent, ids, checksum);
  for (size_t s = Slot(key); table_[s] >= 0; s = (s + 1) & (table_.size() - 1)) {
    const Page& pg = pages_[table_[s]];
    if (pg.key == key && Same(pg, parent, checksum) &&
        std::memcmp(pg.ids, ids, sizeof(pg.ids)) == 0) {
      return table_[s];
    }
  }
  return -1;
}

int32_t KvCache::FindPartial(Key parent, const int32_t* ids, int32_t n_max,
                             const Checksum& checksum, int32_t* matched) const {
  int32_t best = -1, best_n = 0;
  for (int32_t p = 0; p < n_pages_; ++p) {
    const Page& pg = pages_[p];
    if (!pg.shareable || pg.fill == 0 || (pg.refs == 0 && !pg.published)) continue;
    if (!Same(pg, parent, checksum)) continue;
    int32_t n = 0;
    const int32_t lim = pg.fill < n_max ? pg.fill : n_max;
    while (n < lim && pg.ids[n] == ids[n]) ++n;
    if (n > best_n) {
      best = p;
      best_n = n;
    }
  }
  *matched = best_n;
  return best;
}

void KvCache::CopyRows(int32_t dst, int32_t src, int32_t n) {
  const size_t bytes = static_cast<size_t>(n) * static_cast<size_t>(kv_dim_) * sizeof(float);
  for (int32_t l = 0; l < n_layers_; ++l) {
    std::memcpy(K(dst, l), K(src, l), bytes);
    std::memcpy(V(dst, l), V(src, l), bytes);
  }
}

void KvCache::TableRemove(int32_t p) {
  // Linear probing with backward-shift deletion (no tombstones): after
  // emptying slot i, move back any later entry of the run whose home slot is
  // not cyclically in (i, j].
  const size_t mask = table_.size() - 1;
  size_t i = Slot(pages_[p].key);
  while (table_[i] != p) i = (i + 1) & mask;
  table_[i] = -1;
  pages_[p].published = false;
  for (size_t j = (i + 1) & mask; table_[j] >= 0; j = (j + 1) & mask) {
    const size_t home = Slot(pages_[table_[j]].key);
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    table_[i] = table_[j];
    table_[j] = -1;
    i = j;
  }
}

KvStats KvCache::Stats() const {
  KvStats s;
  s.page_tokens = kPageTokens;
  s.pages_total = n_pages_;
  for (const Page& pg : pages_) {
    if (pg.refs > 0) ++s.pages_used;
    if (pg.refs > 1) ++s.pages_shared;
  }
  s.pages_cached = n_cached_;
  s.pages_free = n_free_;
  s.prompt_tokens = prompt_tokens_;
  s.reused_tokens = reused_tokens_;
  s.prefix_hit_rate =
      prompt_tokens_ > 0 ? static_cast<double>(reused_tokens_) / static_cast<double>(prompt_tokens_)
                         : 0.0;
  s.evictions = evictions_;
  s.page_bytes = page_floats_ * static_cast<int64_t>(sizeof(float));
  s.arena_bytes = s.page_bytes * n_pages_;
  s.bytes_used = s.page_bytes * (s.pages_used + s.pages_cached);
  return s;
}

}  // namespace slm

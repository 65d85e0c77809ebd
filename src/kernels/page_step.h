// The row step of the native decode tiles (avx2/matmul.cc, avx512/): a tile
// takes rows r + i * step with step * row_bytes >= 4 KiB, so no two of its
// rows share a 4 KiB page and the L2 streamer (which stays inside a page)
// follows each row forward (bench/kernels/RESULTS.md, "The decode tiles,
// session 6"). 1 for an empty row.
#pragma once

#include <cstdint>

namespace slm::kernels {

inline int32_t PageStep(int64_t row_bytes) {
  return row_bytes > 0 ? static_cast<int32_t>((4096 + row_bytes - 1) / row_bytes) : 1;
}

// Decode of rows from r in tiles of R rows: groups of R * step rows run as
// `step` tiles of rows g + o + i * step (step = PageStep, when 2..max_step;
// step * row_bytes < 8 KiB then). tile(g, step, next) runs one tile; `next`
// is the byte offset from its rows to the next tile's (for prefetching).
// Returns the first row not done: the caller tiles the rest with step 1.
template <int R, typename Tile>
int32_t PageStridedDecode(int32_t r, int32_t r1, int64_t row_bytes, int32_t max_step, Tile tile) {
  const int32_t step = PageStep(row_bytes);
  if (step < 2 || step > max_step) return r;
  for (; r + R * step <= r1; r += R * step) {
    for (int32_t o = 0; o < step; ++o) {
      tile(r + o, step, (o + 1 < step ? 1 : R * step - step + 1) * row_bytes);
    }
  }
  return r;
}

}  // namespace slm::kernels

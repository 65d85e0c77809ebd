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

}  // namespace slm::kernels

#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace slm {

UnicodeClass GetUnicodeClass(uint32_t cp) {
  if (cp > 0x10FFFF) return UnicodeClass::kUndefined;
  // Last run whose start is <= cp. Entries are start << 3 | class, so
  // comparing against (cp << 3 | 7) finds it with one upper_bound.
  const uint32_t key = (cp << 3) | 7u;
  const uint32_t* end = kUnicodeRuns + kUnicodeRunCount;
  const uint32_t* it = std::upper_bound(kUnicodeRuns, end, key);
  if (it == kUnicodeRuns) return UnicodeClass::kUndefined;
  return static_cast<UnicodeClass>(it[-1] & 7u);
}

bool IsWhitespace(uint32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
  switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {

struct ByteMaps {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 324> from_cp{};  // code points 0..323 cover the image
  ByteMaps() {
    from_cp.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
                             (b >= 0xAE && b <= 0xFF);
      to_cp[b] = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + n++);
      from_cp[to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteMaps& Maps() {
  static const ByteMaps maps;
  return maps;
}

}  // namespace

uint32_t ByteToUnicode(uint8_t b) { return Maps().to_cp[b]; }

int UnicodeToByte(uint32_t cp) {
  if (cp >= Maps().from_cp.size()) return -1;
  return Maps().from_cp[cp];
}

}  // namespace slm

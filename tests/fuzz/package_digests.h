// Shared by the package fuzz targets (fuzz_package.cc, fuzz_package_stream.cc):
// rewrites the section digests of a mutated .slm so the reader gets past its
// section checks and reaches the tensor table and tensor digests.
#pragma once

#include <cstdint>
#include <cstring>

#include "base/sha256.h"

namespace slm::fuzz {

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Writes each in-bounds directory entry's SHA-256 of its section (tensor data
// stays zero). Returns false if nothing could be fixed.
inline bool FixSectionDigests(uint8_t* b, size_t n) {
  if (n < 64) return false;
  uint32_t count = Load32(b + 20);
  uint64_t dir = Load64(b + 32);
  if (count > 1024 || dir > n || (n - dir) / 56 < count) return false;
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t* e = b + dir + 56ull * i;
    uint32_t id = Load32(e);
    uint64_t off = Load64(e + 8), sz = Load64(e + 16);
    if (off > n || sz > n - off) continue;
    if (id == 4) {
      std::memset(e + 24, 0, 32);
    } else {
      slm::Digest d = slm::Sha256Of(std::span<const uint8_t>(b + off, sz));
      std::memcpy(e + 24, d.data(), 32);
    }
  }
  return true;
}

}  // namespace slm::fuzz

// On-disk constants of the .slm package format, version 1. docs/format.md is
// the prose specification; package.h's header comment is the summary. Only
// the writer and the readers (package_reader.cc, package_stream.cc) include
// this file.
#pragma once

#include <cstdint>

namespace slm::pkg {

// File header: 64 bytes at offset 0.
//   0  u8[8]  magic "SLMPKG\0\x1a"
//   8  u32    version (1)
//  12  u32    required feature flags (must be 0 in v1)
//  16  u32    kind (0 = model; 1 = adapter, reserved)
//  20  u32    section count (1..kMaxSections)
//  24  u64    file size in bytes
//  32  u64    section directory offset (64)
//  40  u8[24] reserved, zero
inline constexpr uint8_t kMagic[8] = {'S', 'L', 'M', 'P', 'K', 'G', 0x00, 0x1a};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint64_t kHeaderSize = 64;
inline constexpr uint32_t kMaxSections = 1024;

inline constexpr uint32_t kKindModel = 0;
inline constexpr uint32_t kKindAdapter = 1;  // reserved for a later issue

// Section directory entry: 56 bytes.
//   0 u32 id | 4 u32 flags | 8 u64 offset | 16 u64 size | 24 u8[32] sha256
inline constexpr uint64_t kDirEntrySize = 56;
inline constexpr uint32_t kSectionFlagRequired = 1;  // a reader that does not know the id must refuse
inline constexpr uint32_t kKnownSectionFlags = kSectionFlagRequired;

enum SectionId : uint32_t {
  kSectionMetadata = 1,
  kSectionTokenizer = 2,
  kSectionTensorTable = 3,
  kSectionTensorData = 4,
};

// Tensor data offsets (absolute) are multiples of this.
inline constexpr uint64_t kTensorAlignment = 64;
// Non-data sections start at multiples of this.
inline constexpr uint64_t kSectionAlignment = 8;

// Metadata value types.
enum MetaType : uint32_t {
  kMetaString = 1,  // UTF-8 bytes
  kMetaI64 = 2,     // 8 bytes
  kMetaF32 = 3,     // 4 bytes, IEEE binary32
  kMetaBool = 4,    // 1 byte, 0 or 1
};

// Limits that stop hostile files before they allocate.
inline constexpr uint32_t kMaxKeyLen = 256;
inline constexpr uint32_t kMaxNameLen = 1024;
inline constexpr uint32_t kMaxDims = 4;
inline constexpr uint64_t kMaxDim = 1ull << 40;
inline constexpr uint32_t kMaxPieceLen = 1u << 16;

// Prefix of the package digest input.
inline constexpr char kDigestDomain[] = "slm package digest v1";

}  // namespace slm::pkg

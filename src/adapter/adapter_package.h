// Adapter packages: the .slm container with kind = 1 (docs/format.md section
// 8, "Adapter packages"). Summary (little-endian, header and directory as for
// models):
//
//   header     kind = 1; sections (directory sorted by id):
//   id 4       blob data      64-byte aligned blobs, zero padding, ends the
//                             file; directory digest zero (each blob has one)
//   id 16      adapter info   str32 name, u8[32] base compat digest,
//                             u8[32] base tokenizer digest, u32 n_parents,
//                             n x str32 parent, str32 method, str32 notes
//   id 17      delta table    u32 count, u32 0, then per delta (sorted by
//                             target, unique): str32 target, u32 kind,
//                             f32 scale, u32 n_dims, u64 dims[n_dims], and
//                               raw:     u32 dtype, blob
//                               sparse:  u64 nnz, u32 encoding (1), blob
//                                        indices, blob values (f32)
//                               lowrank: u32 rank, blob A, blob B (f32)
//                             blob = {u64 offset, u64 size, u8[32] sha256}
//
// Sparse indices (encoding 1): flat row-major element indices, ascending and
// unique, stored as unsigned LEB128 varints of the gaps (the first index as
// is, then index[k] - index[k-1] >= 1), minimal encodings only. A gap below
// 128 takes 1 byte, below 16384 2 bytes: at densities above ~1% nearly every
// entry costs 1 index byte + 4 value bytes (vs 12 for u64 + f32, 8 for
// u32 + f32).
//
// Content digest: SHA-256 of "slm adapter digest v1", u32 version, u32 kind,
// u32 flags, the info section's SHA-256, the SHA-256 of the delta table
// encoded with every blob offset written as 0, then per unknown section
// {u32 id, u64 size, sha256}. Offsets and padding are not hashed (as for the
// package digest), every blob is covered through its digest in the table.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "adapter/adapter.h"
#include "base/sha256.h"
#include "base/status.h"

namespace slm {

namespace adapter_pkg {
inline constexpr uint32_t kSectionBlobs = 4;
inline constexpr uint32_t kSectionInfo = 16;
inline constexpr uint32_t kSectionDeltaTable = 17;
inline constexpr uint32_t kSparseLeb128Gaps = 1;
inline constexpr char kDigestDomain[] = "slm adapter digest v1";
inline constexpr uint32_t kMaxNotes = 1u << 16;
inline constexpr uint32_t kMaxParents = 1024;
inline constexpr uint32_t kMaxRank = 1u << 16;
}  // namespace adapter_pkg

// Deterministic: the same adapter gives the same bytes. Checks the adapter's
// structure first (CheckAdapterStructure).
StatusOr<std::vector<uint8_t>> SerializeAdapter(const Adapter& a);
Status WriteAdapter(const Adapter& a, const std::string& path);
// The content digest of the package SerializeAdapter(a) writes.
StatusOr<Digest> AdapterContentDigest(const Adapter& a);

struct AdapterFile {
  Adapter adapter;
  Digest digest{};     // content digest
  uint64_t bytes = 0;  // file size
};

// Parses and checks every count, offset, size and digest of an adapter
// package against the bytes first (hostile input); errors are
// "<name>: <section> at offset N: ...". Also runs CheckAdapterStructure.
StatusOr<AdapterFile> ParseAdapterPackage(std::span<const uint8_t> bytes, const std::string& name);
StatusOr<AdapterFile> ReadAdapterPackage(const std::string& path);
// True if the bytes start with the .slm magic and kind = 1.
bool IsAdapterPackage(std::span<const uint8_t> bytes);

// Shape and value checks that need no base: kinds, ranks and blob sizes agree
// with the shape, sparse indices ascending/unique/in range, every value finite,
// targets unique and sorted. Errors name the target.
Status CheckAdapterStructure(const Adapter& a);

}  // namespace slm

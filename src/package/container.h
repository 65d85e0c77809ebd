// The section directory that both .slm kinds (model packages and adapter
// packages) share, docs/format.md: `count` entries of kDirEntrySize bytes at
// the directory offset, then sections that are inside the file, aligned, not
// overlapping the header, the directory or one another, with zero bytes
// between them (so no byte escapes the digests). Internal to the readers
// (package_reader.cc, adapter/adapter_package.cc), so the two cannot drift.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "package/package.h"

namespace slm::pkg {

// "0x%08x" of v, for flag words in messages.
std::string Hex32(uint32_t v);

struct DirectoryRules {
  std::string (*label)(uint32_t id);  // "metadata section", "blob data section", ...
  bool (*known)(uint32_t id);         // ids this reader understands (they must be required)
  uint32_t data_id;                   // aligned to kTensorAlignment, digest field zero
  const char* data_digest_reason;     // "tensors carry their own"
};

// Reads and checks the directory; *sections = the entries in file order, and
// *sections_end = the end of the last section (the file must end there: see
// CheckFileExtent). Errors: "<name>: section directory: offset N: entry #k
// (<label>, id I) ..." for one entry, "<name>: padding byte at offset N before
// <label> is not zero", "<name>: section directory: <label> at offset N
// overlaps <label> [a, b)".
Status ParseSectionDirectory(std::span<const uint8_t> bytes, const std::string& name,
                             uint64_t dir_offset, uint32_t count, const DirectoryRules& rules,
                             std::vector<PackageSection>* sections, uint64_t* sections_end);

// The header's file size field and the end of the sections against the bytes.
Status CheckFileExtent(const std::string& name, uint64_t file_size_field, uint64_t sections_end,
                       uint64_t file_bytes);

}  // namespace slm::pkg

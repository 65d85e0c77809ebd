// A release packet as ONE file: a POSIX ustar archive (docs/eval.md,
// "Packet archives"), so the browser can offer a packet as a download and
// anyone can unpack it with `tar -xf`.
//
// Written deterministically: members in the given order, each a 512-byte
// ustar header (mode 0644, uid/gid 0, mtime 0, empty user/group names,
// typeflag '0', magic "ustar\0" version "00") followed by the data padded with
// zeros to a multiple of 512; the archive ends with two zero blocks. The same
// files give the same bytes on every platform.
//
// Read strictly, because packets come from strangers: every header checksum
// is checked, sizes are octal and bounded by the archive length and by
// ArchiveLimits, names must be flat (no '/', no "." or "..", no NUL inside,
// at most 100 bytes, unique), only regular files (typeflag '0' or NUL) are
// accepted, and the archive must end with the two zero blocks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace slm::eval {

struct ArchiveMember {
  std::string name;
  std::string bytes;
};

struct ArchiveLimits {
  uint64_t max_members = 4096;
  uint64_t max_total_bytes = uint64_t{1} << 34;  // 16 GiB of member data
};

// InvalidArgument for a name that ReadArchive would refuse.
StatusOr<std::string> WriteArchive(const std::vector<ArchiveMember>& members);

// FormatError naming the member and offset for a malformed archive;
// ResourceExhausted past the limits.
StatusOr<std::vector<ArchiveMember>> ReadArchive(std::span<const uint8_t> bytes,
                                                 const ArchiveLimits& limits = {});

// True if `bytes` starts like a ustar archive (magic at offset 257).
bool LooksLikeArchive(std::span<const uint8_t> bytes);

}  // namespace slm::eval

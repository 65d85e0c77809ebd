#include "package/container.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/byte_reader.h"
#include "package/format.h"

namespace slm::pkg {

std::string Hex32(uint32_t v) {
  char b[11];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

Status ParseSectionDirectory(std::span<const uint8_t> bytes, const std::string& name,
                             uint64_t dir_offset, uint32_t count, const DirectoryRules& rules,
                             std::vector<PackageSection>* sections, uint64_t* sections_end) {
  ByteReader r(bytes, name + ": section directory");
  SLM_RETURN_IF_ERROR(r.Seek(dir_offset, "section directory"));
  const uint64_t dir_end = dir_offset + uint64_t{count} * kDirEntrySize;
  sections->clear();
  for (uint32_t k = 0; k < count; ++k) {
    const size_t at = r.offset();
    PackageSection s;
    std::span<const uint8_t> sha;
    SLM_RETURN_IF_ERROR(r.ReadU32(&s.id, "section id"));
    SLM_RETURN_IF_ERROR(r.ReadU32(&s.flags, "section flags"));
    SLM_RETURN_IF_ERROR(r.ReadU64(&s.offset, "section offset"));
    SLM_RETURN_IF_ERROR(r.ReadU64(&s.size, "section size"));
    SLM_RETURN_IF_ERROR(r.ReadSpan(32, &sha, "section sha256"));
    std::memcpy(s.sha256.data(), sha.data(), 32);
    s.known = rules.known(s.id);
    const std::string label = "entry #" + std::to_string(k) + " (" + rules.label(s.id) + ", id " +
                              std::to_string(s.id) + ")";
    if (k > 0 && s.id <= sections->back().id) {
      return r.ErrorAt(at, label + ": section ids must be unique and ascending");
    }
    if ((s.flags & ~kKnownSectionFlags) != 0) {
      return r.ErrorAt(at + 4, label + ": unknown flags " + Hex32(s.flags));
    }
    if (!s.known && (s.flags & kSectionFlagRequired)) {
      return Unsupported(name + ": section directory at offset " + std::to_string(at) + ": " +
                         label + " is required but unknown to this reader");
    }
    uint64_t end = 0;
    if (!CheckedAdd(s.offset, s.size, &end) || end > bytes.size()) {
      return r.ErrorAt(
          at + 8, label + " spans [" + std::to_string(s.offset) + ", " +
                      (CheckedAdd(s.offset, s.size, &end) ? std::to_string(end) : "overflow") +
                      ") but the file has " + std::to_string(bytes.size()) + " bytes (truncated?)");
    }
    if (s.offset < dir_end) {
      return r.ErrorAt(at + 8, label + " at offset " + std::to_string(s.offset) +
                                   " overlaps the header or directory (section count " +
                                   std::to_string(count) + ": ends at " + std::to_string(dir_end) +
                                   ")");
    }
    const uint64_t align = s.id == rules.data_id ? kTensorAlignment : kSectionAlignment;
    if (s.offset % align != 0) {
      return r.ErrorAt(at + 8, label + " offset " + std::to_string(s.offset) +
                                   " is not a multiple of " + std::to_string(align));
    }
    if (s.id == rules.data_id && s.sha256 != Digest{}) {
      return r.ErrorAt(at + 24,
                       label + ": digest field must be zero (" + rules.data_digest_reason + ")");
    }
    if (s.known && !(s.flags & kSectionFlagRequired)) {
      return r.ErrorAt(at + 4, label + " must be flagged required");
    }
    sections->push_back(s);
  }
  // Empty sections first at equal offsets, so they never "overlap".
  std::vector<const PackageSection*> order;
  for (const PackageSection& s : *sections) order.push_back(&s);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->size < b->size;
  });
  uint64_t covered = dir_end;
  for (const PackageSection* s : order) {
    for (uint64_t k = covered; k < s->offset; ++k) {
      if (bytes[k] != 0) {
        return FormatError(name + ": padding byte at offset " + std::to_string(k) + " before " +
                           rules.label(s->id) + " is not zero");
      }
    }
    covered = std::max(covered, s->offset + s->size);
  }
  for (size_t k = 1; k < order.size(); ++k) {
    if (order[k]->offset < order[k - 1]->offset + order[k - 1]->size) {
      return FormatError(name + ": section directory: " + rules.label(order[k]->id) +
                         " at offset " + std::to_string(order[k]->offset) + " overlaps " +
                         rules.label(order[k - 1]->id) + " [" +
                         std::to_string(order[k - 1]->offset) + ", " +
                         std::to_string(order[k - 1]->offset + order[k - 1]->size) + ")");
    }
  }
  *sections_end = covered;
  return Status::Ok();
}

Status CheckFileExtent(const std::string& name, uint64_t file_size_field, uint64_t sections_end,
                       uint64_t file_bytes) {
  if (file_size_field != file_bytes) {
    return FormatError(name + ": header at offset 24: file size field says " +
                       std::to_string(file_size_field) + " bytes, the file has " +
                       std::to_string(file_bytes) +
                       (file_size_field > file_bytes ? " (truncated)" : " (trailing bytes)"));
  }
  if (sections_end != file_bytes) {
    return FormatError(name + ": section directory: the last section ends at offset " +
                       std::to_string(sections_end) + " but the file has " +
                       std::to_string(file_bytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace slm::pkg

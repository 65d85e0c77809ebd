#include "package/package_stream.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/byte_reader.h"
#include "package/format.h"

namespace slm {

namespace {

// Little-endian reads at a position the caller has bounds-checked.
uint32_t U32At(std::span<const uint8_t> b, uint64_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
uint64_t U64At(std::span<const uint8_t> b, uint64_t at) {
  uint64_t v;
  std::memcpy(&v, b.data() + at, 8);
  return v;
}

}  // namespace

PackageStream::PackageStream(std::span<const uint8_t> bytes, std::string name, PackageOpenOptions o)
    : bytes_(bytes), name_(std::move(name)), opts_(o) {}

Status PackageStream::Feed(uint64_t available) {
  if (available < available_ || available > bytes_.size()) {
    return InvalidArgument(name_ + ": " + std::to_string(available) +
                           " bytes available, expected " + std::to_string(available_) + ".." +
                           std::to_string(bytes_.size()) +
                           " (never fewer than the last call, never more than the buffer)");
  }
  available_ = available;
  if (!status_.ok()) return status_;
  Parse();
  if (!status_.ok()) return status_;
  HashArrived();
  return Status::Ok();
}

void PackageStream::Parse() {
  if (stage_ == Stage::kHeader && available_ >= pkg::kHeaderSize) {
    status_ = CheckPackageHeader(bytes_.first(pkg::kHeaderSize), name_);
    if (!status_.ok()) return;
    // Checked above: 1..kMaxSections sections, the directory at offset 64.
    section_count_ = U32At(bytes_, 20);
    stage_ = Stage::kDirectory;
  }
  if (stage_ == Stage::kDirectory &&
      available_ >= pkg::kHeaderSize + uint64_t{section_count_} * pkg::kDirEntrySize) {
    ParseDirectory();
  }
  if (stage_ == Stage::kTable && available_ >= table_offset_ + table_size_) ParseTensorTable();
}

void PackageStream::ParseDirectory() {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  bool have_table = false;
  for (uint32_t k = 0; k < section_count_; ++k) {
    const uint64_t at = pkg::kHeaderSize + uint64_t{k} * pkg::kDirEntrySize;
    const uint32_t id = U32At(bytes_, at);
    const uint64_t offset = U64At(bytes_, at + 8), size = U64At(bytes_, at + 16);
    uint64_t end = 0;
    if (!CheckedAdd(offset, size, &end) || end > bytes_.size()) continue;  // FromMemory refuses it
    if (id == pkg::kSectionTensorData) continue;  // tensors carry their own digests
    ranges.emplace_back(offset, size);
    if (id == pkg::kSectionTensorTable && !have_table) {
      have_table = true;
      table_offset_ = offset;
      table_size_ = size;
    }
  }
  AddRanges(std::move(ranges));
  stage_ = have_table && opts_.verify_digests ? Stage::kTable : Stage::kDone;
}

// Just (offset, size) per entry: u32 name length, name, u32 dtype, u32
// n_dims, n_dims x u64 dims, u64 offset, u64 byte size, u8[32] sha256
// (docs/format.md; package_reader.cc checks every field).
void PackageStream::ParseTensorTable() {
  stage_ = Stage::kDone;
  ByteReader r(bytes_.subspan(table_offset_, table_size_), name_);
  uint32_t count = 0, reserved = 0;
  if (!r.ReadU32(&count, "").ok() || !r.ReadU32(&reserved, "").ok()) return;
  if (count > r.remaining() / 69) return;  // an entry takes at least 69 bytes
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  ranges.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t name_len = 0, dtype = 0, n_dims = 0;
    uint64_t offset = 0, size = 0, end = 0;
    if (!r.ReadU32(&name_len, "").ok() || name_len == 0 || name_len > pkg::kMaxNameLen) break;
    if (!r.Skip(name_len, "").ok() || !r.ReadU32(&dtype, "").ok()) break;
    if (!r.ReadU32(&n_dims, "").ok() || n_dims == 0 || n_dims > pkg::kMaxDims) break;
    if (!r.Skip(8 * size_t{n_dims}, "").ok()) break;
    if (!r.ReadU64(&offset, "").ok() || !r.ReadU64(&size, "").ok() || !r.Skip(32, "").ok()) break;
    if (CheckedAdd(offset, size, &end) && end <= bytes_.size()) ranges.emplace_back(offset, size);
  }
  AddRanges(std::move(ranges));
}

void PackageStream::AddRanges(std::vector<std::pair<uint64_t, uint64_t>> ranges) {
  for (const auto& [offset, size] : ranges) {
    Range r;
    r.offset = offset;
    r.size = size;
    ranges_.push_back(std::move(r));
  }
  std::stable_sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.size < b.size;
  });
  first_open_ = 0;
  while (first_open_ < ranges_.size() && ranges_[first_open_].finished) ++first_open_;
}

void PackageStream::HashArrived() {
  for (size_t i = first_open_; i < ranges_.size() && ranges_[i].offset <= available_; ++i) {
    Range& r = ranges_[i];
    if (r.finished) continue;
    const uint64_t from = r.offset + r.done, to = std::min(r.offset + r.size, available_);
    if (to > from) {
      r.sha.Update(bytes_.subspan(from, to - from));
      r.done += to - from;
      hashed_ += to - from;
    }
    if (r.done == r.size) {
      r.finished = true;
      r.digest = r.sha.Finish();
    }
  }
  while (first_open_ < ranges_.size() && ranges_[first_open_].finished) ++first_open_;
}

size_t PackageStream::finished_ranges() const {
  return static_cast<size_t>(
      std::count_if(ranges_.begin(), ranges_.end(), [](const Range& r) { return r.finished; }));
}

StatusOr<std::unique_ptr<Package>> PackageStream::Finish() const {
  if (!status_.ok()) return status_;
  if (available_ < bytes_.size()) {
    return IoError(name_ + ": the package ended after " + std::to_string(available_) + " of " +
                   std::to_string(bytes_.size()) + " bytes");
  }
  std::vector<RangeDigest> known;
  known.reserve(ranges_.size());
  for (const Range& r : ranges_) {
    if (r.finished) known.push_back({r.offset, r.size, r.digest});
  }
  return Package::FromMemory(bytes_, name_, opts_, known);
}

}  // namespace slm

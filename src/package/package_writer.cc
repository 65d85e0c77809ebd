// .slm writer: lays out header, directory, metadata, tokenizer, tensor table
// and 64-byte aligned tensor data in one buffer. Deterministic: the output
// depends only on the bundle's content and order.
#include <cstring>

#include "package/format.h"
#include "package/model_tensors.h"
#include "package/package.h"
#include "package/sections.h"

namespace slm {
namespace {

using pkg::PutBytes;
using pkg::PutString32;
using pkg::PutU32;
using pkg::PutU64;

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

StatusOr<std::vector<uint8_t>> SerializePackage(const ModelBundle& b,
                                                std::span<const PackageExtraSection> extra) {
  SLM_RETURN_IF_ERROR(b.config.Validate());
  SLM_RETURN_IF_ERROR(CheckModelTensors(b.config, b.tensors));
  SLM_RETURN_IF_ERROR(pkg::ValidateTokenizer(b.tokenizer, b.config.vocab_size, "bundle: "));
  for (const TensorData& t : b.tensors) {
    if (t.name.empty() || t.name.size() > pkg::kMaxNameLen) {
      return InvalidArgument("tensor name '" + t.name + "' must have 1.." +
                             std::to_string(pkg::kMaxNameLen) + " bytes");
    }
  }

  SLM_ASSIGN_OR_RETURN(std::vector<uint8_t> meta,
                       pkg::EncodeMetadata(b.config, b.provenance, b.metadata));
  std::vector<uint8_t> tok = pkg::EncodeTokenizer(b.tokenizer);

  for (size_t i = 0; i < extra.size(); ++i) {
    if (extra[i].id <= pkg::kSectionTensorData || (i > 0 && extra[i].id <= extra[i - 1].id) ||
        (extra[i].flags & ~pkg::kKnownSectionFlags) != 0) {
      return InvalidArgument("extra section #" + std::to_string(i) + " (id " +
                             std::to_string(extra[i].id) +
                             "): ids must be > 4 and ascending, flags 0 or 1");
    }
  }

  // Section placement: header | directory | metadata | tokenizer | table |
  // extra sections | data.
  const uint32_t n_sections = 4 + static_cast<uint32_t>(extra.size());
  if (n_sections > pkg::kMaxSections) return InvalidArgument("too many extra sections");
  const uint64_t dir_end = pkg::kHeaderSize + n_sections * pkg::kDirEntrySize;
  const uint64_t meta_off = AlignUp(dir_end, pkg::kSectionAlignment);
  const uint64_t tok_off = AlignUp(meta_off + meta.size(), pkg::kSectionAlignment);
  const uint64_t table_off = AlignUp(tok_off + tok.size(), pkg::kSectionAlignment);
  uint64_t table_size = 8;
  for (const TensorData& t : b.tensors) {
    table_size += 4 + t.name.size() + 4 + 4 + 8 * t.shape.size() + 8 + 8 + 32;
  }
  std::vector<uint64_t> extra_off;
  uint64_t extra_end = table_off + table_size;
  for (const PackageExtraSection& e : extra) {
    extra_off.push_back(AlignUp(extra_end, pkg::kSectionAlignment));
    extra_end = extra_off.back() + e.bytes.size();
  }
  const uint64_t data_off = AlignUp(extra_end, pkg::kTensorAlignment);

  // Tensor table with absolute offsets and per-tensor digests.
  std::vector<uint8_t> table;
  PutU32(&table, static_cast<uint32_t>(b.tensors.size()));
  PutU32(&table, 0);
  std::vector<uint64_t> offsets;
  std::vector<Digest> digests;
  uint64_t cursor = data_off;
  for (const TensorData& t : b.tensors) {
    cursor = AlignUp(cursor, pkg::kTensorAlignment);
    offsets.push_back(cursor);
    digests.push_back(Sha256Of(t.bytes()));
    PutString32(&table, t.name);
    PutU32(&table, static_cast<uint32_t>(t.dtype));
    PutU32(&table, static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) PutU64(&table, static_cast<uint64_t>(d));
    PutU64(&table, cursor);
    PutU64(&table, t.bytes().size());
    PutBytes(&table, digests.back().data(), 32);
    cursor += t.bytes().size();
  }
  SLM_CHECK(table.size() == table_size);
  const uint64_t file_size = cursor;

  struct Sec {
    uint32_t id, flags;
    uint64_t off, size;
    Digest sha;
  };
  std::vector<Sec> secs = {
      {pkg::kSectionMetadata, pkg::kSectionFlagRequired, meta_off, meta.size(), Sha256Of(meta)},
      {pkg::kSectionTokenizer, pkg::kSectionFlagRequired, tok_off, tok.size(), Sha256Of(tok)},
      {pkg::kSectionTensorTable, pkg::kSectionFlagRequired, table_off, table.size(),
       Sha256Of(table)},
      {pkg::kSectionTensorData, pkg::kSectionFlagRequired, data_off, file_size - data_off,
       Digest{}},
  };
  for (size_t i = 0; i < extra.size(); ++i) {
    secs.push_back({extra[i].id, extra[i].flags, extra_off[i], extra[i].bytes.size(),
                    Sha256Of(extra[i].bytes)});
  }

  std::vector<uint8_t> out;
  out.reserve(file_size);
  PutBytes(&out, pkg::kMagic, 8);
  PutU32(&out, pkg::kVersion);
  PutU32(&out, 0);  // required feature flags
  PutU32(&out, pkg::kKindModel);
  PutU32(&out, n_sections);
  PutU64(&out, file_size);
  PutU64(&out, pkg::kHeaderSize);
  out.resize(pkg::kHeaderSize, 0);
  for (const Sec& s : secs) {
    PutU32(&out, s.id);
    PutU32(&out, s.flags);
    PutU64(&out, s.off);
    PutU64(&out, s.size);
    PutBytes(&out, s.sha.data(), 32);
  }
  out.resize(meta_off, 0);
  PutBytes(&out, meta.data(), meta.size());
  out.resize(tok_off, 0);
  PutBytes(&out, tok.data(), tok.size());
  out.resize(table_off, 0);
  PutBytes(&out, table.data(), table.size());
  for (size_t i = 0; i < extra.size(); ++i) {
    out.resize(extra_off[i], 0);
    PutBytes(&out, extra[i].bytes.data(), extra[i].bytes.size());
  }
  for (size_t i = 0; i < b.tensors.size(); ++i) {
    out.resize(offsets[i], 0);
    auto bytes = b.tensors[i].bytes();
    PutBytes(&out, bytes.data(), bytes.size());
  }
  SLM_CHECK(out.size() == file_size);
  return out;
}

Status WritePackage(const ModelBundle& b, const std::string& path,
                    std::span<const PackageExtraSection> extra) {
  SLM_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, SerializePackage(b, extra));
  return WriteFileAtomic(path, bytes);
}

}  // namespace slm

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

StatusOr<std::vector<uint8_t>> SerializePackage(const ModelBundle& b) {
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

  // Section placement: header | directory | metadata | tokenizer | table | data.
  constexpr uint32_t kSections = 4;
  const uint64_t dir_end = pkg::kHeaderSize + kSections * pkg::kDirEntrySize;
  const uint64_t meta_off = AlignUp(dir_end, pkg::kSectionAlignment);
  const uint64_t tok_off = AlignUp(meta_off + meta.size(), pkg::kSectionAlignment);
  const uint64_t table_off = AlignUp(tok_off + tok.size(), pkg::kSectionAlignment);
  uint64_t table_size = 8;
  for (const TensorData& t : b.tensors) {
    table_size += 4 + t.name.size() + 4 + 4 + 8 * t.shape.size() + 8 + 8 + 32;
  }
  const uint64_t data_off = AlignUp(table_off + table_size, pkg::kTensorAlignment);

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
    uint32_t id;
    uint64_t off, size;
    Digest sha;
  } secs[kSections] = {
      {pkg::kSectionMetadata, meta_off, meta.size(), Sha256Of(meta)},
      {pkg::kSectionTokenizer, tok_off, tok.size(), Sha256Of(tok)},
      {pkg::kSectionTensorTable, table_off, table.size(), Sha256Of(table)},
      {pkg::kSectionTensorData, data_off, file_size - data_off, Digest{}},
  };

  std::vector<uint8_t> out;
  out.reserve(file_size);
  PutBytes(&out, pkg::kMagic, 8);
  PutU32(&out, pkg::kVersion);
  PutU32(&out, 0);  // required feature flags
  PutU32(&out, pkg::kKindModel);
  PutU32(&out, kSections);
  PutU64(&out, file_size);
  PutU64(&out, pkg::kHeaderSize);
  out.resize(pkg::kHeaderSize, 0);
  for (const Sec& s : secs) {
    PutU32(&out, s.id);
    PutU32(&out, pkg::kSectionFlagRequired);
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
  for (size_t i = 0; i < b.tensors.size(); ++i) {
    out.resize(offsets[i], 0);
    auto bytes = b.tensors[i].bytes();
    PutBytes(&out, bytes.data(), bytes.size());
  }
  SLM_CHECK(out.size() == file_size);
  return out;
}

Status WritePackage(const ModelBundle& b, const std::string& path) {
  SLM_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, SerializePackage(b));
  return WriteFileAtomic(path, bytes);
}

}  // namespace slm

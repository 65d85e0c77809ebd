// Adapter package writer and reader (layout: adapter_package.h, docs/format.md
// section 8). The reader checks, in order: header, directory (bounds,
// alignment, overlap, zero padding, required sections), file size, section
// digests, adapter info, delta table (every blob inside the blob section,
// aligned, sized for its kind and shape), blob layout (no overlap, zero
// padding, the section ends with the last blob), blob digests, then decodes
// and runs CheckAdapterStructure.
#include "adapter/adapter_package.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "base/byte_reader.h"
#include "base/file.h"
#include "package/container.h"
#include "package/format.h"
#include "package/sections.h"

namespace slm {
namespace {

using pkg::PutBytes;
using pkg::PutString32;
using pkg::PutU32;
using pkg::PutU64;

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

std::span<const uint8_t> FloatBytes(const std::vector<float>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4};
}

void PutLeb128(std::vector<uint8_t>* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}

// One delta's stored blobs, in table order.
struct Encoded {
  const TensorDelta* d;
  std::vector<uint8_t> index_bytes;  // sparse: the LEB128 gap stream
  std::vector<std::span<const uint8_t>> blobs;
  std::vector<Digest> digests;
  std::vector<uint64_t> offsets;
};

std::vector<Encoded> EncodeDeltas(const Adapter& a) {
  std::vector<const TensorDelta*> order;
  for (const TensorDelta& d : a.deltas) order.push_back(&d);
  std::sort(order.begin(), order.end(),
            [](const TensorDelta* x, const TensorDelta* y) { return x->target < y->target; });
  std::vector<Encoded> out(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    Encoded& e = out[i];
    e.d = order[i];
    switch (e.d->kind) {
      case DeltaKind::kRaw:
        e.blobs.push_back(e.d->raw.bytes());
        break;
      case DeltaKind::kSparse: {
        uint64_t prev = 0;
        for (size_t k = 0; k < e.d->indices.size(); ++k) {
          PutLeb128(&e.index_bytes, k == 0 ? e.d->indices[k] : e.d->indices[k] - prev);
          prev = e.d->indices[k];
        }
        break;
      }
      case DeltaKind::kLowRank:
        e.blobs.push_back(FloatBytes(e.d->a));
        e.blobs.push_back(FloatBytes(e.d->b));
        break;
    }
  }
  // Spans into index_bytes only after `out` stops moving.
  for (Encoded& e : out) {
    if (e.d->kind == DeltaKind::kSparse) {
      e.blobs.push_back(e.index_bytes);
      e.blobs.push_back(FloatBytes(e.d->values));
    }
    for (auto b : e.blobs) e.digests.push_back(Sha256Of(b));
  }
  return out;
}

std::vector<uint8_t> EncodeInfo(const Adapter& a) {
  std::vector<uint8_t> out;
  PutString32(&out, a.name);
  PutBytes(&out, a.base_compat.data(), 32);
  PutBytes(&out, a.base_tokenizer.data(), 32);
  PutU32(&out, static_cast<uint32_t>(a.lineage.parents.size()));
  for (const std::string& p : a.lineage.parents) PutString32(&out, p);
  PutString32(&out, a.lineage.method);
  PutString32(&out, a.lineage.notes);
  return out;
}

// The delta table; with zero_offsets, every blob offset is written as 0 (the
// form the content digest hashes).
std::vector<uint8_t> EncodeTable(const std::vector<Encoded>& enc, bool zero_offsets) {
  std::vector<uint8_t> out;
  PutU32(&out, static_cast<uint32_t>(enc.size()));
  PutU32(&out, 0);
  for (const Encoded& e : enc) {
    const TensorDelta& d = *e.d;
    PutString32(&out, d.target);
    PutU32(&out, static_cast<uint32_t>(d.kind));
    PutBytes(&out, &d.scale, 4);
    PutU32(&out, static_cast<uint32_t>(d.shape.size()));
    for (int64_t x : d.shape) PutU64(&out, static_cast<uint64_t>(x));
    switch (d.kind) {
      case DeltaKind::kRaw:
        PutU32(&out, static_cast<uint32_t>(d.raw.dtype));
        break;
      case DeltaKind::kSparse:
        PutU64(&out, d.indices.size());
        PutU32(&out, adapter_pkg::kSparseLeb128Gaps);
        break;
      case DeltaKind::kLowRank:
        PutU32(&out, static_cast<uint32_t>(d.rank));
        break;
    }
    for (size_t k = 0; k < e.blobs.size(); ++k) {
      PutU64(&out, zero_offsets ? 0 : e.offsets[k]);
      PutU64(&out, e.blobs[k].size());
      PutBytes(&out, e.digests[k].data(), 32);
    }
  }
  return out;
}

struct UnknownSection {
  uint32_t id;
  uint64_t size;
  Digest sha;
};

Digest ContentDigest(uint32_t flags, const Digest& info, const Digest& canonical_table,
                     const std::vector<UnknownSection>& others) {
  std::vector<uint8_t> b;
  PutBytes(&b, adapter_pkg::kDigestDomain, sizeof(adapter_pkg::kDigestDomain) - 1);
  PutU32(&b, pkg::kVersion);
  PutU32(&b, pkg::kKindAdapter);
  PutU32(&b, flags);
  PutBytes(&b, info.data(), 32);
  PutBytes(&b, canonical_table.data(), 32);
  for (const UnknownSection& s : others) {
    PutU32(&b, s.id);
    PutU64(&b, s.size);
    PutBytes(&b, s.sha.data(), 32);
  }
  return Sha256Of(b);
}

}  // namespace

StatusOr<Digest> AdapterContentDigest(const Adapter& a) {
  SLM_RETURN_IF_ERROR(CheckAdapterStructure(a));
  std::vector<Encoded> enc = EncodeDeltas(a);
  return ContentDigest(0, Sha256Of(EncodeInfo(a)), Sha256Of(EncodeTable(enc, true)), {});
}

StatusOr<std::vector<uint8_t>> SerializeAdapter(const Adapter& a) {
  SLM_RETURN_IF_ERROR(CheckAdapterStructure(a));
  if (a.name.size() > pkg::kMaxNameLen || a.lineage.method.size() > pkg::kMaxNameLen ||
      a.lineage.notes.size() > adapter_pkg::kMaxNotes ||
      a.lineage.parents.size() > adapter_pkg::kMaxParents) {
    return InvalidArgument("adapter '" + a.name +
                           "': name/method above 1024 bytes, notes above 64 KiB or more than "
                           "1024 parents");
  }
  for (const std::string& p : a.lineage.parents) {
    if (p.size() > pkg::kMaxNameLen)
      return InvalidArgument("adapter lineage parent above 1024 bytes");
  }
  std::vector<Encoded> enc = EncodeDeltas(a);
  std::vector<uint8_t> info = EncodeInfo(a);
  // Placement: header | directory (3 entries) | info | table | blobs.
  const uint64_t dir_end = pkg::kHeaderSize + 3 * pkg::kDirEntrySize;
  const uint64_t info_off = AlignUp(dir_end, pkg::kSectionAlignment);
  const uint64_t table_off = AlignUp(info_off + info.size(), pkg::kSectionAlignment);
  const uint64_t table_size = EncodeTable(enc, true).size();
  const uint64_t data_off = AlignUp(table_off + table_size, pkg::kTensorAlignment);
  uint64_t cursor = data_off;
  for (Encoded& e : enc) {
    for (auto b : e.blobs) {
      cursor = AlignUp(cursor, pkg::kTensorAlignment);
      e.offsets.push_back(cursor);
      cursor += b.size();
    }
  }
  const uint64_t file_size = cursor;
  std::vector<uint8_t> table = EncodeTable(enc, false);
  SLM_CHECK(table.size() == table_size);

  struct Sec {
    uint32_t id;
    uint64_t off, size;
    Digest sha;
  };
  const Sec secs[3] = {
      {adapter_pkg::kSectionBlobs, data_off, file_size - data_off, Digest{}},
      {adapter_pkg::kSectionInfo, info_off, info.size(), Sha256Of(info)},
      {adapter_pkg::kSectionDeltaTable, table_off, table.size(), Sha256Of(table)},
  };
  std::vector<uint8_t> out;
  out.reserve(file_size);
  PutBytes(&out, pkg::kMagic, 8);
  PutU32(&out, pkg::kVersion);
  PutU32(&out, 0);
  PutU32(&out, pkg::kKindAdapter);
  PutU32(&out, 3);
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
  out.resize(info_off, 0);
  PutBytes(&out, info.data(), info.size());
  out.resize(table_off, 0);
  PutBytes(&out, table.data(), table.size());
  for (const Encoded& e : enc) {
    for (size_t k = 0; k < e.blobs.size(); ++k) {
      out.resize(e.offsets[k], 0);
      PutBytes(&out, e.blobs[k].data(), e.blobs[k].size());
    }
  }
  out.resize(file_size, 0);
  return out;
}

Status WriteAdapter(const Adapter& a, const std::string& path) {
  SLM_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, SerializeAdapter(a));
  return WriteFileAtomic(path, bytes);
}

bool IsAdapterPackage(std::span<const uint8_t> b) {
  if (b.size() < 20 || std::memcmp(b.data(), pkg::kMagic, 8) != 0) return false;
  uint32_t kind = 0;
  std::memcpy(&kind, b.data() + 16, 4);
  return kind == pkg::kKindAdapter;
}

namespace {

const char* SectionName(uint32_t id) {
  switch (id) {
    case adapter_pkg::kSectionBlobs:
      return "blob data section";
    case adapter_pkg::kSectionInfo:
      return "adapter info section";
    case adapter_pkg::kSectionDeltaTable:
      return "delta table section";
    default:
      return "unknown section";
  }
}

using Section = PackageSection;  // the shared container's entry (package/container.h)

struct BlobRef {
  uint64_t offset = 0, size = 0;
  Digest sha{};
  std::string what;
};

class AdapterParser {
 public:
  AdapterParser(std::span<const uint8_t> bytes, const std::string& name)
      : bytes_(bytes), name_(name) {}

  StatusOr<AdapterFile> Parse() {
    SLM_RETURN_IF_ERROR(ParseHeader());
    SLM_RETURN_IF_ERROR(ParseDirectory());
    for (const Section& s : sections_) {
      if (s.id == adapter_pkg::kSectionBlobs) continue;
      Digest d = Sha256Of(bytes_.subspan(s.offset, s.size));
      if (d != s.sha256) {
        return IntegrityError(name_ + ": " + SectionName(s.id) + " (id " + std::to_string(s.id) +
                              ") at offset " + std::to_string(s.offset) + ": SHA-256 " +
                              DigestHex(d) + " does not match the directory's " +
                              DigestHex(s.sha256));
      }
    }
    SLM_RETURN_IF_ERROR(ParseInfo());
    SLM_RETURN_IF_ERROR(ParseTable());
    SLM_RETURN_IF_ERROR(CheckBlobs());
    Status s = CheckAdapterStructure(f_.adapter);
    if (!s.ok()) return s.WithContext(name_);
    // Content digest: recompute the canonical table from what was read.
    std::vector<UnknownSection> others;
    for (const Section& x : sections_) {
      if (!x.known) others.push_back({x.id, x.size, x.sha256});
    }
    std::vector<Encoded> enc = EncodeDeltas(f_.adapter);
    f_.digest = ContentDigest(flags_, Find(adapter_pkg::kSectionInfo)->sha256,
                              Sha256Of(EncodeTable(enc, true)), others);
    f_.bytes = bytes_.size();
    return std::move(f_);
  }

 private:
  Status ParseHeader() {
    ByteReader r(bytes_, name_ + ": header");
    std::span<const uint8_t> magic, reserved;
    SLM_RETURN_IF_ERROR(r.ReadSpan(8, &magic, "magic"));
    if (std::memcmp(magic.data(), pkg::kMagic, 8) != 0)
      return r.ErrorAt(0, "bad magic, expected \"SLMPKG\\0\\x1a\" (not an .slm package)");
    uint32_t version = 0, kind = 0;
    uint64_t dir_off = 0;
    SLM_RETURN_IF_ERROR(r.ReadU32(&version, "version"));
    SLM_RETURN_IF_ERROR(r.ReadU32(&flags_, "flags"));
    SLM_RETURN_IF_ERROR(r.ReadU32(&kind, "kind"));
    SLM_RETURN_IF_ERROR(r.ReadU32(&count_, "section count"));
    SLM_RETURN_IF_ERROR(r.ReadU64(&file_size_, "file size"));
    SLM_RETURN_IF_ERROR(r.ReadU64(&dir_off, "directory offset"));
    SLM_RETURN_IF_ERROR(r.ReadSpan(24, &reserved, "reserved"));
    if (version != pkg::kVersion) {
      return Unsupported(name_ + ": header at offset 8: package version " +
                         std::to_string(version) + ", this reader supports version 1");
    }
    if (flags_ != 0) {
      return Unsupported(name_ + ": header at offset 12: required feature flags " +
                         std::to_string(flags_) + " are unknown to this reader");
    }
    if (kind != pkg::kKindAdapter) {
      return r.ErrorAt(16, "kind " + std::to_string(kind) + ", expected 1 (adapter)" +
                               (kind == pkg::kKindModel ? ": this is a model package" : ""));
    }
    if (count_ == 0 || count_ > pkg::kMaxSections)
      return r.ErrorAt(20, "section count " + std::to_string(count_) + ", expected 1..1024");
    if (dir_off != pkg::kHeaderSize)
      return r.ErrorAt(32, "directory offset " + std::to_string(dir_off) + ", expected 64");
    for (size_t k = 0; k < 24; ++k) {
      if (reserved[k] != 0) return r.ErrorAt(40 + k, "reserved header byte is not zero");
    }
    return Status::Ok();
  }

  Status ParseDirectory() {
    static const pkg::DirectoryRules kRules{
        [](uint32_t id) { return std::string(SectionName(id)); },
        [](uint32_t id) {
          return id == adapter_pkg::kSectionBlobs || id == adapter_pkg::kSectionInfo ||
                 id == adapter_pkg::kSectionDeltaTable;
        },
        adapter_pkg::kSectionBlobs, "blobs carry their own"};
    uint64_t sections_end = 0;
    SLM_RETURN_IF_ERROR(pkg::ParseSectionDirectory(bytes_, name_, pkg::kHeaderSize, count_, kRules,
                                                   &sections_, &sections_end));
    SLM_RETURN_IF_ERROR(pkg::CheckFileExtent(name_, file_size_, sections_end, bytes_.size()));
    for (uint32_t id :
         {adapter_pkg::kSectionBlobs, adapter_pkg::kSectionInfo, adapter_pkg::kSectionDeltaTable}) {
      if (!Find(id)) {
        return FormatError(name_ + ": section directory: required " + std::string(SectionName(id)) +
                           " (id " + std::to_string(id) + ") is missing");
      }
    }
    return Status::Ok();
  }

  const Section* Find(uint32_t id) const {
    for (const Section& s : sections_) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }

  ByteReader SectionReader(uint32_t id) {
    const Section* s = Find(id);
    ByteReader r(bytes_.first(s->offset + s->size), name_ + ": " + SectionName(id));
    (void)r.Seek(s->offset, "section");  // in bounds: checked by ParseDirectory
    return r;
  }

  static Status ReadStr(ByteReader& r, uint32_t max, std::string* out, const std::string& what) {
    uint32_t n = 0;
    const size_t at = r.offset();
    SLM_RETURN_IF_ERROR(r.ReadU32(&n, what + " length"));
    if (n > max) {
      return r.ErrorAt(
          at, what + " length " + std::to_string(n) + ", expected at most " + std::to_string(max));
    }
    return r.ReadString(n, out, what);
  }

  Status ParseInfo() {
    ByteReader r = SectionReader(adapter_pkg::kSectionInfo);
    Adapter& a = f_.adapter;
    SLM_RETURN_IF_ERROR(ReadStr(r, pkg::kMaxNameLen, &a.name, "name"));
    std::span<const uint8_t> d;
    SLM_RETURN_IF_ERROR(r.ReadSpan(32, &d, "base compatibility digest"));
    std::memcpy(a.base_compat.data(), d.data(), 32);
    SLM_RETURN_IF_ERROR(r.ReadSpan(32, &d, "base tokenizer digest"));
    std::memcpy(a.base_tokenizer.data(), d.data(), 32);
    uint32_t n = 0;
    SLM_RETURN_IF_ERROR(r.ReadU32(&n, "parent count"));
    if (n > adapter_pkg::kMaxParents || n > r.remaining() / 4) {
      return r.ErrorAt(r.offset() - 4, "parent count " + std::to_string(n) +
                                           " cannot fit in the remaining " +
                                           std::to_string(r.remaining()) + " bytes");
    }
    a.lineage.parents.resize(n);
    for (uint32_t i = 0; i < n; ++i)
      SLM_RETURN_IF_ERROR(ReadStr(r, pkg::kMaxNameLen, &a.lineage.parents[i], "parent"));
    SLM_RETURN_IF_ERROR(ReadStr(r, pkg::kMaxNameLen, &a.lineage.method, "method"));
    SLM_RETURN_IF_ERROR(ReadStr(r, adapter_pkg::kMaxNotes, &a.lineage.notes, "notes"));
    if (r.remaining() != 0)
      return r.Error(std::to_string(r.remaining()) + " unexpected bytes after the notes");
    return Status::Ok();
  }

  Status ReadBlob(ByteReader& r, const std::string& what, uint64_t expect_size, bool size_is_max,
                  BlobRef* b) {
    const size_t at = r.offset();
    std::span<const uint8_t> sha;
    SLM_RETURN_IF_ERROR(r.ReadU64(&b->offset, what + " offset"));
    SLM_RETURN_IF_ERROR(r.ReadU64(&b->size, what + " size"));
    SLM_RETURN_IF_ERROR(r.ReadSpan(32, &sha, what + " sha256"));
    std::memcpy(b->sha.data(), sha.data(), 32);
    b->what = what;
    if (size_is_max ? b->size > expect_size : b->size != expect_size) {
      return r.ErrorAt(at + 8, what + ": " + std::to_string(b->size) + " bytes, expected " +
                                   (size_is_max ? "at most " : "") + std::to_string(expect_size));
    }
    const Section& data = *Find(adapter_pkg::kSectionBlobs);
    uint64_t end = 0;
    if (b->offset % pkg::kTensorAlignment != 0) {
      return r.ErrorAt(at,
                       what + ": offset " + std::to_string(b->offset) + " is not a multiple of 64");
    }
    if (b->offset < data.offset || !CheckedAdd(b->offset, b->size, &end) ||
        end > data.offset + data.size) {
      return r.ErrorAt(at, what + ": bytes [" + std::to_string(b->offset) + ", +" +
                               std::to_string(b->size) + ") lie outside the blob data section [" +
                               std::to_string(data.offset) + ", " +
                               std::to_string(data.offset + data.size) + ")");
    }
    blobs_.push_back(*b);
    return Status::Ok();
  }

  Status ParseTable() {
    ByteReader r = SectionReader(adapter_pkg::kSectionDeltaTable);
    uint32_t count = 0, reserved = 0;
    SLM_RETURN_IF_ERROR(r.ReadU32(&count, "delta count"));
    SLM_RETURN_IF_ERROR(r.ReadU32(&reserved, "reserved"));
    if (reserved != 0) return r.ErrorAt(r.offset() - 4, "reserved field is not zero");
    // An entry takes at least 4+1+4+4+4+8+4+48 = 77 bytes.
    if (count > r.remaining() / 77) {
      return r.ErrorAt(r.offset() - 8, "delta count " + std::to_string(count) +
                                           " cannot fit in the remaining " +
                                           std::to_string(r.remaining()) + " bytes");
    }
    Adapter& a = f_.adapter;
    a.deltas.resize(count);
    for (uint32_t i = 0; i < count; ++i) {
      TensorDelta& d = a.deltas[i];
      const size_t at = r.offset();
      uint32_t name_len = 0, kind = 0, n_dims = 0;
      SLM_RETURN_IF_ERROR(r.ReadU32(&name_len, "target length"));
      if (name_len == 0 || name_len > pkg::kMaxNameLen) {
        return r.ErrorAt(at, "delta #" + std::to_string(i) + ": target length " +
                                 std::to_string(name_len) + ", expected 1..1024");
      }
      SLM_RETURN_IF_ERROR(r.ReadString(name_len, &d.target, "target"));
      const std::string what = "delta '" + d.target + "'";
      if (i > 0 && !(a.deltas[i - 1].target < d.target)) {
        return r.ErrorAt(at, what + ": targets must be unique and sorted (after '" +
                                 a.deltas[i - 1].target + "')");
      }
      const size_t kind_at = r.offset();
      SLM_RETURN_IF_ERROR(r.ReadU32(&kind, what + " kind"));
      if (kind > static_cast<uint32_t>(DeltaKind::kLowRank)) {
        return r.ErrorAt(kind_at, what + ": kind " + std::to_string(kind) +
                                      ", expected 0 (raw), 1 (sparse) or 2 (lowrank)");
      }
      d.kind = static_cast<DeltaKind>(kind);
      SLM_RETURN_IF_ERROR(r.ReadF32(&d.scale, what + " scale"));
      SLM_RETURN_IF_ERROR(r.ReadU32(&n_dims, what + " n_dims"));
      if (n_dims == 0 || n_dims > pkg::kMaxDims)
        return r.ErrorAt(r.offset() - 4,
                         what + ": n_dims " + std::to_string(n_dims) + ", expected 1..4");
      d.shape.resize(n_dims);
      for (uint32_t k = 0; k < n_dims; ++k) {
        uint64_t v = 0;
        SLM_RETURN_IF_ERROR(r.ReadU64(&v, what + " dim"));
        if (v == 0 || v > pkg::kMaxDim)
          return r.ErrorAt(r.offset() - 8,
                           what + ": dimension " + std::to_string(v) + " is outside 1..2^40");
        d.shape[k] = static_cast<int64_t>(v);
      }
      uint64_t n = 0;
      if (!ShapeElements(d.shape, &n))
        return r.ErrorAt(kind_at, what + ": shape " + ShapeString(d.shape) + " overflows");
      Status s = ParseKind(r, &d, n, what);
      if (!s.ok()) return s;
    }
    if (r.remaining() != 0)
      return r.Error(std::to_string(r.remaining()) + " unexpected bytes after the last entry");
    return Status::Ok();
  }

  Status ParseKind(ByteReader& r, TensorDelta* d, uint64_t n, const std::string& what) {
    const size_t at = r.offset();
    switch (d->kind) {
      case DeltaKind::kRaw: {
        uint32_t dtype = 0;
        DTypeInfo info;
        SLM_RETURN_IF_ERROR(r.ReadU32(&dtype, what + " dtype"));
        uint64_t bytes = 0;
        if (!GetDTypeInfo(dtype, &info))
          return Unsupported(r.source() + ": offset " + std::to_string(at) + ": " + what +
                             ": unknown dtype " + std::to_string(dtype));
        d->raw.dtype = static_cast<DType>(dtype);
        if (d->shape.back() % info.block_size != 0 || !DTypeBytes(d->raw.dtype, n, &bytes)) {
          return r.ErrorAt(at, what + ": shape " + ShapeString(d->shape) + " rows are not whole " +
                                   info.name + " blocks");
        }
        BlobRef b;
        SLM_RETURN_IF_ERROR(ReadBlob(r, what + " data", bytes, false, &b));
        d->raw.shape = d->shape;
        d->raw.name = d->target;
        auto src = bytes_.subspan(b.offset, b.size);
        d->raw.owned.assign(src.begin(), src.end());
        return Status::Ok();
      }
      case DeltaKind::kSparse: {
        uint64_t nnz = 0;
        uint32_t enc = 0;
        SLM_RETURN_IF_ERROR(r.ReadU64(&nnz, what + " nnz"));
        SLM_RETURN_IF_ERROR(r.ReadU32(&enc, what + " index encoding"));
        if (nnz > n)
          return r.ErrorAt(at, what + ": nnz " + std::to_string(nnz) + " exceeds the " +
                                   std::to_string(n) + " elements of " + ShapeString(d->shape));
        if (nnz > bytes_.size())
          return r.ErrorAt(at, what + ": nnz " + std::to_string(nnz) + " exceeds the file size");
        if (enc != adapter_pkg::kSparseLeb128Gaps)
          return r.ErrorAt(at + 8, what + ": index encoding " + std::to_string(enc) +
                                       ", expected 1 (LEB128 gaps)");
        BlobRef ib, vb;
        SLM_RETURN_IF_ERROR(ReadBlob(r, what + " indices", nnz * 10, true, &ib));
        SLM_RETURN_IF_ERROR(ReadBlob(r, what + " values", nnz * 4, false, &vb));
        if (ib.size < nnz)
          return r.ErrorAt(at, what + ": " + std::to_string(nnz) + " indices need at least " +
                                   std::to_string(nnz) + " bytes, the blob has " +
                                   std::to_string(ib.size));
        SLM_RETURN_IF_ERROR(DecodeIndices(bytes_.subspan(ib.offset, ib.size), nnz, n, ib.offset,
                                          what, &d->indices));
        d->values.resize(nnz);
        if (nnz) std::memcpy(d->values.data(), bytes_.data() + vb.offset, nnz * 4);
        return Status::Ok();
      }
      case DeltaKind::kLowRank: {
        uint32_t rank = 0;
        SLM_RETURN_IF_ERROR(r.ReadU32(&rank, what + " rank"));
        if (d->shape.size() != 2)
          return r.ErrorAt(
              at, what + ": low-rank needs a 2-D target, shape is " + ShapeString(d->shape));
        if (rank == 0 || rank > adapter_pkg::kMaxRank)
          return r.ErrorAt(at, what + ": rank " + std::to_string(rank) + ", expected 1..65536");
        d->rank = static_cast<int32_t>(rank);
        const uint64_t out = static_cast<uint64_t>(d->shape[0]),
                       in = static_cast<uint64_t>(d->shape[1]);
        uint64_t a_n = 0, b_n = 0, a_bytes = 0, b_bytes = 0;
        if (!CheckedMul(rank, in, &a_n) || !CheckedMul(a_n, 4, &a_bytes) ||
            !CheckedMul(rank, out, &b_n) || !CheckedMul(b_n, 4, &b_bytes))
          return r.ErrorAt(at, what + ": rank " + std::to_string(rank) + " overflows");
        BlobRef ab, bb;
        SLM_RETURN_IF_ERROR(ReadBlob(r, what + " A", a_bytes, false, &ab));
        SLM_RETURN_IF_ERROR(ReadBlob(r, what + " B", b_bytes, false, &bb));
        d->a.resize(a_n);
        d->b.resize(b_n);
        if (a_n) std::memcpy(d->a.data(), bytes_.data() + ab.offset, a_bytes);
        if (b_n) std::memcpy(d->b.data(), bytes_.data() + bb.offset, b_bytes);
        return Status::Ok();
      }
    }
    return Internal("unreachable");
  }

  Status DecodeIndices(std::span<const uint8_t> s, uint64_t nnz, uint64_t n, uint64_t base,
                       const std::string& what, std::vector<uint64_t>* out) {
    out->resize(nnz);
    size_t pos = 0;
    uint64_t prev = 0;
    for (uint64_t k = 0; k < nnz; ++k) {
      uint64_t v = 0;
      int shift = 0;
      const size_t start = pos;
      while (true) {
        if (pos >= s.size())
          return FormatError(name_ + ": " + what + " indices at offset " +
                             std::to_string(base + start) + ": varint #" + std::to_string(k) +
                             " runs past the blob");
        const uint8_t byte = s[pos++];
        if (shift == 63 && byte > 1)
          return FormatError(name_ + ": " + what + " indices at offset " +
                             std::to_string(base + start) + ": varint #" + std::to_string(k) +
                             " overflows 64 bits");
        v |= uint64_t{byte & 0x7fu} << shift;
        if ((byte & 0x80) == 0) {
          if (byte == 0 && pos - start > 1)
            return FormatError(name_ + ": " + what + " indices at offset " +
                               std::to_string(base + start) + ": varint #" + std::to_string(k) +
                               " is not minimally encoded");
          break;
        }
        shift += 7;
      }
      uint64_t idx = v;
      if (k > 0) {
        if (v == 0 || !CheckedAdd(prev, v, &idx))
          return FormatError(name_ + ": " + what + " indices at offset " +
                             std::to_string(base + start) + ": gap #" + std::to_string(k) + " is " +
                             std::to_string(v) + " (indices must be ascending and unique)");
      }
      if (idx >= n)
        return FormatError(name_ + ": " + what + " indices at offset " +
                           std::to_string(base + start) + ": index #" + std::to_string(k) + " = " +
                           std::to_string(idx) + " is outside the " + std::to_string(n) +
                           " elements");
      (*out)[k] = idx;
      prev = idx;
    }
    if (pos != s.size())
      return FormatError(name_ + ": " + what + " indices: " + std::to_string(s.size() - pos) +
                         " unexpected bytes after the last varint");
    return Status::Ok();
  }

  Status CheckBlobs() {
    const Section& data = *Find(adapter_pkg::kSectionBlobs);
    std::vector<const BlobRef*> order;
    for (const BlobRef& b : blobs_) order.push_back(&b);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) {
      return a->offset != b->offset ? a->offset < b->offset : a->size < b->size;
    });
    uint64_t prev_end = data.offset;
    for (const BlobRef* b : order) {
      if (b->offset < prev_end && b->size > 0) {
        return FormatError(name_ + ": blob data section: " + b->what + " at offset " +
                           std::to_string(b->offset) + " overlaps the previous blob (ends at " +
                           std::to_string(prev_end) + ")");
      }
      for (uint64_t k = prev_end; k < b->offset; ++k) {
        if (bytes_[k] != 0) {
          return FormatError(name_ + ": blob data section: padding byte at offset " +
                             std::to_string(k) + " before " + b->what + " is not zero");
        }
      }
      prev_end = std::max(prev_end, b->offset + b->size);
    }
    if (prev_end != data.offset + data.size) {
      return FormatError(name_ + ": blob data section: ends at " +
                         std::to_string(data.offset + data.size) + " but the last blob ends at " +
                         std::to_string(prev_end));
    }
    for (const BlobRef& b : blobs_) {
      Digest d = Sha256Of(bytes_.subspan(b.offset, b.size));
      if (d != b.sha) {
        return IntegrityError(name_ + ": " + b.what + " at offset " + std::to_string(b.offset) +
                              ": SHA-256 " + DigestHex(d) + " does not match the delta table's " +
                              DigestHex(b.sha));
      }
    }
    return Status::Ok();
  }

  std::span<const uint8_t> bytes_;
  std::string name_;
  uint32_t flags_ = 0, count_ = 0;
  uint64_t file_size_ = 0;
  std::vector<Section> sections_;
  std::vector<BlobRef> blobs_;
  AdapterFile f_;
};

}  // namespace

StatusOr<AdapterFile> ParseAdapterPackage(std::span<const uint8_t> bytes, const std::string& name) {
  AdapterParser p(bytes, name);
  return p.Parse();
}

StatusOr<AdapterFile> ReadAdapterPackage(const std::string& path) {
  SLM_ASSIGN_OR_RETURN(auto f, MappedFile::Open(path));
  return ParseAdapterPackage(f->bytes(), path);
}

}  // namespace slm

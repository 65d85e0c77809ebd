// .slm reader: validates the whole file against its size before anything is
// used. Order of checks (each error names the section and the offset):
//   1. header fields          2. section directory (bounds, overlap, alignment)
//   3. header file size       4. metadata -> ModelConfig::Validate
//   5. tokenizer              6. tensor table (dtype, dims, sizes, offsets,
//                                overlap, zero padding) -> CheckModelTensors
//   7. section digests        8. tensor digests (if verify_digests)
#include <algorithm>
#include <cstring>

#include "package/container.h"
#include "package/format.h"
#include "package/model_tensors.h"
#include "package/package.h"
#include "package/sections.h"

namespace slm {

const char* PackageSectionName(uint32_t id) {
  switch (id) {
    case pkg::kSectionMetadata:
      return "metadata";
    case pkg::kSectionTokenizer:
      return "tokenizer";
    case pkg::kSectionTensorTable:
      return "tensor table";
    case pkg::kSectionTensorData:
      return "tensor data";
    default:
      return "unknown";
  }
}

namespace {
std::string SectionLabel(uint32_t id) { return std::string(PackageSectionName(id)) + " section"; }
}  // namespace

class PackageParser {
 public:
  PackageParser(Package* p, PackageOpenOptions o, std::span<const RangeDigest> known = {})
      : p_(p), opts_(o), known_(known) {}

  Status Parse() {
    bytes_ = p_->file_->bytes();
    name_ = p_->file_->path();
    SLM_RETURN_IF_ERROR(ParseHeader());
    SLM_RETURN_IF_ERROR(ParseDirectory());
    SLM_RETURN_IF_ERROR(
        pkg::CheckFileExtent(name_, file_size_field_, sections_end_, bytes_.size()));
    SLM_RETURN_IF_ERROR(ParseMetadata());
    SLM_RETURN_IF_ERROR(ParseTokenizer());
    SLM_RETURN_IF_ERROR(ParseTensorTable());
    SLM_RETURN_IF_ERROR(VerifySections());
    if (opts_.verify_digests) SLM_RETURN_IF_ERROR(VerifyTensors(*p_, known_));
    ComputeDigest();
    return Status::Ok();
  }

  // Step 1 alone (CheckPackageHeader).
  static Status CheckHeader(std::span<const uint8_t> head, const std::string& name) {
    Package p;
    p.file_ = MappedFile::FromMemory(head, name);
    PackageParser parser(&p, {});
    parser.bytes_ = head;
    parser.name_ = name;
    return parser.ParseHeader();
  }

  // SHA-256 of `bytes` (a subspan of p's bytes), or its known digest.
  static Digest DigestOf(const Package& p, std::span<const uint8_t> bytes,
                         std::span<const RangeDigest> known) {
    const uint64_t offset = static_cast<uint64_t>(bytes.data() - p.file_->bytes().data());
    auto it = std::lower_bound(known.begin(), known.end(), std::make_pair(offset, bytes.size()),
                               [](const RangeDigest& r, const std::pair<uint64_t, uint64_t>& k) {
                                 return std::make_pair(r.offset, r.size) < k;
                               });
    if (it != known.end() && it->offset == offset && it->size == bytes.size()) return it->sha256;
    return Sha256Of(bytes);
  }

  static Status VerifyTensors(const Package& p, std::span<const RangeDigest> known = {}) {
    for (size_t i = 0; i < p.tensors_.size(); ++i) {
      Digest d = DigestOf(p, p.tensors_[i].bytes(), known);
      if (d != p.tensor_digests_[i]) {
        return IntegrityError(p.name() + ": tensor '" + p.tensors_[i].name + "' at offset " +
                              std::to_string(p.tensor_offsets_[i]) + ": SHA-256 " + DigestHex(d) +
                              " does not match the tensor table's " +
                              DigestHex(p.tensor_digests_[i]));
      }
    }
    return Status::Ok();
  }

  static Status VerifySectionDigests(const Package& p, std::span<const RangeDigest> known = {}) {
    auto bytes = p.file_->bytes();
    for (const PackageSection& s : p.sections_) {
      if (s.id == pkg::kSectionTensorData) continue;
      Digest d = DigestOf(p, bytes.subspan(s.offset, s.size), known);
      if (d != s.sha256) {
        return IntegrityError(p.name() + ": " + SectionLabel(s.id) + " (id " +
                              std::to_string(s.id) + ") at offset " + std::to_string(s.offset) +
                              ": SHA-256 " + DigestHex(d) + " does not match the directory's " +
                              DigestHex(s.sha256));
      }
    }
    return Status::Ok();
  }

 private:
  Status ParseHeader() {
    ByteReader r(bytes_, name_ + ": header");
    std::span<const uint8_t> magic;
    SLM_RETURN_IF_ERROR(r.ReadSpan(8, &magic, "magic"));
    if (std::memcmp(magic.data(), pkg::kMagic, 8) != 0) {
      std::string found;
      for (uint8_t c : magic) {
        char b[5];
        snprintf(b, sizeof b, "%02x", c);
        found += b;
      }
      return r.ErrorAt(
          0, "bad magic " + found + ", expected \"SLMPKG\\0\\x1a\" (not an .slm package)");
    }
    uint32_t count = 0;
    SLM_RETURN_IF_ERROR(r.ReadU32(&p_->version_, "version"));
    SLM_RETURN_IF_ERROR(r.ReadU32(&p_->flags_, "flags"));
    SLM_RETURN_IF_ERROR(r.ReadU32(&p_->kind_, "kind"));
    SLM_RETURN_IF_ERROR(r.ReadU32(&count, "section count"));
    SLM_RETURN_IF_ERROR(r.ReadU64(&file_size_field_, "file size"));
    SLM_RETURN_IF_ERROR(r.ReadU64(&dir_offset_, "directory offset"));
    std::span<const uint8_t> reserved;
    SLM_RETURN_IF_ERROR(r.ReadSpan(24, &reserved, "reserved"));
    if (p_->version_ != pkg::kVersion) {
      return Unsupported(name_ + ": header at offset 8: package version " +
                         std::to_string(p_->version_) + ", this reader supports version " +
                         std::to_string(pkg::kVersion));
    }
    if (p_->flags_ != 0) {
      return Unsupported(name_ + ": header at offset 12: required feature flags " +
                         pkg::Hex32(p_->flags_) + " are unknown to this reader (v1 knows none)");
    }
    if (p_->kind_ == pkg::kKindAdapter) {
      return Unsupported(name_ +
                         ": header at offset 16: kind 1: an adapter package, not a model (apply "
                         "it with --adapter, read it with slm adapter inspect)");
    }
    if (p_->kind_ != pkg::kKindModel) {
      return r.ErrorAt(16, "kind " + std::to_string(p_->kind_) + ", expected 0 (model)");
    }
    if (count == 0 || count > pkg::kMaxSections) {
      return r.ErrorAt(20, "section count " + std::to_string(count) + ", expected 1.." +
                               std::to_string(pkg::kMaxSections));
    }
    if (dir_offset_ != pkg::kHeaderSize) {
      return r.ErrorAt(32, "directory offset " + std::to_string(dir_offset_) + ", expected 64");
    }
    for (size_t k = 0; k < reserved.size(); ++k) {
      if (reserved[k] != 0) return r.ErrorAt(40 + k, "reserved header byte is not zero");
    }
    section_count_ = count;
    return Status::Ok();
  }

  Status ParseDirectory() {
    static const pkg::DirectoryRules kRules{
        SectionLabel,
        [](uint32_t id) { return id >= pkg::kSectionMetadata && id <= pkg::kSectionTensorData; },
        pkg::kSectionTensorData, "tensors carry their own"};
    SLM_RETURN_IF_ERROR(pkg::ParseSectionDirectory(bytes_, name_, dir_offset_, section_count_,
                                                   kRules, &p_->sections_, &sections_end_));
    for (uint32_t id : {pkg::kSectionMetadata, pkg::kSectionTokenizer, pkg::kSectionTensorTable,
                        pkg::kSectionTensorData}) {
      if (!Find(id)) {
        return FormatError(name_ + ": section directory at offset " + std::to_string(dir_offset_) +
                           ": required " + SectionLabel(id) + " (id " + std::to_string(id) +
                           ") is missing");
      }
    }
    return Status::Ok();
  }

  const PackageSection* Find(uint32_t id) const {
    for (const auto& s : p_->sections_) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }

  // A reader confined to one section, with absolute offsets in its errors.
  Status SectionReader(uint32_t id, ByteReader* r) {
    const PackageSection* s = Find(id);
    *r = ByteReader(bytes_.first(s->offset + s->size), name_ + ": " + SectionLabel(id));
    return r->Seek(s->offset, SectionLabel(id));
  }

  Status ParseMetadata() {
    ByteReader r({}, "");
    SLM_RETURN_IF_ERROR(SectionReader(pkg::kSectionMetadata, &r));
    SLM_RETURN_IF_ERROR(pkg::DecodeMetadata(r, &p_->config_, &p_->provenance_, &p_->metadata_));
    Status s = p_->config_.Validate();
    if (!s.ok())
      return s.WithContext(r.source() + " at offset " +
                           std::to_string(Find(pkg::kSectionMetadata)->offset) + ": ");
    return Status::Ok();
  }

  Status ParseTokenizer() {
    ByteReader r({}, "");
    SLM_RETURN_IF_ERROR(SectionReader(pkg::kSectionTokenizer, &r));
    SLM_RETURN_IF_ERROR(pkg::DecodeTokenizer(r, &p_->tokenizer_));
    return pkg::ValidateTokenizer(
        p_->tokenizer_, p_->config_.vocab_size,
        r.source() + " at offset " + std::to_string(Find(pkg::kSectionTokenizer)->offset) + ": ");
  }

  Status ParseTensorTable() {
    ByteReader r({}, "");
    SLM_RETURN_IF_ERROR(SectionReader(pkg::kSectionTensorTable, &r));
    const PackageSection& data = *Find(pkg::kSectionTensorData);
    const uint64_t data_end = data.offset + data.size;
    uint32_t count = 0, reserved = 0;
    SLM_RETURN_IF_ERROR(r.ReadU32(&count, "tensor count"));
    SLM_RETURN_IF_ERROR(r.ReadU32(&reserved, "reserved"));
    if (reserved != 0) return r.ErrorAt(r.offset() - 4, "reserved field is not zero");
    // An entry takes at least 4+1+4+4+8+8+8+32 = 69 bytes.
    if (count > r.remaining() / 69) {
      return r.ErrorAt(r.offset() - 8, "tensor count " + std::to_string(count) +
                                           " cannot fit in the remaining " +
                                           std::to_string(r.remaining()) + " bytes");
    }
    p_->tensors_.resize(count);
    p_->tensor_digests_.resize(count);
    p_->tensor_offsets_.resize(count);
    std::map<std::string_view, size_t> names;
    for (uint32_t i = 0; i < count; ++i) {
      TensorData& t = p_->tensors_[i];
      size_t at = r.offset();
      uint32_t name_len = 0, dtype = 0, n_dims = 0;
      SLM_RETURN_IF_ERROR(r.ReadU32(&name_len, "tensor name length"));
      if (name_len == 0 || name_len > pkg::kMaxNameLen) {
        return r.ErrorAt(at, "tensor #" + std::to_string(i) + ": name length " +
                                 std::to_string(name_len) + ", expected 1.." +
                                 std::to_string(pkg::kMaxNameLen));
      }
      SLM_RETURN_IF_ERROR(r.ReadString(name_len, &t.name, "tensor name"));
      const std::string what = "tensor '" + t.name + "'";
      size_t dt_at = r.offset();
      SLM_RETURN_IF_ERROR(r.ReadU32(&dtype, what + " dtype"));
      SLM_RETURN_IF_ERROR(r.ReadU32(&n_dims, what + " n_dims"));
      DTypeInfo info;
      if (!GetDTypeInfo(dtype, &info)) {
        return Unsupported(r.source() + ": offset " + std::to_string(dt_at) + ": " + what +
                           ": unknown dtype " + std::to_string(dtype) +
                           " (this reader knows f32, f16, bf16, q4_0, q8_0, q4_k, q6_k)");
      }
      t.dtype = static_cast<DType>(dtype);
      if (n_dims == 0 || n_dims > pkg::kMaxDims) {
        return r.ErrorAt(dt_at + 4,
                         what + ": n_dims " + std::to_string(n_dims) + ", expected 1..4");
      }
      t.shape.resize(n_dims);
      for (uint32_t d = 0; d < n_dims; ++d) {
        size_t dim_at = r.offset();
        uint64_t v = 0;
        SLM_RETURN_IF_ERROR(r.ReadU64(&v, what + " dim"));
        if (v == 0 || v > pkg::kMaxDim) {
          return r.ErrorAt(dim_at,
                           what + ": dimension " + std::to_string(v) + " is outside 1..2^40");
        }
        t.shape[d] = static_cast<int64_t>(v);
      }
      size_t off_at = r.offset();
      uint64_t offset = 0, size = 0, expect = 0, n = 0, end = 0;
      SLM_RETURN_IF_ERROR(r.ReadU64(&offset, what + " offset"));
      SLM_RETURN_IF_ERROR(r.ReadU64(&size, what + " byte size"));
      std::span<const uint8_t> sha;
      SLM_RETURN_IF_ERROR(r.ReadSpan(32, &sha, what + " sha256"));
      std::memcpy(p_->tensor_digests_[i].data(), sha.data(), 32);
      if (!ShapeElements(t.shape, &n) || !DTypeBytes(t.dtype, n, &expect)) {
        return r.ErrorAt(dt_at, what + ": shape " + ShapeString(t.shape) +
                                    " is not a whole number of " + info.name +
                                    " blocks or overflows");
      }
      if (size != expect) {
        return r.ErrorAt(off_at + 8, what + ": byte size " + std::to_string(size) + ", expected " +
                                         std::to_string(expect) + " for " + info.name + " " +
                                         ShapeString(t.shape));
      }
      if (offset % pkg::kTensorAlignment != 0) {
        return r.ErrorAt(off_at,
                         what + ": offset " + std::to_string(offset) + " is not a multiple of 64");
      }
      if (offset < data.offset || !CheckedAdd(offset, size, &end) || end > data_end) {
        return r.ErrorAt(
            off_at, what + ": bytes [" + std::to_string(offset) + ", +" + std::to_string(size) +
                        ") lie outside the tensor data section [" + std::to_string(data.offset) +
                        ", " + std::to_string(data_end) + ")");
      }
      if (!names.emplace(t.name, i).second) {
        return r.ErrorAt(at, what + " appears twice");
      }
      p_->tensor_offsets_[i] = offset;
      t.view = bytes_.subspan(offset, size);
    }
    if (r.remaining() != 0) {
      return r.Error(std::to_string(r.remaining()) + " unexpected bytes after the last entry");
    }
    // Overlap and padding: sorted by offset, each tensor starts at or after the
    // previous end; the gaps (and the data section's head) are zero; the data
    // section ends with the last tensor.
    std::vector<size_t> order(count);
    for (size_t i = 0; i < count; ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return p_->tensor_offsets_[a] < p_->tensor_offsets_[b]; });
    uint64_t prev_end = data.offset;
    std::string prev = "the start of the tensor data section";
    for (size_t i : order) {
      const uint64_t off = p_->tensor_offsets_[i];
      const std::string& nm = p_->tensors_[i].name;
      if (off < prev_end) {
        return FormatError(r.source() + ": tensor '" + nm + "' at offset " + std::to_string(off) +
                           " overlaps " + prev + " (ends at " + std::to_string(prev_end) + ")");
      }
      for (uint64_t k = prev_end; k < off; ++k) {
        if (bytes_[k] != 0) {
          return FormatError(name_ + ": tensor data section: padding byte at offset " +
                             std::to_string(k) + " before tensor '" + nm + "' is not zero");
        }
      }
      prev_end = off + p_->tensors_[i].view.size();
      prev = "tensor '" + nm + "'";
    }
    if (prev_end != data_end) {
      return FormatError(name_ + ": tensor data section: ends at " + std::to_string(data_end) +
                         " but the last tensor ends at " + std::to_string(prev_end));
    }
    Status s = CheckModelTensors(p_->config_, p_->tensors_);
    if (!s.ok()) {
      return s.WithContext(r.source() + " at offset " +
                           std::to_string(Find(pkg::kSectionTensorTable)->offset) + ": ");
    }
    return Status::Ok();
  }

  Status VerifySections() {
    SLM_RETURN_IF_ERROR(VerifySectionDigests(*p_, known_));
    p_->tokenizer_digest_ = Find(pkg::kSectionTokenizer)->sha256;
    return Status::Ok();
  }

  void ComputeDigest() {
    std::vector<pkg::DigestTensor> ts;
    for (size_t i = 0; i < p_->tensors_.size(); ++i) {
      const TensorData& t = p_->tensors_[i];
      ts.push_back({&t.name, static_cast<uint32_t>(t.dtype), &t.shape, t.view.size(),
                    &p_->tensor_digests_[i]});
    }
    std::vector<pkg::DigestSection> others;
    for (const auto& s : p_->sections_) {
      if (!s.known) others.push_back({s.id, s.size, &s.sha256});
    }
    p_->digest_ =
        pkg::PackageDigest(p_->version_, p_->kind_, p_->flags_, Find(pkg::kSectionMetadata)->sha256,
                           Find(pkg::kSectionTokenizer)->sha256, ts, others);
  }

  Package* p_;
  PackageOpenOptions opts_;
  std::span<const RangeDigest> known_;  // FromMemory's known_digests
  std::span<const uint8_t> bytes_;
  std::string name_;
  uint64_t file_size_field_ = 0, dir_offset_ = 0, sections_end_ = 0;
  uint32_t section_count_ = 0;
};

StatusOr<std::unique_ptr<Package>> Package::FromFile(std::unique_ptr<MappedFile> file,
                                                     PackageOpenOptions o,
                                                     std::span<const RangeDigest> known_digests) {
  std::unique_ptr<Package> p(new Package());
  p->file_ = std::move(file);
  PackageParser parser(p.get(), o, known_digests);
  SLM_RETURN_IF_ERROR(parser.Parse());
  return p;
}

StatusOr<std::unique_ptr<Package>> Package::Open(const std::string& path, PackageOpenOptions o) {
  SLM_ASSIGN_OR_RETURN(auto f, MappedFile::Open(path));
  return FromFile(std::move(f), o);
}

StatusOr<std::unique_ptr<Package>> Package::FromMemory(std::span<const uint8_t> bytes,
                                                       std::string name, PackageOpenOptions o,
                                                       std::span<const RangeDigest> known_digests) {
  return FromFile(MappedFile::FromMemory(bytes, std::move(name)), o, known_digests);
}

Status CheckPackageHeader(std::span<const uint8_t> first_bytes, const std::string& name) {
  if (first_bytes.size() < pkg::kHeaderSize) {
    return InvalidArgument(name + ": CheckPackageHeader needs " + std::to_string(pkg::kHeaderSize) +
                           " bytes, got " + std::to_string(first_bytes.size()));
  }
  return PackageParser::CheckHeader(first_bytes.first(pkg::kHeaderSize), name);
}

const TensorData* Package::FindTensor(std::string_view name) const {
  for (const TensorData& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Status Package::VerifyAll() const {
  SLM_RETURN_IF_ERROR(PackageParser::VerifySectionDigests(*this));
  return PackageParser::VerifyTensors(*this);
}

ModelBundle PackageToBundle(const Package& p) {
  ModelBundle b;
  b.config = p.config();
  b.tokenizer = p.tokenizer();
  b.provenance = p.provenance();
  b.metadata = p.metadata();
  for (const TensorData& t : p.tensors()) {
    TensorData v;
    v.name = t.name;
    v.dtype = t.dtype;
    v.shape = t.shape;
    v.view = t.view;
    b.tensors.push_back(std::move(v));
  }
  return b;
}

}  // namespace slm

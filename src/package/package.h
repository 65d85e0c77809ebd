// The .slm package, version 1: one self-contained file with a model's config,
// provenance, tokenizer and tensors. docs/format.md is the full specification;
// summary (all integers little-endian):
//
//   offset 0   header, 64 bytes: magic "SLMPKG\0\x1a", u32 version = 1,
//              u32 required-feature flags (0), u32 kind (0 = model),
//              u32 section count, u64 file size, u64 directory offset (64),
//              24 reserved zero bytes
//   offset 64  section directory: count x 56 bytes
//              {u32 id, u32 flags, u64 offset, u64 size, u8 sha256[32]}
//   sections   1 metadata    typed key/value entries, sorted by key
//              2 tokenizer   type, special ids, pre-tokenizer, pieces,
//                            scores, attrs, merges
//              3 tensor table  {name, dtype (ggml id), n_dims, dims
//                            (outermost first), absolute offset, byte size,
//                            sha256} per tensor
//              4 tensor data tensors at 64-byte aligned absolute offsets,
//                            zero padding between them; the file ends with
//                            the last tensor
//   Unknown section ids are skipped unless flagged required; the directory
//   digest of sections 1-3 (and unknown ones) is their SHA-256; section 4's
//   digest field is zero because every tensor carries its own digest.
//
// Package digest (identity) = SHA-256 of: "slm package digest v1", u32 version,
// u32 kind, u32 flags, metadata digest, tokenizer digest, u64 tensor count,
// per tensor {u32 name length, name, u32 dtype, u32 n_dims, u64 dims,
// u64 byte size, sha256}, per other section {u32 id, u64 size, sha256}.
// Offsets and padding are not hashed, so the identity is the content.
//
// The reader bounds every count, offset and size against the file size
// before use and reports the first problem as "<file>: <section> at offset N:
// ...". On success the tensors are views into the mapped file (no copy).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/file.h"
#include "base/sha256.h"
#include "base/status.h"
#include "import/bundle.h"
#include "model/config.h"
#include "model/tensor.h"
#include "tokenizer/tokenizer_data.h"

namespace slm {

// A section beyond the four of v1 (docs/format.md section 3): later issues
// add release metadata etc. this way. ids > 4, unique; flags 0 (optional) or
// 1 (required: readers that do not know the id refuse the file).
struct PackageExtraSection {
  uint32_t id = 0;
  uint32_t flags = 0;
  std::vector<uint8_t> bytes;
};

// Serializes a bundle (checked with config.Validate() and CheckModelTensors
// first). Deterministic: the same bundle gives the same bytes. Extra sections
// are placed after the tensor table, in id order.
StatusOr<std::vector<uint8_t>> SerializePackage(const ModelBundle& b,
                                                std::span<const PackageExtraSection> extra = {});
// SerializePackage + WriteFileAtomic.
Status WritePackage(const ModelBundle& b, const std::string& path,
                    std::span<const PackageExtraSection> extra = {});

// The SHA-256 of bytes [offset, offset + size) of the buffer being opened,
// computed earlier (PackageStream hashes while the bytes arrive).
struct RangeDigest {
  uint64_t offset = 0;
  uint64_t size = 0;
  Digest sha256{};
};

struct PackageOpenOptions {
  // Recompute every tensor's SHA-256 on open: one pass over all weight bytes
  // (the portable SHA-256 runs at ~110 MB/s natively, so ~9 s per GB; 1 MB
  // stories260K: ~10 ms). Metadata, tokenizer and tensor-table digests are
  // always checked (they are small).
  bool verify_digests = true;
};

// The header checks of Package::FromMemory (its first step: magic, version,
// flags, kind, section count, directory offset, reserved bytes) on the first
// 64 bytes of a package named `name`: a package with these 64 bytes fails to
// open with exactly this error. InvalidArgument if fewer than 64 bytes.
Status CheckPackageHeader(std::span<const uint8_t> first_bytes, const std::string& name);

struct PackageSection {
  uint32_t id = 0;
  uint32_t flags = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  Digest sha256{};
  bool known = false;  // this reader understands the id
};

const char* PackageSectionName(uint32_t id);  // "metadata", ..., "unknown"

class Package {
 public:
  static StatusOr<std::unique_ptr<Package>> Open(const std::string& path,
                                                 PackageOpenOptions o = {});
  // Bytes must outlive the Package (not copied). For in-place use they should
  // be 64-byte aligned (as MappedFile's wasm buffer is); f32 tensors need 4.
  // known_digests: digests already computed over these same bytes, sorted by
  // (offset, size) (PackageStream); a section or tensor digest check whose
  // exact range is listed compares against it instead of hashing again. Same
  // checks, same order, same errors; the caller vouches the bytes have not
  // changed since.
  static StatusOr<std::unique_ptr<Package>> FromMemory(
      std::span<const uint8_t> bytes, std::string name, PackageOpenOptions o = {},
      std::span<const RangeDigest> known_digests = {});
  static StatusOr<std::unique_ptr<Package>> FromFile(
      std::unique_ptr<MappedFile> file, PackageOpenOptions o = {},
      std::span<const RangeDigest> known_digests = {});

  const ModelConfig& config() const { return config_; }
  const TokenizerData& tokenizer() const { return tokenizer_; }
  const std::vector<TensorData>& tensors() const { return tensors_; }  // views into the file
  const TensorData* FindTensor(std::string_view name) const;
  const Provenance& provenance() const { return provenance_; }
  // Free-form string metadata (keys outside "model." and "source.").
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  Digest digest() const { return digest_; }
  std::string digest_hex() const { return DigestHex(digest_); }
  Digest tokenizer_digest() const { return tokenizer_digest_; }
  std::string tokenizer_digest_hex() const { return DigestHex(tokenizer_digest_); }
  const Digest& tensor_digest(size_t i) const { return tensor_digests_[i]; }
  std::string tensor_digest_hex(size_t i) const { return DigestHex(tensor_digests_[i]); }
  uint64_t tensor_offset(size_t i) const { return tensor_offsets_[i]; }

  uint64_t file_size() const { return file_->bytes().size(); }
  const std::string& name() const { return file_->path(); }
  uint32_t version() const { return version_; }
  uint32_t kind() const { return kind_; }
  uint32_t flags() const { return flags_; }
  const std::vector<PackageSection>& sections() const { return sections_; }
  std::span<const uint8_t> bytes() const { return file_->bytes(); }
  std::span<const uint8_t> section_bytes(const PackageSection& s) const {
    return file_->bytes().subspan(s.offset, s.size);
  }

  // Recomputes every section and tensor digest; the first mismatch names the
  // section or tensor.
  Status VerifyAll() const;

 private:
  Package() = default;
  friend class PackageParser;

  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0, kind_ = 0, flags_ = 0;
  std::vector<PackageSection> sections_;
  ModelConfig config_;
  TokenizerData tokenizer_;
  Provenance provenance_;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorData> tensors_;
  std::vector<Digest> tensor_digests_;
  std::vector<uint64_t> tensor_offsets_;
  Digest digest_{};
  Digest tokenizer_digest_{};
};

// A bundle whose tensors view the package's bytes (valid while `p` lives);
// SerializePackage(PackageToBundle(p)) reproduces p's bytes exactly.
ModelBundle PackageToBundle(const Package& p);

}  // namespace slm

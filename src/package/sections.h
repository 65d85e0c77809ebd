// Encoders and decoders for the .slm metadata and tokenizer sections, and the
// package digest. Internal to src/package (the writer and the reader share
// them so the two cannot drift apart). Layouts: docs/format.md.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/byte_reader.h"
#include "base/sha256.h"
#include "base/status.h"
#include "import/bundle.h"
#include "model/config.h"
#include "tokenizer/tokenizer_data.h"

namespace slm::pkg {

// Little-endian append helpers.
void PutU32(std::vector<uint8_t>* out, uint32_t v);
void PutU64(std::vector<uint8_t>* out, uint64_t v);
void PutBytes(std::vector<uint8_t>* out, const void* p, size_t n);
void PutString32(std::vector<uint8_t>* out, const std::string& s);  // u32 length + bytes

// Metadata section: config + provenance + free-form strings.
StatusOr<std::vector<uint8_t>> EncodeMetadata(const ModelConfig& c, const Provenance& p,
                                              const std::map<std::string, std::string>& extra);
// `r` is positioned at the section start and ends at the section end.
Status DecodeMetadata(ByteReader& r, ModelConfig* c, Provenance* p,
                      std::map<std::string, std::string>* extra);

// Tokenizer section.
std::vector<uint8_t> EncodeTokenizer(const TokenizerData& t);
Status DecodeTokenizer(ByteReader& r, TokenizerData* t);
// Internal consistency (counts agree, special ids in range, vocab fits the
// config); `where` prefixes errors.
Status ValidateTokenizer(const TokenizerData& t, int32_t vocab_size, const std::string& where);

struct DigestTensor {
  const std::string* name;
  uint32_t dtype;
  const std::vector<int64_t>* shape;
  uint64_t size;
  const Digest* sha256;
};
struct DigestSection {
  uint32_t id;
  uint64_t size;
  const Digest* sha256;
};
// The package identity (package.h header comment, docs/format.md section 6).
Digest PackageDigest(uint32_t version, uint32_t kind, uint32_t flags, const Digest& metadata,
                     const Digest& tokenizer, const std::vector<DigestTensor>& tensors,
                     const std::vector<DigestSection>& other_sections);

}  // namespace slm::pkg

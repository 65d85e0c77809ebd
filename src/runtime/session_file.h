// Session files: one sequence's KV cache, saved so a long context can be
// resumed later (Session::SaveSequence / RestoreSequence). Format version 1,
// all integers little-endian, floats IEEE binary32 (docs/kv-cache.md):
//
//   offset  size  field
//   0       8     magic "SLMKVSES"
//   8       4     u32 version (1)
//   12      4     u32 header bytes (112: the fields up to the token ids)
//   16      32    model fingerprint (Session::model_fingerprint())
//   48      32    assembly checksum (WeightDeltas::checksum(), zeros without deltas)
//   80      4     u32 n_layers
//   84      4     u32 kv_dim (floats per K or V row)
//   88      4     u32 vocab_size
//   92      4     u32 position (tokens saved, P)
//   96      4     u32 has_logits (0 or 1)
//   100     4     u32 reserved (0)
//   104     8     u64 sampler state bytes (S)
//   112     4P    i32 token ids, positions 0..P-1
//   ...     -     f32 K/V: for each layer, K rows [P][kv_dim] then V rows [P][kv_dim]
//   ...     4V    f32 logits [vocab] (only if has_logits)
//   ...     S     sampler state (opaque to the runtime)
//   end-32  32    SHA-256 of every byte before it
//
// The reader checks everything it can without a session (magic, version,
// ceilings, exact length, digest); Session::RestoreSequence then checks the
// model, checksum, shapes, context and token ids against itself.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/model.h"

namespace slm {

struct SessionFileHeader {
  std::array<uint8_t, 32> model{};     // model fingerprint
  std::array<uint8_t, 32> checksum{};  // assembly checksum
  uint32_t n_layers = 0;
  uint32_t kv_dim = 0;
  uint32_t vocab_size = 0;
  uint32_t position = 0;
  bool has_logits = false;
  uint64_t sampler_bytes = 0;
};

// A parsed file: the header and views of its sections (raw little-endian
// bytes, unaligned: copy them out with memcpy).
struct SessionFileView {
  SessionFileHeader h;
  std::span<const uint8_t> tokens;   // [position] i32
  std::span<const uint8_t> kv;       // [n_layers][2][position][kv_dim] f32
  std::span<const uint8_t> logits;   // [vocab] f32, empty without logits
  std::span<const uint8_t> sampler;  // [sampler_bytes]
};

inline constexpr char kSessionFileMagic[8] = {'S', 'L', 'M', 'K', 'V', 'S', 'E', 'S'};
inline constexpr uint32_t kSessionFileVersion = 1;
inline constexpr uint32_t kSessionFileHeaderBytes = 112;
// Reader ceilings (a file above them is refused before any size arithmetic).
inline constexpr uint32_t kSessionFileMaxPosition = 1u << 20;
inline constexpr uint32_t kSessionFileMaxLayers = 1024;
inline constexpr uint32_t kSessionFileMaxKvDim = 1u << 16;
inline constexpr uint32_t kSessionFileMaxVocab = 1u << 22;

// The header, to which the caller appends the sections, then AppendDigest.
void AppendSessionFileHeader(const SessionFileHeader& h, std::vector<uint8_t>* out);
void AppendSessionFileDigest(std::vector<uint8_t>* out);
// Validates the structure and the digest; `source` names the bytes in errors.
StatusOr<SessionFileView> ParseSessionFile(std::span<const uint8_t> bytes,
                                           const std::string& source);
// SHA-256 over a tag, the config fields and the first (up to) 4 KiB of
// token_embd plus the output norm: two models share it only if they share
// shape, hyper-parameters and those weights.
std::array<uint8_t, 32> ModelFingerprint(const Model& m);

}  // namespace slm

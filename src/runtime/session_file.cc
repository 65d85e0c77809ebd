#include "runtime/session_file.h"

#include <cstring>

#include "base/byte_reader.h"
#include "base/file.h"
#include "base/sha256.h"
#include "runtime/session.h"

namespace slm {
namespace {

void PutU32(uint32_t v, std::vector<uint8_t>* out) {
  uint8_t b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts (x86, wasm)
  out->insert(out->end(), b, b + 4);
}

void PutU64(uint64_t v, std::vector<uint8_t>* out) {
  uint8_t b[8];
  std::memcpy(b, &v, 8);
  out->insert(out->end(), b, b + 8);
}

void PutBytes(const void* p, size_t n, std::vector<uint8_t>* out) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);
}

std::string Hex8(const std::array<uint8_t, 32>& d) { return DigestHex(d).substr(0, 16); }

}  // namespace

void AppendSessionFileHeader(const SessionFileHeader& h, std::vector<uint8_t>* out) {
  PutBytes(kSessionFileMagic, 8, out);
  PutU32(kSessionFileVersion, out);
  PutU32(kSessionFileHeaderBytes, out);
  PutBytes(h.model.data(), 32, out);
  PutBytes(h.checksum.data(), 32, out);
  PutU32(h.n_layers, out);
  PutU32(h.kv_dim, out);
  PutU32(h.vocab_size, out);
  PutU32(h.position, out);
  PutU32(h.has_logits ? 1 : 0, out);
  PutU32(0, out);
  PutU64(h.sampler_bytes, out);
}

void AppendSessionFileDigest(std::vector<uint8_t>* out) {
  const Digest d = Sha256Of(std::span<const uint8_t>(out->data(), out->size()));
  PutBytes(d.data(), d.size(), out);
}

StatusOr<SessionFileView> ParseSessionFile(std::span<const uint8_t> bytes,
                                           const std::string& source) {
  ByteReader r(bytes, source);
  std::span<const uint8_t> magic;
  SLM_RETURN_IF_ERROR(r.ReadSpan(8, &magic, "magic"));
  if (std::memcmp(magic.data(), kSessionFileMagic, 8) != 0) {
    return r.ErrorAt(0, "not a session file: magic is not \"SLMKVSES\"");
  }
  uint32_t version = 0, header_bytes = 0, has_logits = 0, reserved = 0;
  SLM_RETURN_IF_ERROR(r.ReadU32(&version, "version"));
  if (version != kSessionFileVersion) {
    return r.ErrorAt(8, "session file version " + std::to_string(version) + ", expected " +
                            std::to_string(kSessionFileVersion));
  }
  SLM_RETURN_IF_ERROR(r.ReadU32(&header_bytes, "header bytes"));
  if (header_bytes != kSessionFileHeaderBytes) {
    return r.ErrorAt(12, "header bytes " + std::to_string(header_bytes) + ", expected " +
                             std::to_string(kSessionFileHeaderBytes));
  }
  SessionFileView v;
  SessionFileHeader& h = v.h;
  std::span<const uint8_t> d;
  SLM_RETURN_IF_ERROR(r.ReadSpan(32, &d, "model fingerprint"));
  std::memcpy(h.model.data(), d.data(), 32);
  SLM_RETURN_IF_ERROR(r.ReadSpan(32, &d, "assembly checksum"));
  std::memcpy(h.checksum.data(), d.data(), 32);
  SLM_RETURN_IF_ERROR(r.ReadU32(&h.n_layers, "n_layers"));
  SLM_RETURN_IF_ERROR(r.ReadU32(&h.kv_dim, "kv_dim"));
  SLM_RETURN_IF_ERROR(r.ReadU32(&h.vocab_size, "vocab_size"));
  SLM_RETURN_IF_ERROR(r.ReadU32(&h.position, "position"));
  SLM_RETURN_IF_ERROR(r.ReadU32(&has_logits, "has_logits"));
  SLM_RETURN_IF_ERROR(r.ReadU32(&reserved, "reserved"));
  SLM_RETURN_IF_ERROR(r.ReadU64(&h.sampler_bytes, "sampler state bytes"));
  struct Limit {
    const char* name;
    uint64_t value, lo, hi;
  } limits[] = {{"n_layers", h.n_layers, 1, kSessionFileMaxLayers},
                {"kv_dim", h.kv_dim, 1, kSessionFileMaxKvDim},
                {"vocab_size", h.vocab_size, 1, kSessionFileMaxVocab},
                {"position", h.position, 0, kSessionFileMaxPosition},
                {"has_logits", has_logits, 0, 1},
                {"reserved", reserved, 0, 0},
                {"sampler state bytes", h.sampler_bytes, 0, bytes.size()}};
  for (const Limit& l : limits) {
    if (l.value < l.lo || l.value > l.hi) {
      return r.Error(std::string(l.name) + " is " + std::to_string(l.value) + ", expected " +
                     std::to_string(l.lo) + ".." + std::to_string(l.hi));
    }
  }
  h.has_logits = has_logits == 1;
  // Sizes: each factor is below its ceiling, so none of this overflows 64 bits.
  const uint64_t tokens = uint64_t{4} * h.position;
  const uint64_t kv = uint64_t{8} * h.n_layers * h.position * h.kv_dim;
  const uint64_t logits = h.has_logits ? uint64_t{4} * h.vocab_size : 0;
  const uint64_t total = kSessionFileHeaderBytes + tokens + kv + logits + h.sampler_bytes + 32;
  if (bytes.size() != total) {
    return r.ErrorAt(bytes.size(), "session file is " + std::to_string(bytes.size()) +
                                       " bytes, expected " + std::to_string(total) +
                                       " for its header (" + std::to_string(h.position) +
                                       " positions, " + std::to_string(h.n_layers) +
                                       " layers, kv_dim " + std::to_string(h.kv_dim) + ")" +
                                       (bytes.size() < total ? ": truncated" : ": trailing bytes"));
  }
  const Digest want = Sha256Of(bytes.first(bytes.size() - 32));
  if (std::memcmp(want.data(), bytes.data() + bytes.size() - 32, 32) != 0) {
    return IntegrityError(source + ": SHA-256 of the first " + std::to_string(bytes.size() - 32) +
                          " bytes does not match the digest stored at the end (corrupted)");
  }
  SLM_RETURN_IF_ERROR(r.ReadSpan(tokens, &v.tokens, "token ids"));
  SLM_RETURN_IF_ERROR(r.ReadSpan(kv, &v.kv, "K/V rows"));
  SLM_RETURN_IF_ERROR(r.ReadSpan(logits, &v.logits, "logits"));
  SLM_RETURN_IF_ERROR(r.ReadSpan(h.sampler_bytes, &v.sampler, "sampler state"));
  return v;
}

std::array<uint8_t, 32> ModelFingerprint(const Model& m) {
  const ModelConfig& c = m.config();
  Sha256 h;
  h.Update("slm-model-fingerprint-v1|");
  h.Update(c.arch);
  const int32_t ints[] = {c.dim,         c.hidden_dim,  c.n_layers,
                          c.n_heads,     c.n_kv_heads,  c.head_dim,
                          c.vocab_size,  c.max_seq_len, static_cast<int32_t>(c.rope_style),
                          c.tied_output, c.qkv_bias};
  h.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(ints), sizeof(ints)));
  const float floats[] = {c.norm_eps, c.rope_theta};
  h.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(floats), sizeof(floats)));
  const WeightView& e = m.token_embd();
  const int64_t embd_bytes = e.row_bytes * e.rows;
  h.Update(
      std::span<const uint8_t>(e.data, static_cast<size_t>(embd_bytes < 4096 ? embd_bytes : 4096)));
  h.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(m.output_norm()),
                                    static_cast<size_t>(c.dim) * sizeof(float)));
  return h.Finish();
}

std::vector<uint8_t> Session::SerializeSequence(SeqId s,
                                                std::span<const uint8_t> sampler_state) const {
  std::vector<uint8_t> out;
  if (!CheckSeq(s).ok()) return out;
  const Seq& q = seqs_[s];
  const ModelConfig& c = model_.config();
  SessionFileHeader h;
  h.model = fingerprint_;
  h.checksum = q.position > 0 ? q.checksum : Checksum();
  h.n_layers = static_cast<uint32_t>(c.n_layers);
  h.kv_dim = static_cast<uint32_t>(c.kv_dim());
  h.vocab_size = static_cast<uint32_t>(c.vocab_size);
  h.position = static_cast<uint32_t>(q.position);
  h.has_logits = q.has_logits;
  h.sampler_bytes = sampler_state.size();
  const size_t row = static_cast<size_t>(c.kv_dim()) * sizeof(float);
  out.reserve(kSessionFileHeaderBytes + 4 * h.position +
              2 * row * static_cast<size_t>(c.n_layers) * h.position +
              (q.has_logits ? 4 * h.vocab_size : 0) + sampler_state.size() + 32);
  AppendSessionFileHeader(h, &out);
  constexpr int32_t kPage = KvCache::kPageTokens;
  for (int32_t pos = 0; pos < q.position; ++pos) {
    PutBytes(kv_.tokens(q.pages[pos / kPage]) + pos % kPage, 4, &out);
  }
  for (int32_t l = 0; l < c.n_layers; ++l) {
    for (int kind = 0; kind < 2; ++kind) {
      for (int32_t pos = 0; pos < q.position; pos += kPage) {
        const int32_t p = q.pages[pos / kPage];
        const int32_t rows = q.position - pos < kPage ? q.position - pos : kPage;
        PutBytes(kind == 0 ? kv_.K(p, l) : kv_.V(p, l), row * static_cast<size_t>(rows), &out);
      }
    }
  }
  if (q.has_logits) PutBytes(LogitsData(q), q.logits.size() * sizeof(float), &out);
  PutBytes(sampler_state.data(), sampler_state.size(), &out);
  AppendSessionFileDigest(&out);
  return out;
}

Status Session::SaveSequence(SeqId s, const std::string& path,
                             std::span<const uint8_t> sampler_state) const {
  SLM_RETURN_IF_ERROR(CheckSeq(s));
  if (!seqs_[s].shareable) {
    return InvalidArgument("sequence " + std::to_string(s) +
                           " ran under two different adapter sets; its cache has no single "
                           "assembly checksum to save under");
  }
  const std::vector<uint8_t> bytes = SerializeSequence(s, sampler_state);
  return WriteFileAtomic(path, bytes);
}

Status Session::RestoreSequence(SeqId s, const std::string& path,
                                std::vector<uint8_t>* sampler_state) {
  SLM_RETURN_IF_ERROR(CheckSeq(s));
  auto f = MappedFile::Open(path);
  if (!f.ok()) return f.status();
  return RestoreSequenceFrom(s, (*f)->bytes(), path, sampler_state);
}

Status Session::RestoreSequenceFrom(SeqId s, std::span<const uint8_t> bytes,
                                    const std::string& source,
                                    std::vector<uint8_t>* sampler_state) {
  SLM_RETURN_IF_ERROR(CheckSeq(s));
  auto parsed = ParseSessionFile(bytes, source);
  if (!parsed.ok()) return parsed.status();
  const SessionFileView& v = *parsed;
  const SessionFileHeader& h = v.h;
  const ModelConfig& c = model_.config();
  if (h.model != fingerprint_) {
    return InvalidArgument(source + ": session file is for another model (fingerprint " +
                           Hex8(h.model) + "..., this model " + Hex8(fingerprint_) + "...)");
  }
  if (h.checksum != Checksum()) {
    return InvalidArgument(source + ": session file was computed under assembly checksum " +
                           Hex8(h.checksum) + "..., this session has " + Hex8(Checksum()) +
                           "... (attach the same adapters, or none)");
  }
  if (h.n_layers != static_cast<uint32_t>(c.n_layers) ||
      h.kv_dim != static_cast<uint32_t>(c.kv_dim()) ||
      h.vocab_size != static_cast<uint32_t>(c.vocab_size)) {
    return InvalidArgument(source + ": session file shape (n_layers " + std::to_string(h.n_layers) +
                           ", kv_dim " + std::to_string(h.kv_dim) + ", vocab " +
                           std::to_string(h.vocab_size) + ") differs from the model's (" +
                           std::to_string(c.n_layers) + ", " + std::to_string(c.kv_dim()) + ", " +
                           std::to_string(c.vocab_size) + ")");
  }
  if (h.position > static_cast<uint32_t>(n_ctx_)) {
    return OutOfRange(source + ": session file holds " + std::to_string(h.position) +
                      " positions, above this session's context of " + std::to_string(n_ctx_));
  }
  const int32_t n = static_cast<int32_t>(h.position);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  if (n > 0) std::memcpy(ids.data(), v.tokens.data(), v.tokens.size());
  for (int32_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= c.vocab_size) {
      return FormatError(source + ": token id " + std::to_string(ids[i]) + " at position " +
                         std::to_string(i) + " is outside the vocabulary of " +
                         std::to_string(c.vocab_size));
    }
  }
  SLM_RETURN_IF_ERROR(ResetSequence(s));
  Seq& q = seqs_[s];
  constexpr int32_t kPage = KvCache::kPageTokens;
  const int32_t need = (n + kPage - 1) / kPage;
  if (need > kv_.Available()) return NoPages(need);
  q.checksum = Checksum();
  for (int32_t i = 0; i < need; ++i) q.pages.push_back(kv_.Allocate());
  const size_t row = static_cast<size_t>(c.kv_dim()) * sizeof(float);
  const uint8_t* src = v.kv.data();
  for (int32_t l = 0; l < c.n_layers; ++l) {
    for (int kind = 0; kind < 2; ++kind) {
      for (int32_t pos = 0; pos < n; pos += kPage) {
        const int32_t p = q.pages[pos / kPage];
        const int32_t rows = n - pos < kPage ? n - pos : kPage;
        std::memcpy(kind == 0 ? kv_.K(p, l) : kv_.V(p, l), src, row * static_cast<size_t>(rows));
        src += row * static_cast<size_t>(rows);
      }
    }
  }
  for (int32_t pos = 0; pos < n; ++pos) NoteToken(s, pos, ids[pos]);
  if (h.has_logits) {
    std::memcpy(q.logits.data(), v.logits.data(), v.logits.size());
    q.has_logits = true;
    q.batch_row = -1;
  }
  if (sampler_state != nullptr) sampler_state->assign(v.sampler.begin(), v.sampler.end());
  return Status::Ok();
}

}  // namespace slm

// SentencePiece ModelProto (.model) -> TokenizerData, with a minimal
// protobuf wire-format reader (no generated code, no dependency).
//
// Fields read (sentencepiece_model.proto):
//   ModelProto      1: repeated SentencePiece pieces, 2: TrainerSpec, 3: NormalizerSpec
//   SentencePiece   1: string piece, 2: float score, 3: enum type (1 normal .. 6 byte)
//   TrainerSpec     3: model_type (1 unigram, 2 BPE), 35: byte_fallback,
//                   40: unk_id, 41: bos_id, 42: eos_id, 43: pad_id
//   NormalizerSpec  3: add_dummy_prefix (default true)
// Everything else is skipped by wire type. Every length is checked against
// the bytes that remain in the enclosing message.
#include <cstring>

#include "base/utf8.h"
#include "tokenizer/load.h"

namespace slm {
namespace {

class ProtoReader {
 public:
  // base: absolute offset of bytes[0] in the file, for messages.
  ProtoReader(std::span<const uint8_t> bytes, size_t base, const std::string& source)
      : b_(bytes), base_(base), source_(source) {}

  bool done() const { return pos_ >= b_.size(); }
  size_t offset() const { return base_ + pos_; }

  Status Error(const std::string& what) const {
    return FormatError(source_ + ": offset " + std::to_string(offset()) + ": " + what);
  }

  Status ReadVarint(uint64_t* v, const char* what) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return Error(std::string("truncated varint (") + what + ")");
      const uint8_t byte = b_[pos_++];
      *v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return Status::Ok();
    }
    return Error(std::string("varint longer than 10 bytes (") + what + ")");
  }

  // Reads a tag; *field = 0 at the end of the message.
  Status ReadTag(uint32_t* field, uint32_t* wire) {
    uint64_t tag = 0;
    SLM_RETURN_IF_ERROR(ReadVarint(&tag, "field tag"));
    *field = static_cast<uint32_t>(tag >> 3);
    *wire = static_cast<uint32_t>(tag & 7);
    if (*field == 0 || tag >> 3 > 0x1FFFFFFF) {
      return Error("expected a field tag, found field number " + std::to_string(tag >> 3));
    }
    return Status::Ok();
  }

  Status ReadBytes(std::span<const uint8_t>* out, size_t* at) {
    uint64_t len = 0;
    SLM_RETURN_IF_ERROR(ReadVarint(&len, "length"));
    if (len > b_.size() - pos_) {
      return Error("length-delimited field of " + std::to_string(len) + " bytes, but only " +
                   std::to_string(b_.size() - pos_) + " remain");
    }
    *at = base_ + pos_;
    *out = b_.subspan(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return Status::Ok();
  }

  Status ReadFixed32(uint32_t* v) {
    if (b_.size() - pos_ < 4) return Error("truncated 32-bit field");
    std::memcpy(v, b_.data() + pos_, 4);
    pos_ += 4;
    return Status::Ok();
  }

  Status Skip(uint32_t wire) {
    switch (wire) {
      case 0: { uint64_t v = 0; return ReadVarint(&v, "skipped field"); }
      case 1:
        if (b_.size() - pos_ < 8) return Error("truncated 64-bit field");
        pos_ += 8;
        return Status::Ok();
      case 2: { std::span<const uint8_t> s; size_t at; return ReadBytes(&s, &at); }
      case 5: { uint32_t v = 0; return ReadFixed32(&v); }
      default:
        return Error("unsupported protobuf wire type " + std::to_string(wire));
    }
  }

  const std::string& source() const { return source_; }

 private:
  std::span<const uint8_t> b_;
  size_t base_;
  size_t pos_ = 0;
  const std::string& source_;
};

Status ExpectWire(const ProtoReader& r, uint32_t field, uint32_t wire, uint32_t want) {
  if (wire == want) return Status::Ok();
  return r.Error("field " + std::to_string(field) + ": expected wire type " + std::to_string(want) +
                 ", found " + std::to_string(wire));
}

Status ParsePiece(std::span<const uint8_t> bytes, size_t base, const std::string& source,
                  TokenizerData* d) {
  ProtoReader r(bytes, base, source);
  std::string piece;
  float score = 0;
  uint64_t type = 1;
  while (!r.done()) {
    uint32_t field, wire;
    SLM_RETURN_IF_ERROR(r.ReadTag(&field, &wire));
    if (field == 1) {
      SLM_RETURN_IF_ERROR(ExpectWire(r, field, wire, 2));
      std::span<const uint8_t> s;
      size_t at;
      SLM_RETURN_IF_ERROR(r.ReadBytes(&s, &at));
      piece.assign(reinterpret_cast<const char*>(s.data()), s.size());
      Status valid = ValidateUtf8(piece);
      if (!valid.ok()) {
        return FormatError(source + ": offset " + std::to_string(at) + ": piece " +
                           std::to_string(d->pieces.size()) + ": " + valid.message());
      }
    } else if (field == 2) {
      SLM_RETURN_IF_ERROR(ExpectWire(r, field, wire, 5));
      uint32_t bits = 0;
      SLM_RETURN_IF_ERROR(r.ReadFixed32(&bits));
      std::memcpy(&score, &bits, 4);
    } else if (field == 3) {
      SLM_RETURN_IF_ERROR(ExpectWire(r, field, wire, 0));
      SLM_RETURN_IF_ERROR(r.ReadVarint(&type, "piece type"));
      if (type < 1 || type > 6) return r.Error("piece type: expected 1..6, found " + std::to_string(type));
    } else {
      SLM_RETURN_IF_ERROR(r.Skip(wire));
    }
  }
  d->pieces.push_back(std::move(piece));
  d->scores.push_back(score);
  d->attrs.push_back(static_cast<int32_t>(type));
  return Status::Ok();
}

struct TrainerSpec {
  int64_t model_type = 1;  // proto default: UNIGRAM
  bool byte_fallback = false;
  int64_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
};

Status ParseTrainer(std::span<const uint8_t> bytes, size_t base, const std::string& source,
                    TrainerSpec* t) {
  ProtoReader r(bytes, base, source);
  while (!r.done()) {
    uint32_t field, wire;
    SLM_RETURN_IF_ERROR(r.ReadTag(&field, &wire));
    int64_t* target = nullptr;
    switch (field) {
      case 3: target = &t->model_type; break;
      case 40: target = &t->unk_id; break;
      case 41: target = &t->bos_id; break;
      case 42: target = &t->eos_id; break;
      case 43: target = &t->pad_id; break;
      default: break;
    }
    if (target != nullptr || field == 35) {
      SLM_RETURN_IF_ERROR(ExpectWire(r, field, wire, 0));
      uint64_t v = 0;
      SLM_RETURN_IF_ERROR(r.ReadVarint(&v, "trainer_spec field"));
      // int32 fields: negative values arrive sign-extended to 64 bits.
      if (target != nullptr) *target = static_cast<int32_t>(static_cast<uint32_t>(v));
      else t->byte_fallback = v != 0;
    } else {
      SLM_RETURN_IF_ERROR(r.Skip(wire));
    }
  }
  return Status::Ok();
}

Status ParseNormalizer(std::span<const uint8_t> bytes, size_t base, const std::string& source,
                       bool* add_dummy_prefix) {
  ProtoReader r(bytes, base, source);
  while (!r.done()) {
    uint32_t field, wire;
    SLM_RETURN_IF_ERROR(r.ReadTag(&field, &wire));
    if (field == 3) {
      SLM_RETURN_IF_ERROR(ExpectWire(r, field, wire, 0));
      uint64_t v = 0;
      SLM_RETURN_IF_ERROR(r.ReadVarint(&v, "add_dummy_prefix"));
      *add_dummy_prefix = v != 0;
    } else {
      SLM_RETURN_IF_ERROR(r.Skip(wire));
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<TokenizerData> TokenizerFromSentencePieceModel(std::span<const uint8_t> bytes,
                                                        const std::string& source) {
  TokenizerData d;
  d.type = TokenizerType::kSentencePiece;
  TrainerSpec trainer;
  bool have_trainer = false;
  bool add_dummy_prefix = true;
  ProtoReader r(bytes, 0, source);
  while (!r.done()) {
    uint32_t field, wire;
    SLM_RETURN_IF_ERROR(r.ReadTag(&field, &wire));
    if (field >= 1 && field <= 3) {
      SLM_RETURN_IF_ERROR(ExpectWire(r, field, wire, 2));
      std::span<const uint8_t> msg;
      size_t at;
      SLM_RETURN_IF_ERROR(r.ReadBytes(&msg, &at));
      if (field == 1) {
        SLM_RETURN_IF_ERROR(ParsePiece(msg, at, source, &d));
      } else if (field == 2) {
        have_trainer = true;
        SLM_RETURN_IF_ERROR(ParseTrainer(msg, at, source, &trainer));
      } else {
        SLM_RETURN_IF_ERROR(ParseNormalizer(msg, at, source, &add_dummy_prefix));
      }
    } else {
      SLM_RETURN_IF_ERROR(r.Skip(wire));
    }
  }
  if (d.pieces.empty()) return FormatError(source + ": expected SentencePiece pieces (field 1), found none");
  if (!have_trainer) return FormatError(source + ": expected a trainer_spec (field 2), found none");
  if (trainer.model_type != 2) {
    return Unsupported(source + ": SentencePiece model_type " + std::to_string(trainer.model_type) +
                       " (only BPE = 2 is implemented)");
  }
  const int64_t n = static_cast<int64_t>(d.pieces.size());
  auto id = [&](int64_t v) { return (v >= 0 && v < n) ? static_cast<int32_t>(v) : -1; };
  d.unk_id = id(trainer.unk_id);
  d.bos_id = id(trainer.bos_id);
  d.eos_id = id(trainer.eos_id);
  d.pad_id = id(trainer.pad_id);
  d.add_bos = true;
  d.add_space_prefix = add_dummy_prefix;
  return d;
}

}  // namespace slm

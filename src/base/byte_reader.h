// A bounds-checked little-endian reader over a byte span. Every read checks the
// remaining length first, so a count or offset taken from a file can never walk
// past its end. Errors name the source, the field and the absolute offset:
//   "model.gguf: offset 24: reading 'kv count' needs 8 bytes, 3 remain"
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace slm {

class ByteReader {
 public:
  // `source` names the bytes in error messages (usually a file name).
  ByteReader(std::span<const uint8_t> bytes, std::string source)
      : bytes_(bytes), source_(std::move(source)) {}

  size_t offset() const { return pos_; }
  size_t size() const { return bytes_.size(); }
  size_t remaining() const { return bytes_.size() - pos_; }
  const std::string& source() const { return source_; }
  std::span<const uint8_t> bytes() const { return bytes_; }

  Status Seek(size_t offset, std::string_view what);
  Status Skip(size_t n, std::string_view what);
  Status ReadU8(uint8_t* v, std::string_view what) { return ReadPod(v, what); }
  Status ReadU16(uint16_t* v, std::string_view what) { return ReadPod(v, what); }
  Status ReadU32(uint32_t* v, std::string_view what) { return ReadPod(v, what); }
  Status ReadI32(int32_t* v, std::string_view what) { return ReadPod(v, what); }
  Status ReadU64(uint64_t* v, std::string_view what) { return ReadPod(v, what); }
  Status ReadI64(int64_t* v, std::string_view what) { return ReadPod(v, what); }
  Status ReadF32(float* v, std::string_view what) { return ReadPod(v, what); }
  Status ReadF64(double* v, std::string_view what) { return ReadPod(v, what); }
  // A view of the next n bytes (no copy).
  Status ReadSpan(size_t n, std::span<const uint8_t>* out, std::string_view what);
  // Copies the next n bytes into a string.
  Status ReadString(size_t n, std::string* out, std::string_view what);

  // A FormatError at the current offset: "<source>: offset N: <message>".
  Status Error(const std::string& message) const { return ErrorAt(pos_, message); }
  Status ErrorAt(size_t offset, const std::string& message) const;

 private:
  template <typename T>
  Status ReadPod(T* v, std::string_view what) {
    if (remaining() < sizeof(T)) return Truncated(sizeof(T), what);
    std::memcpy(v, bytes_.data() + pos_, sizeof(T));  // host is little-endian (x86, wasm)
    pos_ += sizeof(T);
    return Status::Ok();
  }
  Status Truncated(size_t need, std::string_view what) const;

  std::span<const uint8_t> bytes_;
  std::string source_;
  size_t pos_ = 0;
};

// Checked a*b for sizes taken from files; false on overflow.
inline bool CheckedMul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

}  // namespace slm

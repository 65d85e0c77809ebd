#include "base/byte_reader.h"

namespace slm {

Status ByteReader::Seek(size_t offset, std::string_view what) {
  if (offset > bytes_.size()) {
    return Error("seeking to '" + std::string(what) + "' at offset " + std::to_string(offset) +
                 " beyond the end (size " + std::to_string(bytes_.size()) + ")");
  }
  pos_ = offset;
  return Status::Ok();
}

Status ByteReader::Skip(size_t n, std::string_view what) {
  if (remaining() < n) return Truncated(n, what);
  pos_ += n;
  return Status::Ok();
}

Status ByteReader::ReadSpan(size_t n, std::span<const uint8_t>* out, std::string_view what) {
  if (remaining() < n) return Truncated(n, what);
  *out = bytes_.subspan(pos_, n);
  pos_ += n;
  return Status::Ok();
}

Status ByteReader::ReadString(size_t n, std::string* out, std::string_view what) {
  std::span<const uint8_t> s;
  SLM_RETURN_IF_ERROR(ReadSpan(n, &s, what));
  out->assign(reinterpret_cast<const char*>(s.data()), s.size());
  return Status::Ok();
}

Status ByteReader::ErrorAt(size_t offset, const std::string& message) const {
  return FormatError(source_ + ": offset " + std::to_string(offset) + ": " + message);
}

Status ByteReader::Truncated(size_t need, std::string_view what) const {
  return Error("truncated: reading '" + std::string(what) + "' needs " + std::to_string(need) +
               " bytes, " + std::to_string(remaining()) + " remain");
}

}  // namespace slm

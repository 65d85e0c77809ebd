#include "import/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/json.h"

namespace slm {
namespace {

bool ParseStDType(const std::string& s, DType* t) {
  if (s == "F32") { *t = DType::kF32; return true; }
  if (s == "F16") { *t = DType::kF16; return true; }
  if (s == "BF16") { *t = DType::kBF16; return true; }
  return false;
}

const char* StDTypeName(DType t) {
  switch (t) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    default: return nullptr;
  }
}

// A JSON number that is a non-negative integer below 2^53 (exact in a double).
bool AsIndex(const JsonValue& v, uint64_t* out) {
  if (!v.is_number()) return false;
  double d = v.as_number();
  if (!(d >= 0 && d <= 9007199254740992.0) || std::floor(d) != d) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  SLM_ASSIGN_OR_RETURN(auto f, MappedFile::Open(path));
  return Parse(std::move(f));
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Parse(std::unique_ptr<MappedFile> file) {
  std::unique_ptr<SafetensorsFile> st(new SafetensorsFile());
  const std::string& path = file->path();
  auto bytes = file->bytes();
  if (bytes.size() < 8) {
    return FormatError(path + ": offset 0: " + std::to_string(bytes.size()) +
                       " bytes, a safetensors file needs at least 8 (header length)");
  }
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxHeader) {
    return FormatError(path + ": offset 0: header length " + std::to_string(n) +
                       " exceeds the 100 MB limit");
  }
  if (n > bytes.size() - 8) {
    return FormatError(path + ": offset 0: header length " + std::to_string(n) +
                       " runs past the end of the file (" + std::to_string(bytes.size()) + " bytes)");
  }
  const uint64_t data_start = 8 + n;
  const uint64_t data_size = bytes.size() - data_start;
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), n);
  SLM_ASSIGN_OR_RETURN(JsonValue root, ParseJson(text, path + " (header)"));
  if (!root.is_object()) return FormatError(path + ": header is not a JSON object");
  std::vector<std::string> seen;
  for (const auto& [name, v] : root.members()) {
    seen.push_back(name);
    if (name == "__metadata__") {
      if (!v.is_object()) return FormatError(path + ": __metadata__ is not an object");
      for (const auto& [k, mv] : v.members()) {
        if (!mv.is_string()) {
          return FormatError(path + ": __metadata__['" + k + "'] is not a string");
        }
        st->metadata_[k] = mv.as_string();
      }
      continue;
    }
    const std::string what = path + ": tensor '" + name + "'";
    if (!v.is_object()) return FormatError(what + ": entry is not an object");
    SafetensorsTensor t;
    t.name = name;
    auto dtype = v.GetString("dtype");
    if (!dtype.ok()) return dtype.status().WithContext(what + ": ");
    if (!ParseStDType(*dtype, &t.dtype)) {
      return Unsupported(what + ": dtype " + *dtype + " is not supported (F32, F16, BF16 are)");
    }
    const JsonValue* shape = v.Find("shape");
    const JsonValue* offs = v.Find("data_offsets");
    if (!shape || !shape->is_array() || shape->size() > 8) {
      return FormatError(what + ": 'shape' must be an array of at most 8 integers");
    }
    for (const JsonValue& d : shape->items()) {
      uint64_t dim = 0;
      if (!AsIndex(d, &dim) || dim > (1ull << 40)) {
        return FormatError(what + ": shape entry " + d.Dump() + " is not an integer in 0..2^40");
      }
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    uint64_t begin = 0, end = 0, elems = 0, want = 0;
    if (!offs || !offs->is_array() || offs->size() != 2 || !AsIndex(offs->items()[0], &begin) ||
        !AsIndex(offs->items()[1], &end) || end < begin) {
      return FormatError(what + ": 'data_offsets' must be [begin, end] with begin <= end");
    }
    if (end > data_size) {
      return FormatError(what + ": data_offsets [" + std::to_string(begin) + ", " +
                         std::to_string(end) + ") run past the data buffer (" +
                         std::to_string(data_size) + " bytes at file offset " +
                         std::to_string(data_start) + ")");
    }
    if (!ShapeElements(t.shape, &elems) || !DTypeBytes(t.dtype, elems, &want) ||
        want != end - begin) {
      return FormatError(what + ": " + std::to_string(end - begin) + " bytes for " + *dtype +
                         " " + ShapeString(t.shape) + ", expected " + std::to_string(want));
    }
    t.offset = data_start + begin;
    t.data = bytes.subspan(t.offset, end - begin);
    st->tensors_.push_back(std::move(t));
  }
  std::sort(seen.begin(), seen.end());
  if (auto dup = std::adjacent_find(seen.begin(), seen.end()); dup != seen.end()) {
    return FormatError(path + ": header names '" + *dup + "' twice");
  }
  std::vector<const SafetensorsTensor*> order;
  for (const auto& t : st->tensors_) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    if (order[k]->offset < order[k - 1]->offset + order[k - 1]->data.size()) {
      return FormatError(path + ": tensor '" + order[k]->name + "' at offset " +
                         std::to_string(order[k]->offset) + " overlaps tensor '" +
                         order[k - 1]->name + "'");
    }
  }
  st->file_ = std::move(file);
  return st;
}

const SafetensorsTensor* SafetensorsFile::Find(const std::string& name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

StatusOr<std::vector<uint8_t>> WriteSafetensors(const std::vector<SafetensorsTensor>& tensors) {
  std::string header = "{";
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const char* dt = StDTypeName(t.dtype);
    if (!dt) return InvalidArgument("safetensors: tensor '" + t.name + "' has an unsupported dtype");
    if (header.size() > 1) header += ",";
    AppendJsonString(&header, t.name);
    header += ":{\"dtype\":\"" + std::string(dt) + "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (d) header += ",";
      header += std::to_string(t.shape[d]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + t.data.size()) + "]}";
    offset += t.data.size();
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';
  std::vector<uint8_t> out(8);
  uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), header.begin(), header.end());
  for (const auto& t : tensors) out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

}  // namespace slm

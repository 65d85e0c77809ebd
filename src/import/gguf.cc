#include "import/gguf.h"

#include <algorithm>

#include "base/byte_reader.h"
#include "model/tensor.h"

namespace slm {
namespace {

// Limits that stop hostile headers before they allocate: a string is at most
// 16 MiB, a key 64 KiB, an array at most as many elements as bytes remain.
constexpr uint64_t kMaxString = 16u << 20;
constexpr uint64_t kMaxKey = 1u << 16;
constexpr uint32_t kMaxDims = 4;

Status ReadGgufString(ByteReader& r, std::string* s, const std::string& what, uint64_t max) {
  uint64_t n = 0;
  size_t at = r.offset();
  SLM_RETURN_IF_ERROR(r.ReadU64(&n, what + " length"));
  if (n > max || n > r.remaining()) {
    return r.ErrorAt(at, what + " length " + std::to_string(n) + " exceeds " +
                             (n > max ? "the limit " + std::to_string(max)
                                      : "the remaining " + std::to_string(r.remaining()) +
                                            " bytes"));
  }
  return r.ReadString(n, s, what);
}

// Size in bytes of a fixed-width element, 0 for string/array.
size_t ScalarWidth(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: return 8;
    default: return 0;
  }
}

bool IsFloat(GgufType t) { return t == GgufType::kF32 || t == GgufType::kF64; }

// Reads one fixed-width scalar into *i or *f.
Status ReadScalar(ByteReader& r, GgufType t, int64_t* i, double* f, const std::string& what) {
  size_t at = r.offset();
  switch (t) {
    case GgufType::kU8: case GgufType::kBool: { uint8_t v = 0; SLM_RETURN_IF_ERROR(r.ReadU8(&v, what)); *i = v; break; }
    case GgufType::kI8: { uint8_t v = 0; SLM_RETURN_IF_ERROR(r.ReadU8(&v, what)); *i = static_cast<int8_t>(v); break; }
    case GgufType::kU16: { uint16_t v = 0; SLM_RETURN_IF_ERROR(r.ReadU16(&v, what)); *i = v; break; }
    case GgufType::kI16: { uint16_t v = 0; SLM_RETURN_IF_ERROR(r.ReadU16(&v, what)); *i = static_cast<int16_t>(v); break; }
    case GgufType::kU32: { uint32_t v = 0; SLM_RETURN_IF_ERROR(r.ReadU32(&v, what)); *i = v; break; }
    case GgufType::kI32: { int32_t v = 0; SLM_RETURN_IF_ERROR(r.ReadI32(&v, what)); *i = v; break; }
    case GgufType::kU64: {
      uint64_t v = 0; SLM_RETURN_IF_ERROR(r.ReadU64(&v, what));
      if (v > static_cast<uint64_t>(INT64_MAX)) return r.ErrorAt(at, what + ": u64 value too large");
      *i = static_cast<int64_t>(v); break;
    }
    case GgufType::kI64: { int64_t v = 0; SLM_RETURN_IF_ERROR(r.ReadI64(&v, what)); *i = v; break; }
    case GgufType::kF32: { float v = 0; SLM_RETURN_IF_ERROR(r.ReadF32(&v, what)); *f = v; break; }
    case GgufType::kF64: { double v = 0; SLM_RETURN_IF_ERROR(r.ReadF64(&v, what)); *f = v; break; }
    default: return r.ErrorAt(at, what + ": not a scalar type");
  }
  return Status::Ok();
}

Status ReadValue(ByteReader& r, GgufType t, GgufValue* v, const std::string& key) {
  v->type = t;
  if (t == GgufType::kString) return ReadGgufString(r, &v->s, "value of '" + key + "'", kMaxString);
  if (t != GgufType::kArray) {
    if (ScalarWidth(t) == 0) {
      return r.Error("key '" + key + "': unknown value type " + std::to_string(static_cast<uint32_t>(t)));
    }
    return ReadScalar(r, t, &v->i, &v->f, "value of '" + key + "'");
  }
  uint32_t et = 0;
  uint64_t n = 0;
  SLM_RETURN_IF_ERROR(r.ReadU32(&et, "array element type of '" + key + "'"));
  size_t at = r.offset();
  SLM_RETURN_IF_ERROR(r.ReadU64(&n, "array length of '" + key + "'"));
  v->elem_type = static_cast<GgufType>(et);
  size_t width = ScalarWidth(v->elem_type);
  if (v->elem_type == GgufType::kArray) return r.ErrorAt(at, "key '" + key + "': nested arrays are not supported");
  if (v->elem_type != GgufType::kString && width == 0) {
    return r.ErrorAt(at - 4, "key '" + key + "': unknown array element type " + std::to_string(et));
  }
  // Every element takes at least one byte (strings at least 8): bound n by the file.
  uint64_t min_each = width ? width : 8;
  if (n > r.remaining() / min_each) {
    return r.ErrorAt(at, "key '" + key + "': array length " + std::to_string(n) +
                             " cannot fit in the remaining " + std::to_string(r.remaining()) + " bytes");
  }
  if (v->elem_type == GgufType::kString) {
    v->as.resize(n);
    for (uint64_t k = 0; k < n; ++k) {
      SLM_RETURN_IF_ERROR(ReadGgufString(r, &v->as[k], "'" + key + "'[" + std::to_string(k) + "]", kMaxString));
    }
  } else if (IsFloat(v->elem_type)) {
    v->af.resize(n);
    for (uint64_t k = 0; k < n; ++k) {
      int64_t unused;
      SLM_RETURN_IF_ERROR(ReadScalar(r, v->elem_type, &unused, &v->af[k], key));
    }
  } else {
    v->ai.resize(n);
    for (uint64_t k = 0; k < n; ++k) {
      double unused;
      SLM_RETURN_IF_ERROR(ReadScalar(r, v->elem_type, &v->ai[k], &unused, key));
    }
  }
  return Status::Ok();
}

}  // namespace

const char* GgufTypeName(GgufType t) {
  static const char* kNames[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                 "bool", "string", "array", "u64", "i64", "f64"};
  uint32_t i = static_cast<uint32_t>(t);
  return i < 13 ? kNames[i] : "unknown";
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  SLM_ASSIGN_OR_RETURN(auto f, MappedFile::Open(path));
  return Parse(std::move(f));
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::Parse(std::unique_ptr<MappedFile> file) {
  std::unique_ptr<GgufFile> g(new GgufFile());
  ByteReader r(file->bytes(), file->path());
  uint32_t magic = 0;
  SLM_RETURN_IF_ERROR(r.ReadU32(&magic, "magic"));
  if (magic != 0x46554747u) {  // "GGUF"
    return r.ErrorAt(0, "bad magic: expected \"GGUF\", found 0x" + [&] {
      char b[9]; snprintf(b, sizeof b, "%08x", magic); return std::string(b); }());
  }
  SLM_RETURN_IF_ERROR(r.ReadU32(&g->version_, "version"));
  if (g->version_ != 2 && g->version_ != 3) {
    return r.ErrorAt(4, "GGUF version " + std::to_string(g->version_) + ", expected 2 or 3");
  }
  uint64_t n_tensors = 0, n_kv = 0;
  SLM_RETURN_IF_ERROR(r.ReadU64(&n_tensors, "tensor count"));
  SLM_RETURN_IF_ERROR(r.ReadU64(&n_kv, "kv count"));
  // Each kv pair needs >= 12 bytes and each tensor info >= 24: bound the counts.
  if (n_kv > r.remaining() / 12) {
    return r.ErrorAt(16, "kv count " + std::to_string(n_kv) + " cannot fit in a file of " +
                             std::to_string(r.size()) + " bytes");
  }
  if (n_tensors > r.remaining() / 24) {
    return r.ErrorAt(8, "tensor count " + std::to_string(n_tensors) + " cannot fit in a file of " +
                            std::to_string(r.size()) + " bytes");
  }
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key;
    size_t at = r.offset();
    SLM_RETURN_IF_ERROR(ReadGgufString(r, &key, "key #" + std::to_string(k), kMaxKey));
    uint32_t type = 0;
    SLM_RETURN_IF_ERROR(r.ReadU32(&type, "type of '" + key + "'"));
    GgufValue v;
    SLM_RETURN_IF_ERROR(ReadValue(r, static_cast<GgufType>(type), &v, key));
    if (!g->kv_.emplace(key, std::move(v)).second) {
      return r.ErrorAt(at, "duplicate key '" + key + "'");
    }
  }
  uint64_t alignment = 32;
  if (const GgufValue* a = g->Find("general.alignment")) {
    if (a->is_array() || a->i <= 0 || a->i > 65536 || (a->i & (a->i - 1)) != 0) {
      return FormatError(file->path() + ": general.alignment must be a power of two <= 65536");
    }
    alignment = static_cast<uint64_t>(a->i);
  }
  g->tensors_.resize(n_tensors);
  for (uint64_t t = 0; t < n_tensors; ++t) {
    GgufTensorInfo& ti = g->tensors_[t];
    std::string what = "tensor #" + std::to_string(t);
    SLM_RETURN_IF_ERROR(ReadGgufString(r, &ti.name, what + " name", kMaxKey));
    what = "tensor '" + ti.name + "'";
    uint32_t n_dims = 0;
    size_t at = r.offset();
    SLM_RETURN_IF_ERROR(r.ReadU32(&n_dims, what + " n_dims"));
    if (n_dims == 0 || n_dims > kMaxDims) {
      return r.ErrorAt(at, what + ": n_dims " + std::to_string(n_dims) + ", expected 1..4");
    }
    ti.ne.resize(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      at = r.offset();
      SLM_RETURN_IF_ERROR(r.ReadU64(&ne, what + " ne"));
      if (ne > (1ull << 40)) return r.ErrorAt(at, what + ": dimension " + std::to_string(ne) + " is absurd");
      ti.ne[d] = static_cast<int64_t>(ne);
    }
    at = r.offset();
    SLM_RETURN_IF_ERROR(r.ReadU32(&ti.ggml_type, what + " type"));
    DTypeInfo info;
    if (!GetDTypeInfo(ti.ggml_type, &info)) {
      return Unsupported(r.source() + ": offset " + std::to_string(at) + ": " + what +
                         ": ggml type " + std::to_string(ti.ggml_type) +
                         " is not supported (f32, f16, bf16, q4_0, q8_0, q4_k, q6_k are)");
    }
    SLM_RETURN_IF_ERROR(r.ReadU64(&ti.offset, what + " offset"));
    uint64_t n = 0;
    if (!ShapeElements(ti.ne, &n) || !DTypeBytes(static_cast<DType>(ti.ggml_type), n, &ti.size)) {
      return r.ErrorAt(at, what + ": shape " + ShapeString(ti.ne) + " is not a whole number of " +
                               info.name + " blocks or overflows");
    }
    if (ti.offset % alignment != 0) {
      return r.ErrorAt(at + 4, what + ": data offset " + std::to_string(ti.offset) +
                                   " is not a multiple of the alignment " + std::to_string(alignment));
    }
  }
  uint64_t data_start = (r.offset() + alignment - 1) / alignment * alignment;
  if (n_tensors > 0 && data_start > r.size()) {
    return r.Error("data section at " + std::to_string(data_start) + " starts past the end of the file");
  }
  // Bounds and overlap: sort by offset and require each to end before the next.
  std::vector<GgufTensorInfo*> order;
  for (auto& ti : g->tensors_) order.push_back(&ti);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  uint64_t prev_end = 0;
  std::string prev_name;
  for (GgufTensorInfo* ti : order) {
    uint64_t begin = 0, end = 0;
    if (!CheckedAdd(data_start, ti->offset, &begin) || !CheckedAdd(begin, ti->size, &end) ||
        end > r.size()) {
      return FormatError(r.source() + ": tensor '" + ti->name + "' at data offset " + std::to_string(ti->offset) +
                         " (file offset " + std::to_string(data_start) + " + " + std::to_string(ti->offset) +
                         ", " + std::to_string(ti->size) + " bytes) ends past the file size " +
                         std::to_string(r.size()));
    }
    if (ti->offset < prev_end) {
      return FormatError(r.source() + ": tensor '" + ti->name + "' at data offset " +
                         std::to_string(ti->offset) + " overlaps tensor '" + prev_name + "'");
    }
    prev_end = ti->offset + ti->size;
    prev_name = ti->name;
    ti->data = r.bytes().subspan(begin, ti->size);
  }
  g->file_ = std::move(file);
  return g;
}

const GgufValue* GgufFile::Find(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

namespace {
Status WrongType(const std::string& path, const std::string& key, const GgufValue& v, const char* want) {
  return FormatError(path + ": key '" + key + "' has type " + GgufTypeName(v.type) +
                     (v.is_array() ? std::string("[") + GgufTypeName(v.elem_type) + "]" : "") +
                     ", expected " + want);
}
}  // namespace

StatusOr<std::string> GgufFile::GetString(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound(path() + ": missing key '" + key + "'");
  if (v->type != GgufType::kString) return WrongType(path(), key, *v, "string");
  return v->s;
}

StatusOr<int64_t> GgufFile::GetInt(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound(path() + ": missing key '" + key + "'");
  if (v->is_array() || v->type == GgufType::kString || IsFloat(v->type)) {
    return WrongType(path(), key, *v, "an integer");
  }
  return v->i;
}

StatusOr<double> GgufFile::GetFloat(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound(path() + ": missing key '" + key + "'");
  if (IsFloat(v->type)) return v->f;
  if (v->is_array() || v->type == GgufType::kString) return WrongType(path(), key, *v, "a number");
  return static_cast<double>(v->i);
}

StatusOr<const std::vector<std::string>*> GgufFile::GetStringArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound(path() + ": missing key '" + key + "'");
  if (!v->is_array() || v->elem_type != GgufType::kString) return WrongType(path(), key, *v, "string[]");
  return &v->as;
}

}  // namespace slm

#include "adapter/inspect.h"

#include <cstdio>

namespace slm {
namespace {

uint64_t Leb128Size(uint64_t v) {
  uint64_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

uint64_t Elements(const TensorDelta& d) {
  uint64_t n = 0;
  ShapeElements(d.shape, &n);
  return n;
}

std::string Fmt(const char* f, double v) {
  char b[64];
  snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

uint64_t DeltaStoredBytes(const TensorDelta& d) {
  switch (d.kind) {
    case DeltaKind::kRaw:
      return d.raw.bytes().size();
    case DeltaKind::kSparse: {
      uint64_t n = 4 * d.values.size();
      for (size_t k = 0; k < d.indices.size(); ++k)
        n += Leb128Size(k == 0 ? d.indices[0] : d.indices[k] - d.indices[k - 1]);
      return n;
    }
    case DeltaKind::kLowRank:
      return 4 * (d.a.size() + d.b.size());
  }
  return 0;
}

JsonValue AdapterToJson(const AdapterFile& f) {
  const Adapter& a = f.adapter;
  JsonValue o = JsonValue::Object();
  o.Set("name", JsonValue::String(a.name));
  o.Set("digest", JsonValue::String(DigestHex(f.digest)));
  o.Set("bytes", JsonValue::Number(static_cast<double>(f.bytes)));
  o.Set("base_compat_digest", JsonValue::String(DigestHex(a.base_compat)));
  o.Set("base_tokenizer_digest", JsonValue::String(DigestHex(a.base_tokenizer)));
  JsonValue lin = JsonValue::Object();
  JsonValue parents = JsonValue::Array();
  for (const std::string& p : a.lineage.parents) parents.Append(JsonValue::String(p));
  lin.Set("parents", std::move(parents));
  lin.Set("method", JsonValue::String(a.lineage.method));
  lin.Set("notes", JsonValue::String(a.lineage.notes));
  o.Set("lineage", std::move(lin));
  JsonValue ds = JsonValue::Array();
  uint64_t stored = 0, dense = 0;
  for (const TensorDelta& d : a.deltas) {
    JsonValue e = JsonValue::Object();
    e.Set("target", JsonValue::String(d.target));
    e.Set("kind", JsonValue::String(DeltaKindName(d.kind)));
    JsonValue shape = JsonValue::Array();
    for (int64_t x : d.shape) shape.Append(JsonValue::Number(static_cast<double>(x)));
    e.Set("shape", std::move(shape));
    e.Set("scale", JsonValue::Number(d.scale));
    if (d.kind == DeltaKind::kRaw) e.Set("dtype", JsonValue::String(DTypeName(d.raw.dtype)));
    if (d.kind == DeltaKind::kLowRank) e.Set("rank", JsonValue::Number(d.rank));
    if (d.kind == DeltaKind::kSparse) {
      e.Set("nnz", JsonValue::Number(static_cast<double>(d.indices.size())));
      e.Set("density", JsonValue::Number(static_cast<double>(d.indices.size()) /
                                         static_cast<double>(Elements(d))));
    }
    const uint64_t b = DeltaStoredBytes(d);
    e.Set("bytes", JsonValue::Number(static_cast<double>(b)));
    e.Set("dense_f32_bytes", JsonValue::Number(static_cast<double>(4 * Elements(d))));
    stored += b;
    dense += 4 * Elements(d);
    ds.Append(std::move(e));
  }
  o.Set("deltas", std::move(ds));
  o.Set("delta_bytes", JsonValue::Number(static_cast<double>(stored)));
  o.Set("dense_f32_bytes", JsonValue::Number(static_cast<double>(dense)));
  return o;
}

std::string AdapterToText(const AdapterFile& f) {
  const Adapter& a = f.adapter;
  std::string s;
  s += "name              " + a.name + "\n";
  s += "digest            " + DigestHex(f.digest) + "\n";
  s += "bytes             " + std::to_string(f.bytes) + "\n";
  s += "base compat       " + DigestHex(a.base_compat) + "\n";
  s += "base tokenizer    " + DigestHex(a.base_tokenizer) + "\n";
  s += "method            " + a.lineage.method + "\n";
  for (const std::string& p : a.lineage.parents) s += "parent            " + p + "\n";
  if (!a.lineage.notes.empty()) s += "notes             " + a.lineage.notes + "\n";
  s += "deltas            " + std::to_string(a.deltas.size()) + "\n";
  uint64_t stored = 0, dense = 0;
  for (const TensorDelta& d : a.deltas) {
    std::string detail;
    switch (d.kind) {
      case DeltaKind::kRaw:
        detail = std::string("dtype ") + DTypeName(d.raw.dtype);
        break;
      case DeltaKind::kSparse:
        detail =
            "nnz " + std::to_string(d.indices.size()) + " density " +
            Fmt("%.4g", static_cast<double>(d.indices.size()) / static_cast<double>(Elements(d)));
        break;
      case DeltaKind::kLowRank:
        detail = "rank " + std::to_string(d.rank);
        break;
    }
    const uint64_t b = DeltaStoredBytes(d);
    stored += b;
    dense += 4 * Elements(d);
    char line[512];
    snprintf(line, sizeof line, "  %-28s %-8s %-14s %-28s scale %-10s %10llu bytes\n",
             d.target.c_str(), DeltaKindName(d.kind), ShapeString(d.shape).c_str(), detail.c_str(),
             Fmt("%.6g", d.scale).c_str(), static_cast<unsigned long long>(b));
    s += line;
  }
  s += "delta bytes       " + std::to_string(stored) + " (dense f32: " + std::to_string(dense) +
       ")\n";
  return s;
}

}  // namespace slm

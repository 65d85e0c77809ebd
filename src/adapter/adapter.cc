// DeltaKindName and the base-independent structure checks of an Adapter.
#include "adapter/adapter.h"

#include <cmath>
#include <set>

#include "adapter/adapter_package.h"
#include "quant/quant.h"

namespace slm {

const char* DeltaKindName(DeltaKind k) {
  switch (k) {
    case DeltaKind::kRaw:
      return "raw";
    case DeltaKind::kSparse:
      return "sparse";
    case DeltaKind::kLowRank:
      return "lowrank";
  }
  return "unknown";
}

namespace {

Status CheckFinite(std::span<const float> v, const std::string& what) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return InvalidArgument(what + ": value #" + std::to_string(i) + " is " +
                             (std::isnan(v[i]) ? "NaN" : "infinite") + " (deltas must be finite)");
    }
  }
  return Status::Ok();
}

Status CheckRaw(const TensorDelta& d, uint64_t n, const std::string& what) {
  if (!quant::IsSupported(d.raw.dtype)) {
    return Unsupported(what + ": raw dtype " + DTypeName(d.raw.dtype) +
                       " (expected f32, f16, bf16, q8_0, q4_0, q4_k or q6_k)");
  }
  DTypeInfo info;
  GetDTypeInfo(static_cast<uint32_t>(d.raw.dtype), &info);
  const int64_t row = d.shape.back();
  uint64_t expect = 0;
  if (row % info.block_size != 0 || !DTypeBytes(d.raw.dtype, n, &expect)) {
    return InvalidArgument(what + ": rows of " + std::to_string(row) + " are not whole " +
                           info.name + " blocks of " + std::to_string(info.block_size));
  }
  if (d.raw.bytes().size() != expect) {
    return InvalidArgument(what + ": raw delta has " + std::to_string(d.raw.bytes().size()) +
                           " bytes, expected " + std::to_string(expect) + " for " + info.name +
                           " " + ShapeString(d.shape));
  }
  // Decode row by row to check every value is finite.
  std::vector<float> buf(static_cast<size_t>(row));
  const uint64_t rows = n / static_cast<uint64_t>(row);
  const uint64_t row_bytes = expect / rows;
  for (uint64_t r = 0; r < rows; ++r) {
    quant::DequantizeRow(d.raw.dtype, d.raw.bytes().subspan(r * row_bytes, row_bytes), buf);
    Status s = CheckFinite(buf, what + " row " + std::to_string(r));
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status CheckAdapterStructure(const Adapter& a) {
  std::set<std::string> seen;
  for (const TensorDelta& d : a.deltas) {
    const std::string what =
        "adapter '" + a.name + "': delta for '" + d.target + "' (" + DeltaKindName(d.kind) + ")";
    if (d.target.empty() || d.target.size() > 1024) {
      return InvalidArgument("adapter '" + a.name + "': target name of " +
                             std::to_string(d.target.size()) + " bytes, expected 1..1024");
    }
    if (!seen.insert(d.target).second) return InvalidArgument(what + ": target appears twice");
    if (d.shape.empty() || d.shape.size() > 4) {
      return InvalidArgument(what + ": " + std::to_string(d.shape.size()) + " dims, expected 1..4");
    }
    uint64_t n = 0;
    for (int64_t x : d.shape) {
      if (x < 1 || x > (int64_t{1} << 40))
        return InvalidArgument(what + ": shape " + ShapeString(d.shape) +
                               " has a dim outside 1..2^40");
    }
    if (!ShapeElements(d.shape, &n)) return InvalidArgument(what + ": shape overflows");
    if (!std::isfinite(d.scale)) return InvalidArgument(what + ": scale is not finite");
    switch (d.kind) {
      case DeltaKind::kRaw: {
        Status s = CheckRaw(d, n, what);
        if (!s.ok()) return s;
        break;
      }
      case DeltaKind::kSparse: {
        if (d.indices.size() != d.values.size()) {
          return InvalidArgument(what + ": " + std::to_string(d.indices.size()) + " indices but " +
                                 std::to_string(d.values.size()) + " values");
        }
        for (size_t k = 0; k < d.indices.size(); ++k) {
          if (d.indices[k] >= n) {
            return InvalidArgument(what + ": index #" + std::to_string(k) + " = " +
                                   std::to_string(d.indices[k]) + " is outside the " +
                                   std::to_string(n) + " elements of " + ShapeString(d.shape));
          }
          if (k > 0 && d.indices[k] <= d.indices[k - 1]) {
            return InvalidArgument(what + ": index #" + std::to_string(k) + " = " +
                                   std::to_string(d.indices[k]) + " after " +
                                   std::to_string(d.indices[k - 1]) +
                                   " (indices must be ascending and unique)");
          }
        }
        Status s = CheckFinite(d.values, what);
        if (!s.ok()) return s;
        break;
      }
      case DeltaKind::kLowRank: {
        if (d.shape.size() != 2) {
          return InvalidArgument(what + ": low-rank needs a matrix target, shape is " +
                                 ShapeString(d.shape));
        }
        const uint64_t out = static_cast<uint64_t>(d.shape[0]);
        const uint64_t in = static_cast<uint64_t>(d.shape[1]);
        if (d.rank < 1 || static_cast<uint32_t>(d.rank) > adapter_pkg::kMaxRank) {
          return InvalidArgument(what + ": rank " + std::to_string(d.rank) + ", expected 1.." +
                                 std::to_string(adapter_pkg::kMaxRank));
        }
        const uint64_t r = static_cast<uint64_t>(d.rank);
        if (d.a.size() != r * in) {
          return InvalidArgument(what + ": A has " + std::to_string(d.a.size()) +
                                 " values, expected [" + std::to_string(r) + ", " +
                                 std::to_string(in) + "] = " + std::to_string(r * in));
        }
        if (d.b.size() != out * r) {
          return InvalidArgument(what + ": B has " + std::to_string(d.b.size()) +
                                 " values, expected [" + std::to_string(out) + ", " +
                                 std::to_string(r) + "] = " + std::to_string(out * r));
        }
        Status s = CheckFinite(d.a, what + " A");
        if (s.ok()) s = CheckFinite(d.b, what + " B");
        if (!s.ok()) return s;
        break;
      }
      default:
        return InvalidArgument(what + ": unknown kind " +
                               std::to_string(static_cast<uint32_t>(d.kind)));
    }
  }
  return Status::Ok();
}

}  // namespace slm

#include "adapter/diff.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numeric>

#include "adapter/validate.h"
#include "base/sha256.h"
#include "import/dequant.h"
#include "quant/quant.h"

namespace slm {
namespace {

StatusOr<std::vector<float>> ToF32(const TensorData& t, const char* which) {
  uint64_t n = 0;
  if (!ShapeElements(t.shape, &n)) {
    return InvalidArgument(std::string(which) + " tensor '" + t.name + "': bad shape " +
                           ShapeString(t.shape));
  }
  std::vector<float> out;
  Status s = DequantizeToF32(t.dtype, t.bytes(), n, &out);
  if (!s.ok()) return s.WithContext(std::string(which) + " tensor '" + t.name + "'");
  return out;
}

Status CompareConfigs(const ModelConfig& b, const ModelConfig& c) {
  auto mismatch = [](const char* field, const std::string& x, const std::string& y) {
    return InvalidArgument(std::string("base and child configs differ: ") + field + " is " + x +
                           " in the base, " + y + " in the child");
  };
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.9g", v);
    return std::string(buf);
  };
  if (b.arch != c.arch) return mismatch("arch", b.arch, c.arch);
  const std::pair<const char*, std::pair<int64_t, int64_t>> ints[] = {
      {"dim", {b.dim, c.dim}},
      {"hidden_dim", {b.hidden_dim, c.hidden_dim}},
      {"n_layers", {b.n_layers, c.n_layers}},
      {"n_heads", {b.n_heads, c.n_heads}},
      {"n_kv_heads", {b.n_kv_heads, c.n_kv_heads}},
      {"head_dim", {b.head_dim, c.head_dim}},
      {"vocab_size", {b.vocab_size, c.vocab_size}},
      {"rope_style (0 interleaved, 1 half-split: q/k rows are ordered differently)",
       {static_cast<int64_t>(b.rope_style), static_cast<int64_t>(c.rope_style)}},
      {"tied_output", {b.tied_output, c.tied_output}},
      {"qkv_bias", {b.qkv_bias, c.qkv_bias}},
  };
  for (const auto& [f, v] : ints) {
    if (v.first != v.second) return mismatch(f, std::to_string(v.first), std::to_string(v.second));
  }
  if (b.norm_eps != c.norm_eps) return mismatch("norm_eps", num(b.norm_eps), num(c.norm_eps));
  if (b.rope_theta != c.rope_theta) {
    return mismatch("rope_theta", num(b.rope_theta), num(c.rope_theta));
  }
  return Status::Ok();
}

// Bytes of the LEB128 gap encoding of ascending indices (adapter_package.h).
uint64_t Leb128GapBytes(const std::vector<uint64_t>& idx) {
  uint64_t bytes = 0, prev = 0;
  for (size_t k = 0; k < idx.size(); ++k) {
    uint64_t g = k == 0 ? idx[0] : idx[k] - prev;
    prev = idx[k];
    do {
      ++bytes;
      g >>= 7;
    } while (g != 0);
  }
  return bytes;
}

// Smallest count whose leading squared values (sorted descending) reach
// energy * total; at least 1, at most sq.size().
size_t CountForEnergy(const std::vector<double>& sq_desc, double total, double energy) {
  const double want = energy * total * (1.0 - 1e-12);
  double acc = 0;
  for (size_t i = 0; i < sq_desc.size(); ++i) {
    acc += sq_desc[i];
    if (acc >= want) return i + 1;
  }
  return std::max<size_t>(1, sq_desc.size());
}

struct Work {
  const std::string& name;
  const std::vector<int64_t>& shape;
  const std::vector<double>& delta;  // child - base, double
  double norm2 = 0;                  // ||delta||^2
};

// Dense raw delta in `dtype`; returns the decoded values in *stored.
Status MakeRaw(const Work& w, DType dtype, TensorDelta* d, DiffRow* row,
               std::vector<double>* stored) {
  const uint64_t n = w.delta.size();
  std::vector<float> f(n);
  for (uint64_t i = 0; i < n; ++i) f[i] = static_cast<float>(w.delta[i]);
  const int64_t cols = w.shape.back();
  if (dtype == DType::kQ8_0 && cols % 32 != 0) {
    row->note = "q8_0 -> f16 (rows of " + std::to_string(cols) + " are not whole 32-blocks)";
    dtype = DType::kF16;
  }
  d->kind = DeltaKind::kRaw;
  d->raw.dtype = dtype;
  d->raw.shape = w.shape;
  d->raw.name = w.name;
  std::vector<float> back(n);
  if (dtype == DType::kF32) {
    d->raw.owned.resize(n * 4);
    std::memcpy(d->raw.owned.data(), f.data(), n * 4);
    back = f;
  } else {
    uint64_t bytes = 0;
    if (!DTypeBytes(dtype, n, &bytes)) {
      return InvalidArgument(w.name + ": cannot store " + std::to_string(n) + " values as " +
                             DTypeName(dtype));
    }
    d->raw.owned.resize(bytes);
    const uint64_t rows = n / static_cast<uint64_t>(cols);
    const uint64_t row_bytes = bytes / rows;
    for (uint64_t r = 0; r < rows; ++r) {
      std::span<const float> src(f.data() + r * cols, static_cast<size_t>(cols));
      std::span<uint8_t> dst(d->raw.owned.data() + r * row_bytes, row_bytes);
      quant::QuantizeRow(dtype, src, dst);
      quant::DequantizeRow(dtype, dst,
                           std::span<float>(back.data() + r * cols, static_cast<size_t>(cols)));
    }
  }
  stored->assign(back.begin(), back.end());
  row->kind = DeltaKind::kRaw;
  row->kept = n;
  row->bytes_stored = d->raw.owned.size();
  return Status::Ok();
}

void MakeSparse(const Work& w, const DiffOptions& o, TensorDelta* d, DiffRow* row,
                std::vector<double>* stored) {
  const uint64_t n = w.delta.size();
  std::vector<uint64_t> order(n);
  std::iota(order.begin(), order.end(), uint64_t{0});
  // A strict total order (magnitude, then index), so the kept set is unique
  // whatever the sort algorithm.
  auto larger = [&](uint64_t x, uint64_t y) {
    const double ax = std::fabs(w.delta[x]), ay = std::fabs(w.delta[y]);
    return ax != ay ? ax > ay : x < y;
  };
  uint64_t keep;
  if (o.energy > 0) {
    std::sort(order.begin(), order.end(), larger);
    std::vector<double> sq(n);
    for (uint64_t i = 0; i < n; ++i) sq[i] = w.delta[order[i]] * w.delta[order[i]];
    keep = CountForEnergy(sq, w.norm2, o.energy);
  } else {
    keep = static_cast<uint64_t>(std::llround(o.density * static_cast<double>(n)));
    keep = std::clamp<uint64_t>(keep, 1, n);
    std::nth_element(order.begin(), order.begin() + static_cast<int64_t>(keep - 1), order.end(),
                     larger);
  }
  std::vector<uint64_t> idx(order.begin(), order.begin() + static_cast<int64_t>(keep));
  std::sort(idx.begin(), idx.end());
  d->kind = DeltaKind::kSparse;
  d->indices = idx;
  d->values.resize(keep);
  stored->assign(n, 0.0);
  for (uint64_t k = 0; k < keep; ++k) {
    d->values[k] = static_cast<float>(w.delta[idx[k]]);
    (*stored)[idx[k]] = d->values[k];
  }
  row->kind = DeltaKind::kSparse;
  row->kept = keep;
  row->bytes_stored = Leb128GapBytes(idx) + 4 * keep;
}

void MakeLowRank(const Work& w, const DiffOptions& o, TensorDelta* d, DiffRow* row,
                 std::vector<double>* stored) {
  const int64_t m = w.shape[0], n = w.shape[1];
  const int32_t full = static_cast<int32_t>(std::min(m, n));
  SvdResult svd;
  int32_t r = 0;
  if (o.energy > 0) {
    // Grow the computed rank until the spectrum reaches the energy target
    // (small matrices get their exact full spectrum at once: TruncatedSvd is
    // exact for them anyway, so no work is repeated).
    for (int32_t k = full <= 128 ? full : std::min(full, 8);; k = std::min(full, 2 * k)) {
      svd = TruncatedSvd(w.delta, m, n, k, o.svd);
      std::vector<double> sq(svd.s.size());
      for (size_t i = 0; i < sq.size(); ++i) sq[i] = svd.s[i] * svd.s[i];
      double acc = std::accumulate(sq.begin(), sq.end(), 0.0);
      if (acc >= o.energy * w.norm2 * (1.0 - 1e-12) || k == full) {
        r = static_cast<int32_t>(CountForEnergy(sq, w.norm2, o.energy));
        break;
      }
    }
  } else {
    r = std::min(o.rank, full);
    svd = TruncatedSvd(w.delta, m, n, r, o.svd);
  }
  r = std::min(r, svd.rank());
  TruncateSvd(&svd, r);
  d->kind = DeltaKind::kLowRank;
  d->rank = r;
  d->scale = 1.0f;
  d->b.resize(static_cast<size_t>(m * r));
  d->a.resize(static_cast<size_t>(r * n));
  for (int64_t i = 0; i < m; ++i) {
    for (int32_t j = 0; j < r; ++j) {
      d->b[static_cast<size_t>(i * r + j)] =
          static_cast<float>(svd.u[static_cast<size_t>(i * r + j)] * svd.s[static_cast<size_t>(j)]);
    }
  }
  for (size_t i = 0; i < d->a.size(); ++i) d->a[i] = static_cast<float>(svd.vt[i]);
  stored->assign(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int32_t j = 0; j < r; ++j) {
      const double bij = d->b[static_cast<size_t>(i * r + j)];
      const float* aj = d->a.data() + static_cast<size_t>(j) * n;
      double* si = stored->data() + i * n;
      for (int64_t c = 0; c < n; ++c) si[c] += bij * aj[c];
    }
  }
  row->kind = DeltaKind::kLowRank;
  row->rank = r;
  row->kept = 0;
  row->bytes_stored = 4 * static_cast<uint64_t>(r) * static_cast<uint64_t>(m + n);
}

}  // namespace

Status ParseDiffKind(const std::string& s, DeltaKind* out) {
  if (s == "raw") {
    *out = DeltaKind::kRaw;
  } else if (s == "sparse") {
    *out = DeltaKind::kSparse;
  } else if (s == "lowrank" || s == "low-rank") {
    *out = DeltaKind::kLowRank;
  } else {
    return InvalidArgument("unknown delta kind '" + s + "' (expected raw, sparse or lowrank)");
  }
  return Status::Ok();
}

StatusOr<DiffReport> DiffModels(const ModelBundle& base, const ModelBundle& child,
                                const DiffOptions& o) {
  // Options first.
  if (o.energy < 0 || o.energy > 1 || std::isnan(o.energy)) {
    return InvalidArgument("energy must be in (0, 1], got " + std::to_string(o.energy));
  }
  if (o.kind == DeltaKind::kRaw) {
    if (o.raw_dtype != DType::kF32 && o.raw_dtype != DType::kF16 && o.raw_dtype != DType::kQ8_0) {
      return InvalidArgument(std::string("raw deltas are stored as f32, f16 or q8_0, not ") +
                             DTypeName(o.raw_dtype));
    }
  } else if (o.kind == DeltaKind::kSparse) {
    if (o.energy == 0 && !(o.density > 0 && o.density <= 1)) {
      return InvalidArgument("sparse needs a density in (0, 1] or an energy, got density " +
                             std::to_string(o.density));
    }
  } else if (o.kind == DeltaKind::kLowRank) {
    if (o.energy == 0 && o.rank <= 0) {
      return InvalidArgument("lowrank needs a rank > 0 or an energy, got rank " +
                             std::to_string(o.rank));
    }
  } else {
    return InvalidArgument("unknown delta kind");
  }

  SLM_RETURN_IF_ERROR(CompareConfigs(base.config, child.config));
  const Digest tb = TokenizerDigest(base), tc = TokenizerDigest(child);
  if (tb != tc) {
    return InvalidArgument("base and child tokenizers differ: base tokenizer digest " +
                           DigestHex(tb) + ", child " + DigestHex(tc) +
                           (base.tokenizer.pieces.empty() || child.tokenizer.pieces.empty()
                                ? " (one model has no tokenizer: pass --tokenizer)"
                                : ""));
  }
  std::map<std::string, const TensorData*> by_name;
  for (const TensorData& t : child.tensors) by_name[t.name] = &t;
  for (const TensorData& t : base.tensors) {
    if (!by_name.count(t.name)) {
      return InvalidArgument("tensor '" + t.name + "' is in the base but not in the child");
    }
  }
  std::map<std::string, const TensorData*> base_by_name;
  for (const TensorData& t : base.tensors) base_by_name[t.name] = &t;
  for (const auto& [name, t] : by_name) {
    auto it = base_by_name.find(name);
    if (it == base_by_name.end()) {
      return InvalidArgument("tensor '" + name + "' is in the child but not in the base");
    }
    if (it->second->shape != t->shape) {
      return InvalidArgument("tensor '" + name + "': base shape " + ShapeString(it->second->shape) +
                             ", child shape " + ShapeString(t->shape));
    }
  }

  DiffReport rep;
  double err2_total = 0, norm2_total = 0;
  for (const auto& [name, bt] : base_by_name) {  // sorted by name
    const TensorData* ct = by_name[name];
    SLM_ASSIGN_OR_RETURN(std::vector<float> bf, ToF32(*bt, "base"));
    SLM_ASSIGN_OR_RETURN(std::vector<float> cf, ToF32(*ct, "child"));
    if (std::memcmp(bf.data(), cf.data(), bf.size() * 4) == 0) {
      ++rep.unchanged;
      continue;
    }
    std::vector<double> delta(bf.size());
    double norm2 = 0;
    for (size_t i = 0; i < bf.size(); ++i) {
      delta[i] = static_cast<double>(cf[i]) - static_cast<double>(bf[i]);
      norm2 += delta[i] * delta[i];
    }
    if (!std::isfinite(norm2)) {
      return InvalidArgument("tensor '" + name + "': the delta is not finite (NaN or infinite " +
                             "values in the base or the child)");
    }
    if (norm2 == 0) {  // e.g. +0 vs -0 only
      ++rep.unchanged;
      continue;
    }
    Work w{name, bt->shape, delta, norm2};
    TensorDelta d;
    d.target = name;
    d.shape = bt->shape;
    DiffRow row;
    row.target = name;
    row.shape = bt->shape;
    row.elements = bf.size();
    row.dense_bytes = 4 * row.elements;
    row.delta_norm = std::sqrt(norm2);
    std::vector<double> stored;
    const bool vector = bt->shape.size() != 2;
    const bool embedding = name == "token_embd.weight";
    if (o.kind == DeltaKind::kRaw || vector || embedding) {
      DType dt = o.kind == DeltaKind::kRaw && !vector ? o.raw_dtype : DType::kF32;
      SLM_RETURN_IF_ERROR(MakeRaw(w, dt, &d, &row, &stored));
      if (o.kind != DeltaKind::kRaw) row.note = vector ? "1-D: raw" : "embedding: raw";
      if (o.kind == DeltaKind::kRaw && vector && o.raw_dtype != DType::kF32) row.note = "1-D: f32";
    } else if (o.kind == DeltaKind::kSparse) {
      MakeSparse(w, o, &d, &row, &stored);
    } else {
      MakeLowRank(w, o, &d, &row, &stored);
    }
    double err2 = 0;
    for (size_t i = 0; i < delta.size(); ++i) {
      const double e = delta[i] - stored[i];
      err2 += e * e;
    }
    row.rel_error = std::sqrt(err2 / norm2);
    err2_total += err2;
    norm2_total += norm2;
    rep.total_stored += row.bytes_stored;
    rep.total_dense += row.dense_bytes;
    rep.rows.push_back(std::move(row));
    rep.adapter.deltas.push_back(std::move(d));
  }
  rep.total_rel_error = norm2_total > 0 ? std::sqrt(err2_total / norm2_total) : 0.0;

  Adapter& a = rep.adapter;
  a.base_compat = CompatibilityDigest(base);
  a.base_tokenizer = tb;
  a.name =
      !o.name.empty() ? o.name : child.provenance.source_path + " - " + base.provenance.source_path;
  a.lineage.parents = {DigestHex(a.base_compat), DigestHex(CompatibilityDigest(child))};
  std::string method = std::string("diff ") + DeltaKindName(o.kind);
  char buf[64];
  if (o.kind == DeltaKind::kRaw) {
    method += std::string(" ") + DTypeName(o.raw_dtype);
  } else if (o.energy > 0) {
    std::snprintf(buf, sizeof(buf), " energy=%.9g", o.energy);
    method += buf;
  } else if (o.kind == DeltaKind::kSparse) {
    std::snprintf(buf, sizeof(buf), " density=%.9g", o.density);
    method += buf;
  } else {
    method += " rank=" + std::to_string(o.rank);
  }
  a.lineage.method = method;
  a.lineage.notes = o.notes;
  return rep;
}

std::string FormatDiffReport(const DiffReport& r) {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%-28s %-8s %10s %11s %12s %12s  %s\n", "target", "kind",
                "rank/kept", "rel.error", "stored", "dense f32", "note");
  out += buf;
  for (const DiffRow& row : r.rows) {
    std::string rk =
        row.kind == DeltaKind::kLowRank ? std::to_string(row.rank) : std::to_string(row.kept);
    std::snprintf(buf, sizeof(buf), "%-28s %-8s %10s %11.3e %12llu %12llu  %s\n",
                  row.target.c_str(), DeltaKindName(row.kind), rk.c_str(), row.rel_error,
                  static_cast<unsigned long long>(row.bytes_stored),
                  static_cast<unsigned long long>(row.dense_bytes), row.note.c_str());
    out += buf;
  }
  const double saved =
      r.total_dense > 0
          ? 100.0 * (1.0 - static_cast<double>(r.total_stored) / static_cast<double>(r.total_dense))
          : 0.0;
  std::snprintf(buf, sizeof(buf),
                "%zu tensors changed, %d unchanged (omitted); stored %llu bytes vs %llu dense "
                "f32 (%.1f%% saved); total relative error %.3e\n",
                r.rows.size(), r.unchanged, static_cast<unsigned long long>(r.total_stored),
                static_cast<unsigned long long>(r.total_dense), saved, r.total_rel_error);
  out += buf;
  return out;
}

}  // namespace slm

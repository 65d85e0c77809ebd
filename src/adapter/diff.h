// Creating adapters from two models (slm adapter diff BASE CHILD ...): the
// child's weights as base + per-tensor deltas, raw, sparse or low-rank.
//
// Signatures (for the CLI):
//   StatusOr<DiffReport> DiffModels(const ModelBundle& base, const ModelBundle& child,
//                                   const DiffOptions& o);
//   std::string FormatDiffReport(const DiffReport& r);   // the table the CLI prints
//   Status ParseDiffKind(const std::string& s, DeltaKind* out);  // "raw"|"sparse"|"lowrank"
// BASE and CHILD are whatever ImportModel returns (.slm, GGUF, llama2.c, HF
// folder); every tensor is decoded to f32 first (quantized ones through
// src/quant), and the delta Delta = child - base is formed in double.
//
// Refused, naming expected vs found: different configs (the first differing
// field; max_seq_len is not compared), different tokenizers (both digests),
// a tensor present in one model only, different shapes. Tensors whose f32
// values are identical in both are omitted (counted in `unchanged`).
//
// Per kind, for a matrix target W [out, in]:
//   raw      the dense Delta in raw_dtype (f32, f16 or q8_0; q8_0 needs rows of
//            whole 32-blocks, otherwise that tensor falls back to f16, noted);
//   sparse   the round(density * out * in) largest |Delta| entries (at least
//            one); ties broken by the lower flat index; stored as ascending
//            flat indices + f32 values;
//   lowrank  truncated SVD (svd.h): B = U_r diag(s_r) [out, r], A = V_r^T
//            [r, in], scale 1; the rank is clamped to min(out, in).
//   energy E in (0, 1] (sparse or lowrank) replaces density / rank: per tensor
//            the smallest entry count / rank whose kept squared Frobenius norm
//            is >= E * ||Delta||_F^2.
// 1-D tensors (norms, biases) and token_embd.weight are always raw (f32 for
// the sparse / lowrank kinds), and the report says so.
//
// The reported error is ||Delta - stored||_F / ||Delta||_F, with `stored`
// decoded exactly as the runtime will see it (f16/q8_0 rounding and the f32
// factors included), in double.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "adapter/adapter.h"
#include "adapter/svd.h"
#include "base/status.h"
#include "import/bundle.h"

namespace slm {

struct DiffOptions {
  DeltaKind kind = DeltaKind::kRaw;
  int32_t rank = 0;               // lowrank: rank per tensor (> 0) unless energy is set
  double density = 0;             // sparse: fraction of entries kept, (0, 1], unless energy is set
  double energy = 0;              // sparse / lowrank: (0, 1], 0 = unset
  DType raw_dtype = DType::kF32;  // raw: f32, f16 or q8_0
  std::string name;               // adapter name; empty = "<child> - <base>"
  std::string notes;              // lineage notes
  RsvdOptions svd;                // lowrank: randomized SVD settings (seeded)
};

struct DiffRow {
  std::string target;
  DeltaKind kind = DeltaKind::kRaw;
  std::vector<int64_t> shape;
  int32_t rank = 0;           // lowrank
  uint64_t kept = 0;          // sparse: entries kept; raw: all elements
  uint64_t elements = 0;      // of the target
  double delta_norm = 0;      // ||Delta||_F
  double rel_error = 0;       // ||Delta - stored||_F / ||Delta||_F
  uint64_t bytes_stored = 0;  // payload as packaged (sparse: LEB128 gaps + f32 values)
  uint64_t dense_bytes = 0;   // an f32 dense delta: 4 * elements
  std::string note;           // e.g. "1-D: raw", "embedding: raw", "q8_0 -> f16 (rows of 172)"
};

struct DiffReport {
  Adapter adapter;
  std::vector<DiffRow> rows;  // one per delta, in target order
  int32_t unchanged = 0;      // tensors omitted (zero delta)
  uint64_t total_stored = 0;
  uint64_t total_dense = 0;
  // sqrt(sum_t ||Delta_t - stored_t||^2) / sqrt(sum_t ||Delta_t||^2)
  double total_rel_error = 0;
};

Status ParseDiffKind(const std::string& s, DeltaKind* out);

StatusOr<DiffReport> DiffModels(const ModelBundle& base, const ModelBundle& child,
                                const DiffOptions& o);

// A plain-text table: target, kind, rank/kept, rel. error, stored, dense,
// note; then the totals line.
std::string FormatDiffReport(const DiffReport& r);

}  // namespace slm

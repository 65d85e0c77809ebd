#include "adapter/assembly.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "adapter/validate.h"
#include "package/sections.h"
#include "quant/quant.h"

namespace slm {

struct AdapterAssembly::Term {
  DeltaKind kind = DeltaKind::kRaw;
  float scale = 1;
  int64_t rows = 0, cols = 0;
  std::vector<float> dense;         // raw: [rows, cols]
  std::vector<uint64_t> row_start;  // sparse CSR: [rows + 1]
  std::vector<uint32_t> col;        // sparse: column of each entry
  std::vector<float> val;           // sparse: value of each entry
  int32_t rank = 0;
  std::vector<float> a, b;  // lowrank: A [rank, cols], B [rows, rank]
};

namespace {

constexpr int32_t kSlots = static_cast<int32_t>(MatrixSlot::kCount);
constexpr int32_t kVSlots = static_cast<int32_t>(VectorSlot::kCount);

// out[j] = sum_k b[r * rank + k] * a[k * cols + j], k ascending.
void LowRankRow(const float* a, const float* b, int32_t rank, int64_t cols, int64_t r, float* out) {
  const float* br = b + r * rank;
  for (int64_t j = 0; j < cols; ++j) {
    float acc = 0;
    for (int32_t k = 0; k < rank; ++k) acc += br[k] * a[k * cols + j];
    out[j] = acc;
  }
}

float Dot(const float* w, const float* x, int64_t n) {
  float acc = 0;
  for (int64_t j = 0; j < n; ++j) acc += w[j] * x[j];
  return acc;
}

}  // namespace

Digest AssemblyChecksum(const Digest& base_digest, std::span<const Digest> adapter_digests,
                        std::span<const float> scales) {
  std::vector<uint8_t> b;
  const char kDomain[] = "slm assembly checksum v1";
  pkg::PutBytes(&b, kDomain, sizeof(kDomain) - 1);
  pkg::PutBytes(&b, base_digest.data(), 32);
  pkg::PutU32(&b, static_cast<uint32_t>(adapter_digests.size()));
  for (size_t i = 0; i < adapter_digests.size(); ++i) {
    pkg::PutBytes(&b, adapter_digests[i].data(), 32);
    uint32_t bits = 0;
    std::memcpy(&bits, &scales[i], 4);
    pkg::PutU32(&b, bits);
  }
  return Sha256Of(b);
}

bool SlotForTensor(const std::string& name, TensorSlot* s) {
  *s = TensorSlot();
  if (name == "token_embd.weight") {
    s->is_embedding = true;
    return true;
  }
  if (name == "output.weight") {
    s->is_matrix = true;
    s->matrix = MatrixSlot::kOutput;
    return true;
  }
  if (name == "output_norm.weight") {
    s->is_vector = true;
    s->vector = VectorSlot::kOutputNorm;
    return true;
  }
  if (name.rfind("blk.", 0) != 0) return false;
  size_t dot = name.find('.', 4);
  if (dot == std::string::npos || dot == 4 || dot - 4 > 6) return false;
  int32_t layer = 0;
  for (size_t i = 4; i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    layer = layer * 10 + (name[i] - '0');
  }
  s->layer = layer;
  const std::string rest = name.substr(dot + 1);
  struct M {
    const char* n;
    MatrixSlot m;
  };
  static const M kM[] = {
      {"attn_q.weight", MatrixSlot::kQ},      {"attn_k.weight", MatrixSlot::kK},
      {"attn_v.weight", MatrixSlot::kV},      {"attn_output.weight", MatrixSlot::kO},
      {"ffn_gate.weight", MatrixSlot::kGate}, {"ffn_up.weight", MatrixSlot::kUp},
      {"ffn_down.weight", MatrixSlot::kDown}};
  for (const M& m : kM) {
    if (rest == m.n) {
      s->is_matrix = true;
      s->matrix = m.m;
      return true;
    }
  }
  struct V {
    const char* n;
    VectorSlot v;
  };
  static const V kV[] = {{"attn_norm.weight", VectorSlot::kAttnNorm},
                         {"ffn_norm.weight", VectorSlot::kFfnNorm},
                         {"attn_q.bias", VectorSlot::kBq},
                         {"attn_k.bias", VectorSlot::kBk},
                         {"attn_v.bias", VectorSlot::kBv}};
  for (const V& v : kV) {
    if (rest == v.n) {
      s->is_vector = true;
      s->vector = v.v;
      return true;
    }
  }
  return false;
}

void DeltaRow(const TensorDelta& d, int64_t r, float* out) {
  const int64_t cols = d.shape.back();
  switch (d.kind) {
    case DeltaKind::kRaw: {
      const auto bytes = d.raw.bytes();
      uint64_t row_bytes = 0;
      DTypeBytes(d.raw.dtype, static_cast<uint64_t>(cols), &row_bytes);
      quant::DequantizeRow(d.raw.dtype,
                           bytes.subspan(static_cast<uint64_t>(r) * row_bytes, row_bytes),
                           std::span<float>(out, static_cast<size_t>(cols)));
      return;
    }
    case DeltaKind::kSparse: {
      std::fill(out, out + cols, 0.0f);
      const uint64_t lo = static_cast<uint64_t>(r * cols), hi = lo + static_cast<uint64_t>(cols);
      auto it = std::lower_bound(d.indices.begin(), d.indices.end(), lo);
      for (; it != d.indices.end() && *it < hi; ++it)
        out[*it - lo] = d.values[static_cast<size_t>(it - d.indices.begin())];
      return;
    }
    case DeltaKind::kLowRank:
      LowRankRow(d.a.data(), d.b.data(), d.rank, cols, r, out);
      return;
  }
}

StatusOr<std::unique_ptr<AdapterAssembly>> AdapterAssembly::Build(
    const Package& base, std::span<const AssemblyEntry> entries) {
  // 1. Validate everything first: a failure builds nothing.
  for (size_t i = 0; i < entries.size(); ++i) {
    const AssemblyEntry& e = entries[i];
    if (e.adapter == nullptr) return InvalidArgument("adapter #" + std::to_string(i) + " is null");
    if (!std::isfinite(e.scale)) {
      return InvalidArgument("adapter #" + std::to_string(i) + " ('" + e.adapter->name +
                             "'): scale is not finite");
    }
    Status s = ValidateAdapter(base, *e.adapter);
    if (!s.ok()) return s.WithContext("adapter #" + std::to_string(i));
  }
  std::unique_ptr<AdapterAssembly> as(new AdapterAssembly());
  const ModelConfig& c = base.config();
  as->n_layers_ = c.n_layers;
  as->tied_ = c.tied_output;
  as->matrix_terms_.resize(static_cast<size_t>(c.n_layers + 1) * kSlots);
  as->vectors_.resize(static_cast<size_t>(c.n_layers + 1) * kVSlots);
  for (const AssemblyEntry& e : entries) {
    as->digests_.push_back(e.digest);
    as->scales_.push_back(e.scale);
  }
  as->checksum_ = AssemblyChecksum(base.digest(), as->digests_, as->scales_);

  // 2. Terms, in adapter order (so stacked sums run in the order given).
  for (const AssemblyEntry& e : entries) {
    if (e.scale == 0.0f) continue;  // contributes nothing
    for (const TensorDelta& d : e.adapter->deltas) {
      const float s = e.scale * d.scale;
      if (s == 0.0f) continue;
      TensorSlot slot;
      if (!SlotForTensor(d.target, &slot) || slot.layer >= c.n_layers) {
        return Unsupported("adapter '" + e.adapter->name + "': target '" + d.target +
                           "' is not a weight of the forward pass");
      }
      const int64_t cols = d.shape.back();
      const int64_t rows = d.shape.size() == 2 ? d.shape[0] : 1;
      if (slot.is_vector) {
        std::vector<float>& v = as->vectors_[static_cast<size_t>(slot.layer + 1) * kVSlots +
                                             static_cast<int32_t>(slot.vector)];
        if (v.empty()) {
          const TensorData* t = base.FindTensor(d.target);
          v.resize(static_cast<size_t>(cols));
          std::memcpy(v.data(), t->bytes().data(), v.size() * 4);
        }
        std::vector<float> row(static_cast<size_t>(cols));
        DeltaRow(d, 0, row.data());
        for (int64_t j = 0; j < cols; ++j) v[j] += s * row[j];
        continue;
      }
      auto term = std::make_unique<Term>();
      term->kind = d.kind;
      term->scale = s;
      term->rows = rows;
      term->cols = cols;
      switch (d.kind) {
        case DeltaKind::kRaw:
          term->dense.resize(static_cast<size_t>(rows * cols));
          for (int64_t r = 0; r < rows; ++r) DeltaRow(d, r, term->dense.data() + r * cols);
          break;
        case DeltaKind::kSparse: {
          term->row_start.assign(static_cast<size_t>(rows + 1), 0);
          for (uint64_t idx : d.indices) ++term->row_start[idx / static_cast<uint64_t>(cols) + 1];
          for (int64_t r = 0; r < rows; ++r) term->row_start[r + 1] += term->row_start[r];
          for (size_t k = 0; k < d.indices.size(); ++k) {
            term->col.push_back(static_cast<uint32_t>(d.indices[k] % static_cast<uint64_t>(cols)));
            term->val.push_back(d.values[k]);
          }
          break;
        }
        case DeltaKind::kLowRank:
          term->rank = d.rank;
          term->a = d.a;
          term->b = d.b;
          break;
      }
      const Term* tp = term.get();
      as->terms_.push_back(std::move(term));
      if (slot.is_embedding) {
        as->embd_terms_.push_back(tp);
        if (c.tied_output)
          as->matrix_terms_[static_cast<size_t>(kSlots) * c.n_layers +
                            static_cast<int32_t>(MatrixSlot::kOutput)]
              .push_back(tp);
      } else {
        as->matrix_terms_[static_cast<size_t>(slot.layer + 1 == 0 ? c.n_layers : slot.layer) *
                              kSlots +
                          static_cast<int32_t>(slot.matrix)]
            .push_back(tp);
      }
    }
  }
  return as;
}

const std::vector<const AdapterAssembly::Term*>* AdapterAssembly::Terms(int32_t layer,
                                                                        MatrixSlot slot) const {
  const int32_t l = layer < 0 ? n_layers_ : layer;
  if (l > n_layers_) return nullptr;
  return &matrix_terms_[static_cast<size_t>(l) * kSlots + static_cast<int32_t>(slot)];
}

AdapterAssembly::~AdapterAssembly() = default;

bool AdapterAssembly::HasMatMul(int32_t layer, MatrixSlot slot) const {
  const auto* t = Terms(layer, slot);
  return t != nullptr && !t->empty();
}

void AdapterAssembly::AddMatMul(int32_t layer, MatrixSlot slot, float* y, int64_t y_stride,
                                const float* x, int32_t n_tok) const {
  const auto* terms = Terms(layer, slot);
  if (terms == nullptr) return;
  // The rank-sized intermediate of low-rank terms: on the stack up to rank
  // 256 (no allocation per token), on the heap beyond.
  float stack_u[256];
  std::vector<float> heap_u;
  for (const Term* t : *terms) {
    const int64_t cols = t->cols;
    for (int32_t tok = 0; tok < n_tok; ++tok) {
      const float* xt = x + static_cast<int64_t>(tok) * cols;
      float* yt = y + static_cast<int64_t>(tok) * y_stride;
      switch (t->kind) {
        case DeltaKind::kRaw:
          for (int64_t r = 0; r < t->rows; ++r)
            yt[r] += t->scale * Dot(&t->dense[r * cols], xt, cols);
          break;
        case DeltaKind::kSparse:
          for (int64_t r = 0; r < t->rows; ++r) {
            float acc = 0;
            for (uint64_t k = t->row_start[r]; k < t->row_start[r + 1]; ++k)
              acc += t->val[k] * xt[t->col[k]];
            yt[r] += t->scale * acc;
          }
          break;
        case DeltaKind::kLowRank: {
          float* u = stack_u;
          if (t->rank > 256) {
            heap_u.resize(static_cast<size_t>(t->rank));
            u = heap_u.data();
          }
          for (int32_t k = 0; k < t->rank; ++k) u[k] = Dot(&t->a[k * cols], xt, cols);
          for (int64_t r = 0; r < t->rows; ++r)
            yt[r] += t->scale * Dot(&t->b[r * t->rank], u, t->rank);
          break;
        }
      }
    }
  }
}

void AdapterAssembly::AddEmbedding(int32_t id, float* x) const {
  for (const Term* t : embd_terms_) {
    if (id < 0 || id >= t->rows) continue;
    const int64_t cols = t->cols;
    switch (t->kind) {
      case DeltaKind::kRaw:
        for (int64_t j = 0; j < cols; ++j) x[j] += t->scale * t->dense[id * cols + j];
        break;
      case DeltaKind::kSparse:
        for (uint64_t k = t->row_start[id]; k < t->row_start[id + 1]; ++k)
          x[t->col[k]] += t->scale * t->val[k];
        break;
      case DeltaKind::kLowRank: {
        const float* br = &t->b[static_cast<int64_t>(id) * t->rank];
        for (int64_t j = 0; j < cols; ++j) {
          float acc = 0;
          for (int32_t k = 0; k < t->rank; ++k) acc += br[k] * t->a[k * cols + j];
          x[j] += t->scale * acc;
        }
        break;
      }
    }
  }
}

const float* AdapterAssembly::Vector(int32_t layer, VectorSlot slot) const {
  const int32_t l = layer + 1;
  if (l < 0 || l > n_layers_) return nullptr;
  const std::vector<float>& v =
      vectors_[static_cast<size_t>(l) * kVSlots + static_cast<int32_t>(slot)];
  return v.empty() ? nullptr : v.data();
}

}  // namespace slm

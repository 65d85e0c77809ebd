#include "adapter/merge.h"

#include <cmath>
#include <cstring>
#include <map>

#include "adapter/validate.h"

namespace slm {
namespace {

std::string ScaleText(float s) {
  char b[32];
  snprintf(b, sizeof b, "%.9g", static_cast<double>(s));
  return b;
}

}  // namespace

StatusOr<ModelBundle> MergeAdapters(const Package& base, std::span<const AssemblyEntry> entries,
                                    const MergeOptions& o) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].adapter == nullptr || !std::isfinite(entries[i].scale))
      return InvalidArgument("adapter #" + std::to_string(i) + ": null or non-finite scale");
    Status s = ValidateAdapter(base, *entries[i].adapter);
    if (!s.ok()) return s.WithContext("adapter #" + std::to_string(i));
  }
  ModelBundle b = PackageToBundle(base);
  // target -> (delta, effective scale) in adapter order.
  std::map<std::string, std::vector<std::pair<const TensorDelta*, float>>> by_target;
  for (const AssemblyEntry& e : entries) {
    if (e.scale == 0.0f) continue;
    for (const TensorDelta& d : e.adapter->deltas) {
      const float s = e.scale * d.scale;
      if (s != 0.0f) by_target[d.target].push_back({&d, s});
    }
  }
  for (TensorData& t : b.tensors) {
    auto it = by_target.find(t.name);
    if (it == by_target.end()) continue;
    SLM_ASSIGN_OR_RETURN(std::vector<float> w, tools::DecodeTensor(t));
    const int64_t cols = t.shape.back();
    const int64_t rows = static_cast<int64_t>(w.size()) / cols;
    std::vector<float> row(static_cast<size_t>(cols));
    for (const auto& [d, s] : it->second) {
      for (int64_t r = 0; r < rows; ++r) {
        DeltaRow(*d, r, row.data());
        float* wr = w.data() + r * cols;
        for (int64_t j = 0; j < cols; ++j) wr[j] += s * row[j];
      }
    }
    t.dtype = DType::kF32;
    t.view = {};
    t.owned.resize(w.size() * 4);
    std::memcpy(t.owned.data(), w.data(), t.owned.size());
  }
  std::vector<Digest> digests;
  std::vector<float> scales;
  std::string notes = "merged from base " + base.digest_hex();
  std::string list;
  for (const AssemblyEntry& e : entries) {
    digests.push_back(e.digest);
    scales.push_back(e.scale);
    notes += " + adapter " + DigestHex(e.digest) + " ('" + e.adapter->name + "') x " +
             ScaleText(e.scale);
    list += DigestHex(e.digest) + ":" + ScaleText(e.scale) + "\n";
  }
  b.provenance.source_format = "slm-merge";
  b.provenance.source_path = base.name().substr(base.name().find_last_of('/') + 1);
  b.provenance.source_sha256 = base.digest_hex();
  b.provenance.tokenizer_source.clear();
  b.provenance.notes = notes;
  b.metadata["merge.base"] = base.digest_hex();
  b.metadata["merge.adapters"] = list;
  b.metadata["merge.assembly_checksum"] =
      DigestHex(AssemblyChecksum(base.digest(), digests, scales));
  if (!o.name.empty()) b.metadata["general.name"] = o.name;
  if (!o.requantize) return b;
  std::vector<tools::TensorPlan> plan;
  SLM_ASSIGN_OR_RETURN(ModelBundle q,
                       tools::QuantizeBundle(b, o.scheme, base.digest_hex(), base.name(), &plan));
  // QuantizeBundle views b's bytes for unchanged tensors: own them all.
  for (TensorData& t : q.tensors) {
    if (t.owned.empty()) {
      auto v = t.bytes();
      t.owned.assign(v.begin(), v.end());
      t.view = {};
    }
  }
  q.provenance.source_format = "slm-merge";
  q.provenance.notes = notes + "; re-quantized with --type " + tools::QuantSchemeName(o.scheme);
  q.metadata = b.metadata;
  return q;
}

}  // namespace slm

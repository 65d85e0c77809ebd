// Baking adapters into a standalone child model (slm adapter merge): every
// target tensor is decoded to f32, each adapter's scaled delta is added in the
// order given (the same f32 operations the runtime uses for embedding rows and
// 1-D weights), and the result is optionally re-quantized with src/tools'
// policy. Other tensors keep their bytes (views into the base).
#pragma once

#include <span>
#include <string>

#include "adapter/assembly.h"
#include "import/bundle.h"
#include "package/package.h"
#include "tools/quantize.h"

namespace slm {

struct MergeOptions {
  bool requantize = false;  // false: merged targets stay f32
  tools::QuantScheme scheme = tools::QuantScheme::kF32;
  std::string name;  // general.name of the child; empty = keep the base's
};

// Validates every adapter first (nothing is merged on failure). The result
// views `base` for the untouched tensors: base must outlive it. Provenance:
// source_format "slm-merge", source_sha256 = the base package digest, notes
// list each adapter's digest and scale; metadata "merge.base",
// "merge.adapters" (one "<digest>:<scale>" per line, in order),
// "merge.assembly_checksum".
StatusOr<ModelBundle> MergeAdapters(const Package& base, std::span<const AssemblyEntry> entries,
                                    const MergeOptions& o);

}  // namespace slm

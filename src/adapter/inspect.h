// What `slm adapter inspect` shows (and the browser page reuses): name, base
// digests, lineage, then per delta its kind, shape, rank or density, dtype,
// stored bytes and the bytes a dense f32 delta would take.
#pragma once

#include <string>

#include "adapter/adapter_package.h"
#include "base/json.h"

namespace slm {

// Bytes the delta's blobs take in an adapter package (padding excluded).
uint64_t DeltaStoredBytes(const TensorDelta& d);

JsonValue AdapterToJson(const AdapterFile& f);
std::string AdapterToText(const AdapterFile& f);

}  // namespace slm

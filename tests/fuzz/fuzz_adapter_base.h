// The stories260K base package the adapter fuzz targets validate and merge
// against (fuzz_adapter_*.cc): imported from $SLM_MODELS_DIR/stories260K.bin
// with tok512.bin once per process, serialized and opened in memory.
#pragma once

#include <memory>
#include <vector>

#include "fuzz_util.h"
#include "import/import.h"
#include "package/package.h"

namespace slm::fuzz {

inline const Package& StoriesBase() {
  // Never freed (both reachable from these statics, so LeakSanitizer is
  // quiet): the package views the bytes for the whole process.
  static AlignedBytes* aligned = nullptr;
  static const Package* base = [] {
    const std::string dir = ModelsDir();
    ImportOptions io;
    io.tokenizer_path = dir + "/tok512.bin";
    auto b = ImportModel(dir + "/stories260K.bin", io);
    if (!b.ok()) {
      std::fprintf(stderr, "fuzz: cannot import %s/stories260K.bin: %s\n", dir.c_str(),
                   b.status().ToString().c_str());
      std::abort();
    }
    auto bytes = SerializePackage(*b);
    if (!bytes.ok()) Fail("cannot serialize the stories260K base");
    aligned = new AlignedBytes(bytes->data(), bytes->size());
    auto p = Package::FromMemory(aligned->span(), "stories260K.slm");
    if (!p.ok()) Fail("cannot open the stories260K base");
    return std::move(p).value().release();
  }();
  return *base;
}

}  // namespace slm::fuzz

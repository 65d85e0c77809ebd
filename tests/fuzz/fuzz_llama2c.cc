// llama2.c checkpoint importer (src/import/llama2c.h), both the legacy f32
// and the "ak42" int8 variant, from memory: ImportLlama2cFile on
// MappedFile::FromMemory runs the whole parser (ImportLlama2c only adds
// MappedFile::Open, which the unit tests cover). Weights only: no tokenizer.
#include <string>

#include "base/file.h"
#include "fuzz_util.h"
#include "import/llama2c.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // libFuzzer's exact-size buffer (malloc-aligned, as a mapping is for the
  // 4-byte fields): the f32 tensors view it, so ASan sees any overread.
  auto b = slm::ImportLlama2cFile(slm::MappedFile::FromMemory({data, size}, "fuzz/model.bin"), "");
  slm::fuzz::Note("llama2c import", b);
  return 0;
}

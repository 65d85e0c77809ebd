// llama2.c checkpoint importer (src/import/llama2c.h), both the legacy f32
// and the "ak42" int8 variant. The importer is file-path based, so the input
// is written to a scratch file first (weights only: no tokenizer).
#include <string>

#include "fuzz_util.h"
#include "import/llama2c.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = slm::fuzz::ScratchDir() + "/model.bin";
  if (!slm::fuzz::WriteFile(path, std::string_view(reinterpret_cast<const char*>(data), size))) {
    slm::fuzz::Fail("cannot write scratch file");
  }
  auto b = slm::ImportLlama2c(path, "");
  slm::fuzz::Note("llama2c import", b);
  return 0;
}

// llama.cpp LoRA GGUF importer (src/adapter/lora_gguf.h) on any bytes,
// against the stories260K base (built once per process), from memory:
// GgufFile::Parse + ImportLoraGgufFile are the whole parser (ImportLoraGguf
// only adds the file open). An imported adapter must pass
// CheckAdapterStructure and serialize.
#include <string>

#include "adapter/adapter_package.h"
#include "adapter/lora_gguf.h"
#include "base/file.h"
#include "fuzz_adapter_base.h"
#include "fuzz_util.h"
#include "import/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const slm::Package& base = slm::fuzz::StoriesBase();
  slm::fuzz::AlignedBytes buf(data, size);
  auto g = slm::GgufFile::Parse(slm::MappedFile::FromMemory(buf.span(), "fuzz/lora.gguf"));
  slm::fuzz::Note("gguf", g);
  if (!g.ok()) return 0;
  auto a = slm::ImportLoraGgufFile(std::move(*g), base);
  slm::fuzz::Note("lora gguf import", a);
  if (!a.ok()) return 0;
  if (!slm::CheckAdapterStructure(*a).ok()) slm::fuzz::Fail("imported LoRA is malformed");
  if (!slm::SerializeAdapter(*a).ok()) slm::fuzz::Fail("imported LoRA does not serialize");
  return 0;
}

// llama.cpp LoRA GGUF importer (src/adapter/lora_gguf.h ImportLoraGguf) on
// any bytes, against the stories260K base (built once per process). The
// importer is file-path based, so the input is written to a scratch file
// first. An imported adapter must pass CheckAdapterStructure and serialize.
#include <string>

#include "adapter/adapter_package.h"
#include "adapter/lora_gguf.h"
#include "fuzz_adapter_base.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const slm::Package& base = slm::fuzz::StoriesBase();
  const std::string path = slm::fuzz::ScratchDir() + "/lora.gguf";
  if (!slm::fuzz::WriteFile(path, std::string_view(reinterpret_cast<const char*>(data), size))) {
    slm::fuzz::Fail("cannot write scratch file");
  }
  auto a = slm::ImportLoraGguf(path, base);
  slm::fuzz::Note("lora gguf import", a);
  if (!a.ok()) return 0;
  if (!slm::CheckAdapterStructure(*a).ok()) slm::fuzz::Fail("imported LoRA is malformed");
  if (!slm::SerializeAdapter(*a).ok()) slm::fuzz::Fail("imported LoRA does not serialize");
  return 0;
}

// Hugging Face PEFT LoRA importer (src/adapter/peft.h) on a folder described
// by the input: parts separated by "\n%%slm%%\n" become adapter_config.json
// and adapter_model.safetensors (absent parts are absent files), imported
// from memory (ImportPeftFromMemory: the same parser as ImportPeft, whose
// directory layer is src/import/folder.h) against the stories260K base
// (built once per process). An imported adapter must pass
// CheckAdapterStructure and serialize.
#include <map>
#include <string>

#include "adapter/adapter_package.h"
#include "adapter/peft.h"
#include "fuzz_adapter_base.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const slm::Package& base = slm::fuzz::StoriesBase();
  // Parts are views of libFuzzer's exact-size buffer (ASan sees overreads).
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parts = slm::fuzz::SplitParts(in, 2);
  static const char* kNames[] = {"adapter_config.json", "adapter_model.safetensors"};
  std::map<std::string, std::span<const uint8_t>> files;
  for (size_t i = 0; i < parts.size(); ++i) {
    files[kNames[i]] = {reinterpret_cast<const uint8_t*>(parts[i].data()), parts[i].size()};
  }
  auto a = slm::ImportPeftFromMemory("fuzz/peft", files, base);
  slm::fuzz::Note("peft import", a);
  if (!a.ok()) return 0;
  if (!slm::CheckAdapterStructure(*a).ok()) slm::fuzz::Fail("imported PEFT LoRA is malformed");
  if (!slm::SerializeAdapter(*a).ok()) slm::fuzz::Fail("imported PEFT LoRA does not serialize");
  return 0;
}

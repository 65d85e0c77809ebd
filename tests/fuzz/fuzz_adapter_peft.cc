// Hugging Face PEFT LoRA importer (src/adapter/peft.h ImportPeft) on a folder
// described by the input: parts separated by "\n%%slm%%\n" become
// adapter_config.json and adapter_model.safetensors (absent parts are absent
// files), imported against the stories260K base (built once per process). An
// imported adapter must pass CheckAdapterStructure and serialize.
#include <string>

#include "adapter/adapter_package.h"
#include "adapter/peft.h"
#include "fuzz_adapter_base.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const slm::Package& base = slm::fuzz::StoriesBase();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parts = slm::fuzz::SplitParts(in, 2);
  const std::string dir = slm::fuzz::ScratchDir() + "/peft";
  mkdir(dir.c_str(), 0700);
  static const char* kNames[] = {"adapter_config.json", "adapter_model.safetensors"};
  for (size_t i = 0; i < 2; ++i) {
    std::string path = dir + "/" + kNames[i];
    if (i < parts.size()) {
      if (!slm::fuzz::WriteFile(path, parts[i])) slm::fuzz::Fail("cannot write scratch file");
    } else {
      unlink(path.c_str());
    }
  }
  auto a = slm::ImportPeft(dir, base);
  slm::fuzz::Note("peft import", a);
  if (!a.ok()) return 0;
  if (!slm::CheckAdapterStructure(*a).ok()) slm::fuzz::Fail("imported PEFT LoRA is malformed");
  if (!slm::SerializeAdapter(*a).ok()) slm::fuzz::Fail("imported PEFT LoRA does not serialize");
  return 0;
}

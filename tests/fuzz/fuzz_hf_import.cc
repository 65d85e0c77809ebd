// Hugging Face folder importer (src/import/hf_import.h). The input describes
// a folder: parts separated by "\n%%slm%%\n" become config.json,
// model.safetensors and tokenizer.json (absent parts are absent files).
#include <string>

#include "fuzz_util.h"
#include "import/hf_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parts = slm::fuzz::SplitParts(in, 3);
  const std::string dir = slm::fuzz::ScratchDir() + "/hf";
  mkdir(dir.c_str(), 0700);
  static const char* kNames[] = {"config.json", "model.safetensors", "tokenizer.json"};
  for (size_t i = 0; i < 3; ++i) {
    std::string path = dir + "/" + kNames[i];
    if (i < parts.size()) {
      if (!slm::fuzz::WriteFile(path, parts[i])) slm::fuzz::Fail("cannot write scratch file");
    } else {
      unlink(path.c_str());
    }
  }
  auto b = slm::ImportHfFolder(dir, "");
  slm::fuzz::Note("hf import", b);
  return 0;
}

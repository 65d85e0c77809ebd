// Hugging Face folder importer (src/import/hf_import.h). The input describes
// a folder: parts separated by "\n%%slm%%\n" become config.json,
// model.safetensors and tokenizer.json (absent parts are absent files),
// imported from memory (ImportHfFromMemory: the same parser as
// ImportHfFolder, whose directory layer is src/import/folder.h).
#include <map>
#include <string>

#include "fuzz_util.h"
#include "import/hf_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Parts are views of libFuzzer's exact-size buffer (ASan sees overreads).
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parts = slm::fuzz::SplitParts(in, 3);
  static const char* kNames[] = {"config.json", "model.safetensors", "tokenizer.json"};
  std::map<std::string, std::span<const uint8_t>> files;
  for (size_t i = 0; i < parts.size(); ++i) {
    files[kNames[i]] = {reinterpret_cast<const uint8_t*>(parts[i].data()), parts[i].size()};
  }
  auto b = slm::ImportHfFromMemory("fuzz/hf", files, "");
  slm::fuzz::Note("hf import", b);
  return 0;
}

// One entry point for every adapter source, so the CLI, the C API and the
// browser detect and load them the same way:
//   - an .slm package with kind = 1 (ReadAdapterPackage);
//   - a Hugging Face PEFT LoRA folder (a directory with adapter_config.json):
//     ImportPeft (src/adapter/peft.h);
//   - a llama.cpp LoRA GGUF (GGUF magic, general.type = adapter):
//     ImportLoraGguf (src/adapter/lora_gguf.h).
// Imported adapters are stamped for `base` by their importer and get the
// content digest of the package SerializeAdapter would write.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "adapter/adapter.h"
#include "adapter/assembly.h"
#include "base/sha256.h"
#include "package/package.h"

namespace slm {

// "PATH[:SCALE]": the text after the last ':' is the scale when it parses as a
// finite number; default 1.
struct AdapterSpec {
  std::string path;
  float scale = 1.0f;
};
StatusOr<AdapterSpec> ParseAdapterSpec(const std::string& arg);

struct LoadedAdapter {
  Adapter adapter;
  Digest digest{};     // content digest
  uint64_t bytes = 0;  // adapter package size (as written, or as it would be)
  std::string format;  // "slm", "peft", "lora-gguf"
  std::string path;
};

StatusOr<LoadedAdapter> LoadAdapter(const std::string& path, const Package& base);
// The same for a file's bytes (an .slm adapter package or a LoRA GGUF). `name`
// is used in errors and as LoadedAdapter::path. The adapter owns its data;
// `bytes` may go after.
StatusOr<LoadedAdapter> LoadAdapterBytes(std::span<const uint8_t> bytes, const std::string& name,
                                         const Package& base);
// A PEFT folder's two files from memory; `folder` names the adapter as its
// directory would (its base name is the adapter's name, so it enters the
// content digest as in LoadAdapter of a directory of that name).
StatusOr<LoadedAdapter> LoadPeftBytes(std::span<const uint8_t> config,
                                      std::span<const uint8_t> safetensors,
                                      const std::string& folder, const Package& base);

// Loads every spec in order, then builds the assembly (all validated before
// anything is built). `loaded` receives the adapters in order.
StatusOr<std::unique_ptr<AdapterAssembly>> LoadAssembly(const Package& base,
                                                        std::span<const AdapterSpec> specs,
                                                        std::vector<LoadedAdapter>* loaded);

}  // namespace slm

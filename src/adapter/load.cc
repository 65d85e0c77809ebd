#include "adapter/load.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "adapter/adapter_package.h"
#include "adapter/lora_gguf.h"
#include "adapter/peft.h"
#include "base/file.h"
#include "import/gguf.h"
#include "package/format.h"

namespace slm {

StatusOr<AdapterSpec> ParseAdapterSpec(const std::string& arg) {
  AdapterSpec s;
  s.path = arg;
  const size_t colon = arg.rfind(':');
  if (colon != std::string::npos && colon + 1 < arg.size()) {
    const std::string tail = arg.substr(colon + 1);
    char* end = nullptr;
    const double v = std::strtod(tail.c_str(), &end);
    if (end != nullptr && *end == '\0') {
      if (!std::isfinite(v) || std::fabs(v) > 1e30) {
        return InvalidArgument("--adapter '" + arg + "': scale '" + tail +
                               "' is not a finite number");
      }
      s.path = arg.substr(0, colon);
      s.scale = static_cast<float>(v);
    }
  }
  if (s.path.empty()) return InvalidArgument("--adapter '" + arg + "': empty path");
  return s;
}

namespace {

// An imported adapter's identity: the digest and size of the package
// SerializeAdapter would write for it.
StatusOr<LoadedAdapter> Finish(LoadedAdapter l) {
  SLM_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, SerializeAdapter(l.adapter));
  SLM_ASSIGN_OR_RETURN(l.digest, AdapterContentDigest(l.adapter));
  l.bytes = bytes.size();
  return l;
}

}  // namespace

StatusOr<LoadedAdapter> LoadAdapterBytes(std::span<const uint8_t> bytes, const std::string& name,
                                         const Package& base) {
  LoadedAdapter l;
  l.path = name;
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0) {
    SLM_ASSIGN_OR_RETURN(auto g, GgufFile::Parse(MappedFile::FromMemory(bytes, name)));
    if (!IsLoraGguf(*g)) {
      return InvalidArgument(name +
                             ": a GGUF without general.type = adapter (a model, not a LoRA)");
    }
    SLM_ASSIGN_OR_RETURN(l.adapter, ImportLoraGgufFile(std::move(g), base));
    l.format = "lora-gguf";
    return Finish(std::move(l));
  }
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), pkg::kMagic, 8) == 0 &&
      !IsAdapterPackage(bytes)) {
    return InvalidArgument(name + ": is a model package (kind 0), not an adapter (kind 1)");
  }
  if (!IsAdapterPackage(bytes)) {
    return InvalidArgument(name +
                           ": not an adapter (expected an .slm adapter package, a PEFT folder "
                           "with adapter_config.json or a llama.cpp LoRA GGUF)");
  }
  SLM_ASSIGN_OR_RETURN(AdapterFile af, ParseAdapterPackage(bytes, name));
  l.adapter = std::move(af.adapter);
  l.digest = af.digest;
  l.bytes = af.bytes;
  l.format = "slm";
  return l;
}

StatusOr<LoadedAdapter> LoadPeftBytes(std::span<const uint8_t> config,
                                      std::span<const uint8_t> safetensors,
                                      const std::string& folder, const Package& base) {
  LoadedAdapter l;
  l.path = folder;
  SLM_ASSIGN_OR_RETURN(l.adapter, ImportPeftFromMemory(folder,
                                                       {{"adapter_config.json", config},
                                                        {"adapter_model.safetensors", safetensors}},
                                                       base));
  l.format = "peft";
  return Finish(std::move(l));
}

StatusOr<LoadedAdapter> LoadAdapter(const std::string& path, const Package& base) {
  if (IsDirectory(path)) {
    if (!IsPeftFolder(path)) {
      return InvalidArgument(path +
                             ": a directory without adapter_config.json (not a PEFT adapter)");
    }
    LoadedAdapter l;
    l.path = path;
    SLM_ASSIGN_OR_RETURN(l.adapter, ImportPeft(path, base));
    l.format = "peft";
    return Finish(std::move(l));
  }
  SLM_ASSIGN_OR_RETURN(auto f, MappedFile::Open(path));
  return LoadAdapterBytes(f->bytes(), path, base);
}

StatusOr<std::unique_ptr<AdapterAssembly>> LoadAssembly(const Package& base,
                                                        std::span<const AdapterSpec> specs,
                                                        std::vector<LoadedAdapter>* loaded) {
  std::vector<LoadedAdapter> all;
  for (const AdapterSpec& s : specs) {
    SLM_ASSIGN_OR_RETURN(LoadedAdapter l, LoadAdapter(s.path, base));
    all.push_back(std::move(l));
  }
  std::vector<AssemblyEntry> entries;
  for (size_t i = 0; i < all.size(); ++i)
    entries.push_back({&all[i].adapter, all[i].digest, specs[i].scale});
  SLM_ASSIGN_OR_RETURN(auto as, AdapterAssembly::Build(base, entries));
  if (loaded) *loaded = std::move(all);
  return as;
}

}  // namespace slm

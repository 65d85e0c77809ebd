#include "import/import.h"

#include <cstring>

#include "import/gguf_import.h"
#include "import/hf_import.h"
#include "import/llama2c.h"
#include "package/model_tensors.h"

namespace slm {
namespace {

std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string MagicString(std::span<const uint8_t> b) {
  std::string hex, text;
  for (size_t i = 0; i < b.size() && i < 4; ++i) {
    char h[4];
    snprintf(h, sizeof h, "%02x", b[i]);
    hex += h;
    text += (b[i] >= 0x20 && b[i] < 0x7f) ? static_cast<char>(b[i]) : '.';
  }
  return "0x" + hex + " (\"" + text + "\")";
}

// llama2.c's legacy header is 7 x i32 {dim, hidden, layers, heads, kv_heads,
// vocab (negative: unshared classifier), seq_len}; demand sane values so that
// random files are not mistaken for it.
bool LooksLikeLegacyLlama2c(std::span<const uint8_t> b) {
  if (b.size() < 28) return false;
  int32_t h[7];
  std::memcpy(h, b.data(), sizeof h);
  auto in = [](int32_t v, int32_t lo, int32_t hi) { return v >= lo && v <= hi; };
  int32_t vocab = h[5] < 0 ? -h[5] : h[5];
  return in(h[0], 1, 1 << 16) && in(h[1], 1, 1 << 18) && in(h[2], 1, 1024) &&
         in(h[3], 1, h[0]) && in(h[4], 1, h[3]) && h[3] % h[4] == 0 && h[0] % h[3] == 0 &&
         in(vocab, 1, 1 << 22) && in(h[6], 1, 1 << 22);
}

}  // namespace

std::string DetectModelFormat(const std::string& input, std::string* why) {
  if (IsDirectory(input)) return "hf";
  auto f = MappedFile::Open(input);
  if (!f.ok()) {
    *why = f.status().message();
    return "";
  }
  auto b = (*f)->bytes();
  if (b.size() >= 4 && std::memcmp(b.data(), "GGUF", 4) == 0) return "gguf";
  uint32_t magic = 0;
  if (b.size() >= 4) std::memcpy(&magic, b.data(), 4);
  // llama2.c writes the u32 0x616b3432 ("ak42"), i.e. bytes "24ka" on disk.
  if (magic == 0x616b3432u) return "llama2c";
  if (b.size() >= 8 && std::memcmp(b.data(), "SLMPKG", 6) == 0) {
    *why = "'" + input + "' is already an .slm package";
    return "";
  }
  if (LooksLikeLegacyLlama2c(b)) return "llama2c";
  *why = "'" + input + "': unrecognised model format, magic " + MagicString(b) +
         " (expected a Hugging Face folder, \"GGUF\", \"ak42\" or a llama2.c header)";
  return "";
}

StatusOr<ModelBundle> ImportModel(const std::string& input, const ImportOptions& o) {
  std::string why;
  const std::string format = DetectModelFormat(input, &why);
  StatusOr<ModelBundle> b = Unsupported(why);
  if (format == "hf") {
    b = ImportHfFolder(input, o.tokenizer_path);
  } else if (format == "gguf") {
    b = ImportGguf(input);
  } else if (format == "llama2c") {
    b = ImportLlama2c(input, o.tokenizer_path);
  } else if (!FileExists(input) && !IsDirectory(input)) {
    return NotFound("no such file '" + input + "'");
  }
  if (!b.ok()) return b;
  // Whatever the importer did: base names only in provenance (the package
  // must not depend on the converting machine's directories) and the
  // canonical tensor order (the package digest must not depend on the
  // source file's order). docs/format.md 4.1 and 4.3.
  b->provenance.source_path = BaseName(b->provenance.source_path);
  b->provenance.tokenizer_source = BaseName(b->provenance.tokenizer_source);
  SortModelTensors(b->config, &b->tensors);
  return b;
}

}  // namespace slm

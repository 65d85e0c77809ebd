// `slm convert`'s front door: picks the importer from what the input is.
//   directory                         -> ImportHfFolder (config.json + safetensors)
//   "GGUF" magic                      -> ImportGguf
//   "ak42" magic or a plausible legacy llama2.c header (7 positive-ish i32)
//                                     -> ImportLlama2c (tokenizer_path required
//                                        for a usable package)
//   anything else                     -> Unsupported naming the magic found
#pragma once

#include <string>

#include "base/status.h"
#include "import/bundle.h"

namespace slm {

struct ImportOptions {
  // Tokenizer file for formats without an embedded one (llama2.c), or an
  // override for a Hugging Face folder's tokenizer.json. Ignored for GGUF.
  std::string tokenizer_path;
};

StatusOr<ModelBundle> ImportModel(const std::string& input, const ImportOptions& o);

// "hf", "gguf", "llama2c" or "" (unknown); `why` explains an unknown result.
std::string DetectModelFormat(const std::string& input, std::string* why);

}  // namespace slm

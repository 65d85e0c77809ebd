// What every importer produces and the .slm writer consumes: a model's config,
// tokenizer and tensors plus where they came from. Tensor names follow GGUF
// conventions (token_embd.weight, blk.N.attn_q.weight, ..., output.weight);
// shapes are [out, in] (model/tensor.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/file.h"
#include "model/config.h"
#include "model/tensor.h"
#include "tokenizer/tokenizer_data.h"

namespace slm {

struct Provenance {
  std::string source_format;  // "llama2c-f32", "llama2c-int8", "gguf", "hf-safetensors"
  std::string source_path;    // file or folder name as given
  std::string source_sha256;  // hex digest of the source weights file(s)
  std::string tokenizer_source;  // tokenizer file, if separate
  std::string notes;          // e.g. "q8_0 tensors dequantized to f32 on import"
};

struct ModelBundle {
  ModelConfig config;
  TokenizerData tokenizer;
  std::vector<TensorData> tensors;
  Provenance provenance;
  // Free-form string metadata carried into the package (general.name, ...).
  std::map<std::string, std::string> metadata;
  // Source files kept mapped while tensors view into them.
  std::vector<std::unique_ptr<MappedFile>> keep_alive;
};

}  // namespace slm

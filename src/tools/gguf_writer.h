// A minimal GGUF v3 writer (ggml docs/gguf.md; the reader is import/gguf.h),
// enough for llama.cpp to load what slm writes: `slm synth --format gguf`
// hands the same random-weight models to llama-bench.
//
// Written: general.architecture ("llama" or "qwen2" from the config),
// general.name, general.file_type (llama_ftype of the dominant weight type),
// general.alignment (32), <arch>.{context_length, embedding_length,
// block_count, feed_forward_length, rope.dimension_count,
// attention.head_count, attention.head_count_kv, attention.key_length,
// attention.value_length, attention.layer_norm_rms_epsilon, rope.freq_base},
// and tokenizer.ggml.{model, tokens, scores, token_type, merges, pre,
// bos/eos/unknown/padding_token_id, add_bos_token, add_space_prefix}.
// Tensors: ne[] = shape reversed (innermost first), in the given order, each
// at a 32-byte aligned offset of the data section, zero padding between.
//
// Tensor bytes are produced one at a time by a callback, so a model never has
// to be in memory whole. The file is written to PATH.tmp and renamed.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "import/bundle.h"
#include "model/config.h"
#include "model/tensor.h"
#include "tokenizer/tokenizer_data.h"

namespace slm::tools {

struct GgufTensorSpec {
  std::string name;
  std::vector<int64_t> shape;  // [out, in], outermost first (model/tensor.h)
  DType dtype = DType::kF32;
};

struct GgufModelInfo {
  ModelConfig config;
  TokenizerData tokenizer;
  std::string name;  // general.name
};

// fill(i) returns tensor i's bytes (exactly its size for shape and dtype).
using GgufTensorSource = std::function<StatusOr<std::vector<uint8_t>>(size_t index)>;

Status WriteGgufStreaming(const GgufModelInfo& info, const std::vector<GgufTensorSpec>& tensors,
                          const GgufTensorSource& fill, const std::string& path);

// A whole bundle (its tensors in their order).
Status WriteGguf(const ModelBundle& b, const std::string& path);

}  // namespace slm::tools

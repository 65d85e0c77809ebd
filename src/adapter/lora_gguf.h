// Importing llama.cpp LoRA GGUF files (convert_lora_to_gguf.py output) as
// Adapters.
//
// Signatures (for LoadAdapter / the CLI):
//   StatusOr<Adapter> ImportLoraGguf(const std::string& path, const Package& base);
//   StatusOr<Adapter> ImportLoraGgufFile(std::unique_ptr<GgufFile> f, const Package& base);
//   bool IsLoraGguf(const GgufFile& f);   // general.type == "adapter"
//
// Format (llama.cpp src/llama-adapter.cpp, read for conventions only):
//   kv: general.type = "adapter" (required), adapter.type = "lora" (required),
//       adapter.lora.alpha (f32, optional: absent or 0 means scale 1, else
//       scale = alpha / r), general.architecture (checked against the base's
//       arch when present).
//   tensors: "<base tensor>.lora_a" with ne [in, r] (our shape [r, in]) and
//       "<base tensor>.lora_b" with ne [r, out] (shape [out, r]); f32, f16,
//       bf16 or q8_0 (decoded to f32). token_embd.weight is flipped in
//       llama.cpp: lora_a [vocab, r], lora_b [dim, r], Delta E = a b^T, so
//       here B = lora_a and A = lora_b^T. Tensors ending in "_norm.weight" are
//       skipped, as llama.cpp does (noted in the lineage); any other name is
//       refused.
//   q/k row order: convert_lora_to_gguf.py permutes lora_b rows exactly like
//       the base weights, i.e. interleaved for arch "llama", unchanged
//       (half-split) for others such as qwen2. If the base's rope_style
//       differs (e.g. a llama base imported from an HF folder), the lora_b
//       rows of attn_q / attn_k are permuted to the base's order (peft.h has
//       the rule).
// The adapter is stamped with CompatibilityDigest(base) and the base's
// tokenizer digest.
#pragma once

#include <memory>
#include <string>

#include "adapter/adapter.h"
#include "base/status.h"
#include "import/gguf.h"
#include "package/package.h"

namespace slm {

bool IsLoraGguf(const GgufFile& f);
StatusOr<Adapter> ImportLoraGguf(const std::string& path, const Package& base);
// The same on a parsed GGUF (e.g. GgufFile::Parse of MappedFile::FromMemory
// bytes); f->path() names it in errors. The adapter owns its (decoded) data.
StatusOr<Adapter> ImportLoraGgufFile(std::unique_ptr<GgufFile> f, const Package& base);

}  // namespace slm

// Importing Hugging Face PEFT LoRA folders as Adapters.
//
// Signatures (for LoadAdapter / the CLI):
//   StatusOr<Adapter> ImportPeft(const std::string& folder, const Package& base);
//   StatusOr<Adapter> ImportPeftFromMemory(folder, {name -> bytes}, base);  // same parser
//   bool IsPeftFolder(const std::string& path);   // a directory with adapter_config.json
//
// A PEFT folder holds adapter_config.json and adapter_model.safetensors:
//   config: "r" (required, > 0), "lora_alpha" (required), "use_rslora"
//   (default false), "target_modules" (list of module names, or a string =
//   PEFT regex, then not checked), "peft_type" (LORA if present).
//   Refused as Unsupported: use_dora, fan_in_fan_out, non-empty rank_pattern /
//   alpha_pattern, a pickle-only folder.
//   tensors: base_model.model.<HF module>.lora_A[.default].weight [r, in] and
//   .lora_B[.default].weight [out, r], F32/F16/BF16. The HF module maps to our
//   GGUF-style name with HfToGgufName (model.layers.N.self_attn.q_proj ->
//   blk.N.attn_q.weight, lm_head -> output.weight).
// Each pair becomes a low-rank delta Delta W = scale * B A with
// scale = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora.
// The token embedding (model.embed_tokens) has PEFT's own names and layout:
// .lora_embedding_A[.default] [r, vocab] and .lora_embedding_B[.default]
// [dim, r], Delta E [vocab, dim] = scale * A^T B^T, stored as the low-rank
// delta B' = A^T, A' = B^T on token_embd.weight. When the base ties its output
// to the embedding the delta reaches the output projection too (docs/adapters.md:
// as in llama.cpp and a merged PEFT model; an unmerged PEFT model on a tied
// base leaves lm_head as it was).
//
// RoPE row order (the rule): PEFT adapters are trained on the HF checkpoint,
// whose q/k rows are ordered for half-split RoPE. Our HF importer keeps that
// order (config rope_style = kHalfSplit), while llama2.c and GGUF "llama"
// bases use interleaved pairs (kInterleaved; convert_hf_to_gguf permuted the
// rows). So when the base is kInterleaved, the rows of lora_B for attn_q /
// attn_k are permuted exactly as the base rows were (our row h*D + 2i + s =
// HF row h*D + s*D/2 + i, D = head_dim, h < n_heads for q / n_kv_heads for
// k); lora_A is unchanged, since Delta = B A and the rows of Delta are the
// rows of B. A kHalfSplit base takes the rows as stored.
//
// Errors name the file and tensor: a missing 'r', a module outside
// target_modules, a target the base does not have, A/B shapes that disagree
// with the base tensor or the rank, a lone A or B, a truncated or corrupt
// safetensors file (the reader's bounds checks).
// The adapter is stamped with CompatibilityDigest(base) and the base's
// tokenizer digest.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "adapter/adapter.h"
#include "base/status.h"
#include "model/config.h"
#include "package/package.h"

namespace slm {

bool IsPeftFolder(const std::string& path);
StatusOr<Adapter> ImportPeft(const std::string& folder, const Package& base);
// The same parser on the folder's files already in memory, by plain name
// ("adapter_config.json", "adapter_model.safetensors"); `folder` names them in
// errors as a directory would. The adapter owns its (widened) data.
StatusOr<Adapter> ImportPeftFromMemory(const std::string& folder,
                                       const std::map<std::string, std::span<const uint8_t>>& files,
                                       const Package& base);

// Shared with the llama.cpp LoRA importer (lora_gguf.cc).
namespace lora_import {

// Permutes the rows of b [n_head * head_dim, cols] between the two q/k row
// orders: to_interleaved moves HF (half-split) rows to interleaved ones, else
// the inverse.
void PermuteQkRows(std::vector<float>* b, int32_t n_head, int32_t head_dim, int64_t cols,
                   bool to_interleaved);

// The number of heads whose rows make up `target` when it is attn_q / attn_k
// (blk.N.attn_q.weight / blk.N.attn_k.weight), else 0.
int32_t QkHeads(const std::string& target, const ModelConfig& c);

// Checks a pair against the base tensor and appends a low-rank delta: a is
// [r, in], b [out, r] f32 row-major. `what` prefixes errors.
Status AddLowRank(const Package& base, const std::string& target, std::vector<float> a,
                  std::vector<int64_t> a_shape, std::vector<float> b, std::vector<int64_t> b_shape,
                  float scale, const std::string& what, Adapter* out);

// Sorts the deltas by target, refuses duplicates, stamps the base digests.
Status Finish(const Package& base, Adapter* a);

}  // namespace lora_import
}  // namespace slm

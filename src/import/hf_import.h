// Hugging Face model folder -> ModelBundle (LlamaForCausalLM, Qwen2ForCausalLM).
//
//   config.json   hidden_size, intermediate_size, num_hidden_layers,
//                 num_attention_heads, num_key_value_heads (default: heads),
//                 head_dim (default hidden/heads), max_position_embeddings,
//                 rms_norm_eps, rope_theta, tie_word_embeddings, vocab_size;
//                 hidden_act must be silu, rope_scaling absent or null
//   weights       model.safetensors.index.json's weight_map shards if present,
//                 else model.safetensors
//   tokenizer     tokenizer.json, or tokenizer_override (any file
//                 LoadTokenizerFile reads, e.g. a llama2.c tokenizer.bin)
//
// Names map to GGUF conventions (model.embed_tokens.weight -> token_embd.weight,
// model.layers.N.self_attn.q_proj.weight -> blk.N.attn_q.weight, ...,
// lm_head.weight -> output.weight). HF checkpoints use half-split RoPE
// (rotate_half) on unpermuted q/k, so rope_style = kHalfSplit and q/k are kept
// as they are. F32 weights are views into the mapped shards; F16/BF16 are
// widened to f32 (noted in provenance). source_sha256 is the SHA-256 of the
// single shard, or for several shards the SHA-256 of their concatenated
// 32-byte digests in sorted shard-name order.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "base/status.h"
#include "import/bundle.h"

namespace slm {

StatusOr<ModelBundle> ImportHfFolder(const std::string& dir, const std::string& tokenizer_override);

// The same parser on a folder whose files are already in memory, by plain
// name ("config.json", "model.safetensors", "model.safetensors.index.json" and
// its shards, "tokenizer.json"); `dir` names them in errors and provenance as
// a directory would. F32 tensors of the bundle view the given bytes, so they
// must outlive it. tokenizer_override is still a path on disk.
StatusOr<ModelBundle> ImportHfFromMemory(
    const std::string& dir, const std::map<std::string, std::span<const uint8_t>>& files,
    const std::string& tokenizer_override);

// "model.layers.3.mlp.up_proj.weight" -> "blk.3.ffn_up.weight"; "" if unknown.
std::string HfToGgufName(const std::string& hf_name);

}  // namespace slm

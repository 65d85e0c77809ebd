// The tensors a llama-family model must have, by name and shape, for a given
// ModelConfig. Importers and the package reader both call CheckModelTensors,
// so the runtime can look tensors up by these names without re-checking.
//
// Names (GGUF conventions) and shapes ([out, in], model/tensor.h):
//   token_embd.weight            [vocab, dim]
//   output_norm.weight           [dim]
//   output.weight                [vocab, dim]     absent iff tied_output
//   blk.N.attn_norm.weight       [dim]
//   blk.N.attn_q.weight          [q_dim, dim]     q_dim  = n_heads * head_dim
//   blk.N.attn_k.weight          [kv_dim, dim]    kv_dim = n_kv_heads * head_dim
//   blk.N.attn_v.weight          [kv_dim, dim]
//   blk.N.attn_output.weight     [dim, q_dim]
//   blk.N.ffn_norm.weight        [dim]
//   blk.N.ffn_gate.weight        [hidden, dim]
//   blk.N.ffn_up.weight          [hidden, dim]
//   blk.N.ffn_down.weight        [dim, hidden]
//   blk.N.attn_{q,k,v}.bias      [q_dim] / [kv_dim] / [kv_dim]   iff qkv_bias
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/config.h"
#include "model/tensor.h"

namespace slm {

struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
};

// Every tensor the config requires, in canonical order (token_embd, layers
// 0..n-1, output_norm, output).
std::vector<ExpectedTensor> ExpectedModelTensors(const ModelConfig& c);

// Stable-sorts tensors into the canonical order of ExpectedModelTensors
// (unexpected names last), so a model's tensor table (and so its package
// digest) does not depend on the order of the source file.
void SortModelTensors(const ModelConfig& c, std::vector<TensorData>* tensors);

// OK when every expected tensor is present exactly once with the expected
// shape and a dtype this build knows, and no unexpected tensor is present.
// Errors name the tensor, the expected and the found shape.
Status CheckModelTensors(const ModelConfig& c, const std::vector<TensorData>& tensors);

}  // namespace slm

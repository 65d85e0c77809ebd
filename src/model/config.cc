#include "model/config.h"

namespace slm {

Status ModelConfig::Validate() const {
  auto bad = [](const char* field, int64_t v, const char* expected) {
    return FormatError(std::string("model config: ") + field + " = " + std::to_string(v) +
                       ", expected " + expected);
  };
  // Ceilings keep products far from int64 overflow and reject absurd files.
  constexpr int32_t kMaxDim = 1 << 16, kMaxVocab = 1 << 22, kMaxLayers = 1024,
                    kMaxSeq = 1 << 22;
  if (arch != "llama" && arch != "qwen2") {
    return Unsupported("model config: arch '" + arch + "', expected 'llama' or 'qwen2'");
  }
  if (dim <= 0 || dim > kMaxDim) return bad("dim", dim, "1..65536");
  if (hidden_dim <= 0 || hidden_dim > 4 * kMaxDim) return bad("hidden_dim", hidden_dim, "1..262144");
  if (n_layers <= 0 || n_layers > kMaxLayers) return bad("n_layers", n_layers, "1..1024");
  if (n_heads <= 0 || n_heads > dim) return bad("n_heads", n_heads, "1..dim");
  if (n_kv_heads <= 0 || n_kv_heads > n_heads) return bad("n_kv_heads", n_kv_heads, "1..n_heads");
  if (n_heads % n_kv_heads != 0) return bad("n_kv_heads", n_kv_heads, "a divisor of n_heads");
  if (head_dim <= 0 || head_dim % 2 != 0 || head_dim > kMaxDim) {
    return bad("head_dim", head_dim, "an even number in 2..65536");
  }
  if (vocab_size <= 0 || vocab_size > kMaxVocab) return bad("vocab_size", vocab_size, "1..4194304");
  if (max_seq_len <= 0 || max_seq_len > kMaxSeq) return bad("max_seq_len", max_seq_len, "1..4194304");
  if (!(norm_eps > 0.0f && norm_eps < 1.0f)) {
    return FormatError("model config: norm_eps = " + std::to_string(norm_eps) + ", expected (0, 1)");
  }
  if (!(rope_theta > 1.0f && rope_theta < 1e9f)) {
    return FormatError("model config: rope_theta = " + std::to_string(rope_theta) +
                       ", expected (1, 1e9)");
  }
  if (rope_style != RopeStyle::kInterleaved && rope_style != RopeStyle::kHalfSplit) {
    return bad("rope_style", static_cast<int32_t>(rope_style), "0 (interleaved) or 1 (half-split)");
  }
  return Status::Ok();
}

}  // namespace slm

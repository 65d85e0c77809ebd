// Quality of a quantized model: KL divergence of its next-token distributions
// from a reference (f32) model's, position by position over a token sequence.
//
//   KL(P || Q) = sum_v P(v) (log P(v) - log Q(v))   (nats)
// with P = softmax(reference logits), Q = softmax(test logits), both computed
// in double with our own ExpD / LogD (base/math.h), summed in token-id order,
// so the figure is the same on every platform for the same logits.
//
// Two ways to run the quantized side (slm quantize reports both):
//   weights-only: the quantized tensors decoded back to f32
//     (tools/quantize.h DequantizeTensors) in the f32 path: exactly the values
//     the quantized weights represent, f32 activations. Isolates the weight
//     error; this was the only way before the quantized kernels landed and
//     stays as their cross-check.
//   runtime: the quantized tensors as they are, through the quantized kernels
//     (8-bit activation blocks and integer dot products): what users get.
// Each position needs its logits, so tokens run one Decode at a time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/config.h"
#include "model/tensor.h"

namespace slm::tools {

struct KlReport {
  int32_t positions = 0;
  double mean = 0;           // mean KL over positions (nats)
  double max = 0;            // largest KL at any position
  int32_t max_position = 0;  // where it occurred
  double top1_agree = 0;     // fraction of positions with the same argmax
};

// KL(softmax(p) || softmax(q)) in double.
double KlFromLogits(std::span<const float> p_logits, std::span<const float> q_logits);

// Runs ids[0..n) through both models (same config; any dtypes the runtime
// takes); position i compares the distributions for token i + 1. Requires
// 1 <= ids.size() <= max_seq_len. n_threads as SessionOptions (the result
// does not depend on it).
StatusOr<KlReport> KlDivergence(const ModelConfig& c, const std::vector<TensorData>& reference,
                                const std::vector<TensorData>& test, std::span<const int32_t> ids,
                                int32_t n_threads = 1);

}  // namespace slm::tools

// Quality of a quantized model: KL divergence of its next-token distributions
// from a reference (f32) model's, position by position over a token sequence.
//
//   KL(P || Q) = sum_v P(v) (log P(v) - log Q(v))   (nats)
// with P = softmax(reference logits), Q = softmax(test logits), both computed
// in double with our own ExpD / LogD (base/math.h), summed in token-id order,
// so the figure is the same on every platform for the same logits.
//
// Both models run in the f32 runtime, one Decode per position (every position
// needs its logits). A quantized model runs there as its dequantized weights
// (tools/quantize.h DequantizeTensors): exactly the values the quantized
// tensors represent; the activations stay f32. Once the runtime executes
// quantized tensors natively (8-bit activations), this path remains the
// cross-check that isolates the weight error.
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

// Runs ids[0..n) through both models (same config); position i compares the
// distributions for token i + 1. Requires 1 <= ids.size() <= max_seq_len.
StatusOr<KlReport> KlDivergence(const ModelConfig& c, const std::vector<TensorData>& reference,
                                const std::vector<TensorData>& test, std::span<const int32_t> ids);

}  // namespace slm::tools

// Seeded random-weight models in real llama shapes, for benchmarks that need
// nothing downloaded (speed does not depend on the values).
//
// Presets (vocab 32000, context 2048, rope theta 10000, eps 1e-5):
//   s15m  stories15M       dim 288,  hidden 768,  6 layers,  6 heads,          tied
//   s110m stories110M      dim 768,  hidden 2048, 12 layers, 12 heads,         tied
//   tl1b  TinyLlama-1.1B   dim 2048, hidden 5632, 22 layers, 32 heads / 4 KV,  untied
//
// Values. Every tensor is generated on its own from (seed, name), so tensors
// can be produced one at a time in any order and the f32 values do not depend
// on the output type or file format:
//   state  = seed XOR FNV-1a-64(name); rng = Prng(SplitMix64Next(&state))
//            (xoshiro256**, base/prng.h)
//   1-D tensors (norm weights): 1.0 exactly
//   2-D weights: N(0, 0.02) by Box-Muller on pairs, using our own math
//            (base/math.h, identical on every platform):
//     u1 = ((rng.Next() >> 11) + 1) * 2^-53      in (0, 1]
//     u2 =  (rng.Next() >> 11)      * 2^-53      in [0, 1)
//     r  = SqrtD(-2 LogD(u1));  z0 = r CosD(2 pi u2);  z1 = r SinD(2 pi u2)
//     w[2k] = float(0.02 z0), w[2k+1] = float(0.02 z1)  (an odd tail uses z0)
// Quantized types follow tools/quantize.h's policy (pure scheme; 1-D stays
// f32), applied to those f32 values tensor by tensor.
//
// Tokenizer: a dummy SentencePiece vocabulary of vocab_size pieces: <unk>,
// <s>, </s>, the 256 byte pieces <0x00>..<0xFF>, then U+2581 ("▁") and the
// printable ASCII characters, then "▁" + lowercase letter strings, scores
// descending, so any text encodes and llama.cpp accepts it as a "llama" vocab.
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
#include "tools/quantize.h"

namespace slm::tools {

// false for an unknown preset name.
bool SynthPresetConfig(const std::string& preset, ModelConfig* c);
// "s15m, s110m, tl1b"
const char* SynthPresetNames();

// The f32 values of tensor `name` (out.size() elements; rank decides 1.0 vs
// N(0, 0.02)).
void SynthTensorValues(uint64_t seed, const std::string& name, size_t rank, std::span<float> out);

TokenizerData SynthTokenizer(int32_t vocab_size);

struct SynthSpec {
  ModelConfig config;
  QuantScheme scheme = QuantScheme::kF32;
  uint64_t seed = 0;
  std::string label;  // e.g. "s110m" (recorded in provenance / general.name)
};

// One tensor of the model: name, shape, and the dtype the policy gives it.
struct SynthTensorInfo {
  std::string name;
  std::vector<int64_t> shape;
  DType dtype = DType::kF32;
  uint64_t bytes = 0;
};
StatusOr<std::vector<SynthTensorInfo>> SynthTensorList(const SynthSpec& s);
// The bytes of tensor `info` (generated, then encoded).
StatusOr<std::vector<uint8_t>> SynthTensorBytes(const SynthSpec& s, const SynthTensorInfo& info);

// The whole model in memory (each tensor holds only its final-type bytes).
StatusOr<ModelBundle> SynthBundle(const SynthSpec& s);

}  // namespace slm::tools

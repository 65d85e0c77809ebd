// Sampling replay cases shared by the wasm32-wasi determinism program
// (tests/wasm/determinism_main.cc) and the native test
// (tests/unit/determinism_test.cc): the same seed must draw the same token ids
// in the native and browser builds, for top-k, top-p and min-p sampling with
// repetition / presence / frequency penalties on (issue 6 acceptance).
// The wasm program prints "sampling <case>@<format> <table> <id,id,...>"; the test
// compares those lists with the native ones for every kernel table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "model/tensor.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"

namespace slm::determinism {

struct SamplingCase {
  const char* name;
  SamplerConfig config;
};

inline SamplerConfig WithPenalties(float temperature, int32_t top_k, float top_p, float min_p,
                                   uint64_t seed, uint64_t stream) {
  SamplerConfig c;
  c.temperature = temperature;
  c.top_k = top_k;
  c.top_p = top_p;
  c.min_p = min_p;
  c.repeat_penalty = 1.3f;
  c.presence_penalty = 0.2f;
  c.frequency_penalty = 0.1f;
  c.penalty_last_n = 32;
  c.seed = seed;
  c.stream = stream;
  return c;
}

inline const std::vector<SamplingCase>& SamplingCases() {
  static const std::vector<SamplingCase> k = {
      {"top_k", WithPenalties(0.9f, 40, 1.0f, 0.0f, 20261126, 0)},
      {"top_p", WithPenalties(1.0f, 0, 0.9f, 0.0f, 20261126, 0)},
      {"min_p", WithPenalties(1.1f, 0, 1.0f, 0.05f, 20261126, 0)},
      {"all_stream3", WithPenalties(0.8f, 30, 0.95f, 0.03f, 987654321, 3)},
      {"greedy_penalties", WithPenalties(0.0f, 0, 1.0f, 0.0f, 0, 0)},
  };
  return k;
}

inline constexpr int32_t kSamplingTokens = 48;

// Weight formats the cases run in (stories260K quantized in memory by
// determinism_cases.h's Quantize); a case is named "<case>@<format>".
inline std::vector<DType> SamplingFormats() { return {DType::kF32, DType::kQ8_0}; }

// "Once upon a" in the stories260K (tok512) vocabulary, after BOS.
inline const std::vector<int32_t>& SamplingPrompt() {
  static const std::vector<int32_t> k = {1, 403, 407, 261};
  return k;
}

// The ids generated with kernel table `k` (1 thread), or empty on any error.
inline std::vector<int32_t> SampleIds(const Model& m, const KernelTable* k, const SamplingCase& c) {
  auto s = Session::Create(m, {0, 1, k});
  if (!s.ok()) return {};
  GenerateOptions o;
  o.sampling = c.config;
  o.max_new_tokens = kSamplingTokens;
  o.eos_id = -1;  // always the full length
  auto g = Generator::Create(m.config().vocab_size, o);
  if (!g.ok()) return {};
  std::vector<int32_t> ids;
  auto st = (*g)->Run(**s, SamplingPrompt(), [&](int32_t id) {
    ids.push_back(id);
    return true;
  });
  if (!st.ok()) return {};
  return ids;
}

inline std::string IdsText(const std::vector<int32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out.empty() ? "-" : out;
}

}  // namespace slm::determinism

// Picks the next token from logits, deterministically (DESIGN.md principle 3).
//
//   temperature == 0: greedy argmax; ties go to the lowest id; NaN logits never win.
//   temperature  > 0: 1. l[i] = logit[i] / temperature (NaN -> -inf)
//                     2. candidates = all ids, or with top_k > 0 the k best by
//                        (l desc, id asc)
//                     3. p[i] = Exp(l[i] - max l) (base/math.h), summed in
//                        candidate order
//                     4. top_p < 1: candidates (sorted, see below); keep
//                        the shortest prefix whose running sum reaches top_p * sum
//                        (at least one token)
//                     5. u = Prng::NextFloat() (xoshiro256** seeded by
//                        splitmix64(seed), base/prng.h); r = u * (sum of kept p);
//                        walk the kept candidates in order and return the first
//                        whose running sum exceeds r (the last one if rounding
//                        leaves r unreached).
//   Candidate order: sorted by (l desc, id asc) whenever top_k or top_p is active,
//   otherwise id order (like llama2.c's sample_mult). One draw per call.
// All buffers are sized at Create; Sample() does not allocate.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/prng.h"
#include "base/status.h"

namespace slm {

struct SamplerConfig {
  float temperature = 0;  // 0 = greedy; else finite, > 0
  int32_t top_k = 0;      // 0 = off
  float top_p = 1;        // (0, 1]; 1 = off
  uint64_t seed = 0;
};

class Sampler {
 public:
  // InvalidArgument naming the bad field (vocab <= 0, temperature < 0 or not
  // finite, top_k < 0, top_p outside (0, 1]).
  static StatusOr<std::unique_ptr<Sampler>> Create(int32_t vocab, SamplerConfig config);
  // logits must have vocab entries (fewer: only those are considered; more: ignored).
  int32_t Sample(std::span<const float> logits);
  // Restarts the random stream from `seed`.
  void Reseed(uint64_t seed) { prng_.Seed(seed); }
  const SamplerConfig& config() const { return config_; }

 private:
  Sampler(int32_t vocab, SamplerConfig config);
  int32_t vocab_;
  SamplerConfig config_;
  Prng prng_;
  std::vector<float> probs_;   // [vocab]
  std::vector<int32_t> ids_;   // [vocab] candidate ids
};

// Greedy argmax, ties to the lowest id, NaN ignored; 0 if every value is NaN or n == 0.
int32_t ArgMax(std::span<const float> logits);

}  // namespace slm

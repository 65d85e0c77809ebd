// Picks the next token from logits, deterministically (DESIGN.md principle 3).
// docs/sampling.md describes the chain with examples; this is the contract.
//
// A fixed chain, applied to the logits of one position (n = min(logits size,
// vocab) entries; ids >= n are never drawn):
//
//   0. Penalties (only when repeat_penalty != 1, presence_penalty != 0 or
//      frequency_penalty != 0, and penalty_last_n > 0), llama.cpp semantics
//      over the window W of the last penalty_last_n accepted tokens (Accept):
//      for every distinct id in W with c = its count in W,
//        l[id] = l[id] <= 0 ? l[id] * repeat_penalty : l[id] / repeat_penalty
//        l[id] = l[id] - (float(c) * frequency_penalty + presence_penalty)
//      Other ids keep their logit. NaN stays NaN (and is dropped below).
//   temperature == 0: greedy argmax of l; ties go to the lowest id; NaN never
//      wins (0 if every value is NaN). No random number is drawn.
//   temperature  > 0:
//   1. l[i] = l[i] / temperature (NaN -> -inf)
//   2. candidates = all ids, or with top_k > 0 the k best by (l desc, id asc)
//   3. p[i] = Exp(l[i] - max l) (base/math.h), summed in candidate order
//      (the best candidate has p = 1)
//   4. top_p < 1: candidates (sorted, see below); keep the shortest prefix
//      whose running sum reaches top_p * sum (at least one token)
//   5. min_p > 0: keep the prefix of candidates with p >= min_p * p[best]
//      (at least one token); sum = their running sum in candidate order
//   6. u = NextFloat() of this sampler's stream; r = u * (sum of kept p);
//      walk the kept candidates in order and return the first whose running
//      sum exceeds r (the last one if rounding leaves r unreached).
//   Candidate order: sorted by (l desc, id asc) whenever top_k, top_p or min_p
//   is active, otherwise id order (like llama2.c's sample_mult). One draw per
//   Sample() call with temperature > 0; a row with no finite candidate after
//   step 1 returns the argmax of the step-0 row without drawing.
//
// Random stream: xoshiro256** (base/prng.h) seeded with StreamSeed(seed,
// stream); stream 0 is Prng(seed) itself, so configurations without the newer
// fields draw exactly what they drew before they existed. A batch gives each
// sequence its own Sampler with stream = the sequence's index, so the draws of
// one sequence never depend on how many others run or in which order they are
// sampled.
//
// All buffers are sized at Create; Sample() and Accept() never allocate.
// A Sampler is not thread-safe; use one per sequence.
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
  // Added with issue 6. The defaults are neutral: a config that leaves them
  // alone draws exactly the tokens it drew before they existed.
  float min_p = 0;              // [0, 1]; 0 = off
  float repeat_penalty = 1;     // finite, > 0; 1 = off (llama.cpp repeat_penalty)
  float presence_penalty = 0;   // finite; 0 = off
  float frequency_penalty = 0;  // finite; 0 = off
  int32_t penalty_last_n = 64;  // window of accepted tokens, 0..kMaxPenaltyWindow; 0 = off
  uint64_t stream = 0;          // sequence index: selects the random stream (StreamSeed)
};

// The seed of sequence `stream`'s generator:
//   stream == 0: seed (today's single stream, unchanged)
//   stream  > 0: M(seed XOR M(stream)), where M(v) is the first output of
//                splitmix64 started at state v (SplitMix64Next, base/prng.h)
// O(1), so any sequence index can be set up directly.
uint64_t StreamSeed(uint64_t seed, uint64_t stream);

class Sampler {
 public:
  static constexpr int32_t kMaxPenaltyWindow = 1 << 20;  // tokens

  // InvalidArgument naming the bad field (vocab <= 0, temperature < 0 or not
  // finite, top_k < 0, top_p outside (0, 1], min_p outside [0, 1],
  // repeat_penalty <= 0 or not finite, presence/frequency not finite,
  // penalty_last_n outside 0..kMaxPenaltyWindow).
  static StatusOr<std::unique_ptr<Sampler>> Create(int32_t vocab, SamplerConfig config);

  // logits must have vocab entries (fewer: only those are considered; more:
  // ignored). Does not change the penalty window: call Accept with the token
  // actually used.
  int32_t Sample(std::span<const float> logits);
  // Appends a token to the penalty window (the oldest drops out when
  // penalty_last_n are held). The generation loop accepts every emitted token
  // and, by default, the prompt's (runtime/generate.h). InvalidArgument for an
  // id outside [0, vocab). A no-op when penalty_last_n == 0.
  Status Accept(int32_t id);
  // Restarts the random stream from StreamSeed(seed, config().stream) and
  // empties the penalty window (a fresh generation). config().seed becomes seed.
  void Reseed(uint64_t seed);
  // Reseed(config().seed).
  void Reset() { Reseed(config_.seed); }
  // Step 0 alone, in place on a row of logits (ids >= vocab untouched): what
  // Sample() starts from. A no-op when penalties are off or the window is
  // empty. Does not allocate.
  void ApplyPenalties(std::span<float> logits);

  // The sampler's mutable state as bytes: random stream position and penalty
  // window (the counts follow from it). Format (little-endian):
  //   [0]  "SLSS" magic   [4] u32 version 1   [8] i32 vocab
  //   [12] i32 window capacity (penalty_last_n)   [16] i32 n tokens held
  //   [20] u32 0   [24] 4 x u64 xoshiro256** state
  //   [56] n x i32 token ids, oldest first   [56 + 4n] u64 FNV-1a 64 of
  //   every byte before it
  std::vector<uint8_t> SaveState() const;
  // Restores SaveState() bytes: the next draws and penalties continue exactly
  // where the saved sampler stood (the config, e.g. temperature, stays this
  // sampler's). A window saved with another capacity keeps its newest
  // min(n, penalty_last_n) tokens. Refused, with the sampler unchanged:
  // FormatError (size, magic, version, count, an id outside the vocab, an
  // all-zero generator state), IntegrityError (checksum) or InvalidArgument
  // (saved for another vocab).
  Status RestoreState(std::span<const uint8_t> bytes);

  const SamplerConfig& config() const { return config_; }
  int32_t vocab() const { return vocab_; }
  // Tokens in the penalty window (<= penalty_last_n) and one id's count there.
  int32_t window_size() const { return window_fill_; }
  int32_t window_count(int32_t id) const {
    return id >= 0 && id < vocab_ && !counts_.empty() ? counts_[id] : 0;
  }

 private:
  Sampler(int32_t vocab, SamplerConfig config);
  bool penalties_active() const;
  // probs_[0..n) = logits[0..n) with step 0 applied.
  void Penalize(std::span<const float> logits, int32_t n);
  void ClearWindow();
  void PushWindow(int32_t id);

  int32_t vocab_;
  SamplerConfig config_;
  Prng prng_;
  std::vector<float> probs_;     // [vocab] working logits / probabilities
  std::vector<int32_t> ids_;     // [vocab] candidate ids
  std::vector<int32_t> window_;  // [penalty_last_n] ring of accepted ids
  std::vector<int32_t> counts_;  // [vocab] occurrences in the window (empty if no window)
  std::vector<uint8_t> seen_;    // [vocab] scratch: id already penalized this call
  int32_t window_head_ = 0;      // next slot to write
  int32_t window_fill_ = 0;      // tokens held
};

// Greedy argmax, ties to the lowest id, NaN ignored; 0 if every value is NaN or n == 0.
int32_t ArgMax(std::span<const float> logits);

}  // namespace slm

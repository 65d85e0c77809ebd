#include "sampling_flags.h"

#include <string>

namespace slm::cli {

std::vector<FlagSpec> WithSamplingFlags(std::vector<FlagSpec> flags) {
  const FlagSpec sampling[] = {
      {"--temp", "T", "temperature; 0 = greedy, ties to the lowest id (default 0)"},
      {"--top-k", "K", "keep the K most likely tokens; 0 = all (default 0)"},
      {"--top-p", "P", "nucleus: keep the smallest set with mass >= P (default 1)"},
      {"--min-p", "P", "keep tokens with p >= P * p_max; 0 = off (default 0)"},
      {"--repeat-penalty", "R",
       "divide positive logits of recent tokens by R; 1 = off (default 1)"},
      {"--presence-penalty", "A", "subtract A from recent tokens' logits (default 0)"},
      {"--frequency-penalty", "F", "subtract F x count of recent tokens (default 0)"},
      {"--penalty-last-n", "N", "penalty window in tokens, prompt included (default 64)"},
      {"--seed", "S", "PRNG seed for sampling (default 0)"},
  };
  flags.insert(flags.end(), std::begin(sampling), std::end(sampling));
  return flags;
}

StatusOr<SamplerConfig> ParseSamplingFlags(const Args& a, uint64_t max_seed) {
  SamplerConfig c;
  SLM_ASSIGN_OR_RETURN(double temp, a.GetDouble("--temp", 0.0));
  SLM_ASSIGN_OR_RETURN(int64_t top_k, a.GetInt("--top-k", 0));
  SLM_ASSIGN_OR_RETURN(double top_p, a.GetDouble("--top-p", 1.0));
  SLM_ASSIGN_OR_RETURN(double min_p, a.GetDouble("--min-p", 0.0));
  SLM_ASSIGN_OR_RETURN(double repeat, a.GetDouble("--repeat-penalty", 1.0));
  SLM_ASSIGN_OR_RETURN(double presence, a.GetDouble("--presence-penalty", 0.0));
  SLM_ASSIGN_OR_RETURN(double frequency, a.GetDouble("--frequency-penalty", 0.0));
  SLM_ASSIGN_OR_RETURN(int64_t last_n, a.GetInt("--penalty-last-n", 64));
  SLM_ASSIGN_OR_RETURN(int64_t seed, a.GetInt("--seed", 0));
  if (top_k < 0 || top_k > INT32_MAX) {
    return InvalidArgument("--top-k " + std::to_string(top_k) + ": expected >= 0");
  }
  if (last_n < 0 || last_n > Sampler::kMaxPenaltyWindow) {
    return InvalidArgument("--penalty-last-n " + std::to_string(last_n) + ": expected 0.." +
                           std::to_string(Sampler::kMaxPenaltyWindow));
  }
  if (seed < 0 || static_cast<uint64_t>(seed) > max_seed) {
    return InvalidArgument("--seed " + std::to_string(seed) + ": expected 0.." +
                           std::to_string(max_seed));
  }
  c.temperature = static_cast<float>(temp);
  c.top_k = static_cast<int32_t>(top_k);
  c.top_p = static_cast<float>(top_p);
  c.min_p = static_cast<float>(min_p);
  c.repeat_penalty = static_cast<float>(repeat);
  c.presence_penalty = static_cast<float>(presence);
  c.frequency_penalty = static_cast<float>(frequency);
  c.penalty_last_n = static_cast<int32_t>(last_n);
  c.seed = static_cast<uint64_t>(seed);
  return c;
}

}  // namespace slm::cli

// The sampler flags shared by `generate` and `eval` (docs/sampling.md), so
// both spell, document and check them the same way.
#pragma once

#include <cstdint>
#include <vector>

#include "flags.h"
#include "sampler/sampler.h"

namespace slm::cli {

// `flags` followed by --temp, --top-k, --top-p, --min-p, --repeat-penalty,
// --presence-penalty, --frequency-penalty, --penalty-last-n and --seed.
std::vector<FlagSpec> WithSamplingFlags(std::vector<FlagSpec> flags);

// The config the flags describe (defaults: greedy, every filter and penalty
// off, seed 0). Seeds must be <= max_seed; Sampler::Create checks the rest.
StatusOr<SamplerConfig> ParseSamplingFlags(const Args& a, uint64_t max_seed);

}  // namespace slm::cli

// The generation loop: prefill a prompt, then sample and decode one token at a
// time until EOS, a token budget, the end of the context or the caller says stop.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "base/status.h"
#include "runtime/session.h"
#include "sampler/sampler.h"

namespace slm {

enum class StopReason : int32_t {
  kEos = 0,          // the sampler chose eos_id (not emitted)
  kMaxTokens = 1,    // max_new_tokens emitted
  kContextFull = 2,  // the session's context is full (a clean stop)
  kCallback = 3,     // the callback returned false
};
const char* StopReasonName(StopReason r);

struct GenerateStats {
  double prefill_tok_s = 0;   // prompt tokens per second
  double decode_tok_s = 0;    // decoded tokens per second (0 if none decoded)
  int32_t tokens_in_cache = 0;  // session position at the end
  int32_t prompt_tokens = 0;
  int32_t generated_tokens = 0;  // tokens passed to the callback
  StopReason stop_reason = StopReason::kMaxTokens;
};

// Emits each generated id to on_token (return false to stop). The prompt runs
// from the session's current position (so a caller may continue a
// conversation); errors are Prefill's (empty prompt, bad id, overflow) or
// InvalidArgument for max_new_tokens < 0. eos_id < 0 disables EOS.
StatusOr<GenerateStats> Generate(Session& session, Sampler& sampler,
                                 std::span<const int32_t> prompt_ids, int32_t max_new_tokens,
                                 int32_t eos_id, const std::function<bool(int32_t)>& on_token);

}  // namespace slm

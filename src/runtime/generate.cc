#include "runtime/generate.h"

#include <chrono>
#include <string>

namespace slm {

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kEos: return "eos";
    case StopReason::kMaxTokens: return "max_tokens";
    case StopReason::kContextFull: return "context_full";
    case StopReason::kCallback: return "callback";
  }
  return "unknown";
}

StatusOr<GenerateStats> Generate(Session& session, Sampler& sampler,
                                 std::span<const int32_t> prompt_ids, int32_t max_new_tokens,
                                 int32_t eos_id, const std::function<bool(int32_t)>& on_token) {
  using Clock = std::chrono::steady_clock;
  if (max_new_tokens < 0) {
    return InvalidArgument("max_new_tokens = " + std::to_string(max_new_tokens) +
                           ", expected >= 0");
  }
  GenerateStats stats;
  stats.prompt_tokens = static_cast<int32_t>(prompt_ids.size());
  const auto t0 = Clock::now();
  SLM_RETURN_IF_ERROR(session.Prefill(prompt_ids));
  const auto t1 = Clock::now();
  const double prefill_s = std::chrono::duration<double>(t1 - t0).count();
  stats.prefill_tok_s = prefill_s > 0 ? stats.prompt_tokens / prefill_s : 0;

  int32_t decoded = 0;
  stats.stop_reason = StopReason::kMaxTokens;
  while (true) {
    if (stats.generated_tokens >= max_new_tokens) {
      stats.stop_reason = StopReason::kMaxTokens;
      break;
    }
    const int32_t id = sampler.Sample(session.logits());
    if (id == eos_id) {
      stats.stop_reason = StopReason::kEos;
      break;
    }
    ++stats.generated_tokens;
    if (on_token && !on_token(id)) {
      stats.stop_reason = StopReason::kCallback;
      break;
    }
    if (stats.generated_tokens >= max_new_tokens) {
      stats.stop_reason = StopReason::kMaxTokens;  // no need to run the last token
      break;
    }
    if (session.position() >= session.n_ctx()) {
      stats.stop_reason = StopReason::kContextFull;
      break;
    }
    SLM_RETURN_IF_ERROR(session.Decode(id));
    ++decoded;
  }
  const double decode_s = std::chrono::duration<double>(Clock::now() - t1).count();
  stats.decode_tok_s = decoded > 0 && decode_s > 0 ? decoded / decode_s : 0;
  stats.tokens_in_cache = session.position();
  return stats;
}

}  // namespace slm

#include "runtime/generate.h"

#include <chrono>
#include <string>

namespace slm {
namespace {

using Clock = std::chrono::steady_clock;

double MsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The loop of generate.h; `matcher` may be null (no tokenizer).
StatusOr<GenerateStats> RunLoop(Session& session, SeqId seq, Sampler& sampler,
                                std::span<const int32_t> prompt, int32_t max_new_tokens,
                                int32_t eos_id, bool accept_prompt, StopMatcher* matcher,
                                const TokenCallback& on_token, const TextCallback& on_text) {
  GenerateStats stats;
  stats.prompt_tokens = static_cast<int32_t>(prompt.size());
  if (accept_prompt) {
    // Ids the model takes but the sampler does not (a sampler built for
    // another vocab) are refused before the session moves; ids the model
    // refuses get Prefill's message.
    const int32_t model_vocab = session.model().config().vocab_size;
    for (int32_t id : prompt) {
      if (id >= sampler.vocab() && id < model_vocab) {
        return InvalidArgument("prompt id " + std::to_string(id) +
                               " is outside the sampler's vocab of " +
                               std::to_string(sampler.vocab()));
      }
    }
  }
  const auto t0 = Clock::now();
  SLM_RETURN_IF_ERROR(session.Prefill(seq, prompt));
  const auto t1 = Clock::now();
  stats.prefill_ms = MsBetween(t0, t1);
  stats.prefill_tok_s = stats.prefill_ms > 0 ? stats.prompt_tokens / (stats.prefill_ms / 1000) : 0;
  if (accept_prompt) {
    for (int32_t id : prompt) SLM_RETURN_IF_ERROR(sampler.Accept(id));
  }
  if (matcher != nullptr) matcher->Reset();

  stats.stop_reason = StopReason::kMaxTokens;
  bool first = true;
  while (true) {
    if (stats.generated_tokens >= max_new_tokens) {
      stats.stop_reason = StopReason::kMaxTokens;
      break;
    }
    const int32_t id = sampler.Sample(session.logits(seq));
    if (first) {
      stats.time_to_first_token_ms = MsBetween(t0, Clock::now());
      first = false;
    }
    if (id == eos_id) {
      stats.stop_reason = StopReason::kEos;
      break;
    }
    SLM_RETURN_IF_ERROR(sampler.Accept(id));
    ++stats.generated_tokens;
    const bool go_on = on_token ? on_token(id) : true;
    if (matcher != nullptr) {
      const std::string_view text = matcher->Feed(id);
      if (!text.empty() && on_text) on_text(text);
      if (matcher->stopped()) {
        stats.stop_reason = StopReason::kStopString;
        stats.stop_string = matcher->matched();
        break;
      }
    }
    if (!go_on) {
      stats.stop_reason = StopReason::kCallback;
      break;
    }
    if (stats.generated_tokens >= max_new_tokens) {
      stats.stop_reason = StopReason::kMaxTokens;  // no need to run the last token
      break;
    }
    if (session.position(seq) >= session.n_ctx()) {
      stats.stop_reason = StopReason::kContextFull;
      break;
    }
    SLM_RETURN_IF_ERROR(session.Decode(seq, id));
    ++stats.decoded_tokens;
  }
  if (matcher != nullptr && stats.stop_reason != StopReason::kStopString) {
    const std::string_view tail = matcher->Flush();
    if (!tail.empty() && on_text) on_text(tail);
  }
  stats.decode_ms = MsBetween(t1, Clock::now());
  stats.decode_tok_s = stats.decoded_tokens > 0 && stats.decode_ms > 0
                           ? stats.decoded_tokens / (stats.decode_ms / 1000)
                           : 0;
  stats.tokens_in_cache = session.position(seq);
  return stats;
}

}  // namespace

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kEos:
      return "eos";
    case StopReason::kMaxTokens:
      return "max_tokens";
    case StopReason::kContextFull:
      return "context_full";
    case StopReason::kCallback:
      return "callback";
    case StopReason::kStopString:
      return "stop_string";
  }
  return "unknown";
}

StatusOr<std::unique_ptr<Generator>> Generator::Create(int32_t vocab, GenerateOptions options) {
  if (options.max_new_tokens < 0) {
    return InvalidArgument("max_new_tokens = " + std::to_string(options.max_new_tokens) +
                           ", expected >= 0");
  }
  if (!options.stop_strings.empty() && options.tokenizer == nullptr) {
    return InvalidArgument(std::to_string(options.stop_strings.size()) +
                           " stop strings but no tokenizer to decode the text");
  }
  if (options.tokenizer != nullptr && options.tokenizer->vocab_size() != vocab) {
    return InvalidArgument("tokenizer vocab " + std::to_string(options.tokenizer->vocab_size()) +
                           ", expected the model's " + std::to_string(vocab));
  }
  SLM_ASSIGN_OR_RETURN(std::unique_ptr<Sampler> sampler, Sampler::Create(vocab, options.sampling));
  std::unique_ptr<StopMatcher> matcher;
  if (options.tokenizer != nullptr) {
    SLM_ASSIGN_OR_RETURN(matcher, StopMatcher::Create(*options.tokenizer, options.stop_strings));
  }
  return std::unique_ptr<Generator>(
      new Generator(std::move(options), std::move(sampler), std::move(matcher)));
}

StatusOr<GenerateStats> Generator::Run(Session& session, std::span<const int32_t> prompt,
                                       const TokenCallback& on_token, const TextCallback& on_text) {
  return Run(session, *sampler_, prompt, on_token, on_text);
}

StatusOr<GenerateStats> Generator::Run(Session& session, Sampler& sampler,
                                       std::span<const int32_t> prompt,
                                       const TokenCallback& on_token, const TextCallback& on_text) {
  return Run(session, 0, sampler, prompt, on_token, on_text);
}

StatusOr<GenerateStats> Generator::Run(Session& session, SeqId seq, Sampler& sampler,
                                       std::span<const int32_t> prompt,
                                       const TokenCallback& on_token, const TextCallback& on_text) {
  return RunLoop(session, seq, sampler, prompt, options_.max_new_tokens, options_.eos_id,
                 options_.accept_prompt, matcher_.get(), on_token, on_text);
}

StatusOr<GenerateStats> Generate(Session& session, Sampler& sampler,
                                 std::span<const int32_t> prompt_ids, int32_t max_new_tokens,
                                 int32_t eos_id, const std::function<bool(int32_t)>& on_token) {
  if (max_new_tokens < 0) {
    return InvalidArgument("max_new_tokens = " + std::to_string(max_new_tokens) +
                           ", expected >= 0");
  }
  return RunLoop(session, 0, sampler, prompt_ids, max_new_tokens, eos_id, /*accept_prompt=*/true,
                 nullptr, on_token, {});
}

}  // namespace slm

// The generation loop: prefill a prompt, then sample and decode one token at a
// time until EOS, a stop string, a token budget, the end of the context or the
// caller says stop. docs/sampling.md describes it with the sampler chain.
//
// Per step (after the prompt's prefill and, when accept_prompt, Accept of
// every prompt id):
//   1. id = sampler.Sample(session.logits())
//   2. id == eos_id: stop (kEos); the EOS token is neither emitted nor accepted
//   3. sampler.Accept(id); on_token(id) (its return value is read in 5)
//   4. with a tokenizer: the StopMatcher (sampler/stop_strings.h) decodes id;
//      released text goes to on_text; a completed stop string stops (kStopString)
//   5. on_token returned false: stop (kCallback)
//   6. max_new_tokens emitted: stop (kMaxTokens; the last token is not run)
//   7. the context is full: stop (kContextFull)
//   8. session.Decode(id), next step
// When the loop ends for any reason but a stop string, the matcher's held
// text (a possible stop-string start, an incomplete UTF-8 tail) is flushed to
// on_text, so the concatenated text is the whole decoded output. On a stop
// string the ids still include the tokens that spelled it (they were
// generated), while the text ends just before it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "sampler/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace slm {

enum class StopReason : int32_t {
  kEos = 0,          // the sampler chose eos_id (not emitted)
  kMaxTokens = 1,    // max_new_tokens emitted
  kContextFull = 2,  // the session's context is full (a clean stop)
  kCallback = 3,     // the callback returned false
  kStopString = 4,   // the decoded text contains a stop string
};
const char* StopReasonName(StopReason r);

struct GenerateStats {
  double prefill_tok_s = 0;     // prompt tokens per second
  double decode_tok_s = 0;      // decoded tokens per second (0 if none decoded)
  int32_t tokens_in_cache = 0;  // session position at the end
  int32_t prompt_tokens = 0;
  int32_t generated_tokens = 0;  // tokens passed to the callback
  StopReason stop_reason = StopReason::kMaxTokens;
  // Added with issue 6.
  double time_to_first_token_ms = 0;  // start -> first sampled id (prefill + 1 sample); 0 if none
  double prefill_ms = 0;              // the prompt's Prefill call
  double decode_ms = 0;               // after the prefill to the end (sampling + decode steps)
  int32_t decoded_tokens = 0;         // Decode calls (generated_tokens or one fewer)
  int32_t stop_string = -1;           // index into stop_strings on kStopString, else -1
};

using TokenCallback = std::function<bool(int32_t id)>;
using TextCallback = std::function<void(std::string_view text)>;

struct GenerateOptions {
  SamplerConfig sampling;        // the Generator's own sampler (see Generator::Run)
  int32_t max_new_tokens = 256;  // >= 0
  int32_t eos_id = -1;           // < 0: no EOS
  // Checked on the decoded text across token boundaries; non-empty, valid
  // UTF-8 (StopMatcher limits). Needs `tokenizer`.
  std::vector<std::string> stop_strings;
  // Decodes generated tokens for on_text and stop strings; nullptr = ids only.
  // Must outlive the Generator.
  const Tokenizer* tokenizer = nullptr;
  // Sampler::Accept every prompt id before the first draw, so penalties see
  // the prompt (llama.cpp's command-line and server behaviour).
  bool accept_prompt = true;
};

// A reusable generation set-up: the options, a Sampler built from
// options.sampling and the stop-string buffers, all created once. Run then
// performs no heap allocation of its own (the session's forward pass and the
// caller's callbacks aside).
class Generator {
 public:
  // InvalidArgument for max_new_tokens < 0, stop strings without a tokenizer,
  // a tokenizer whose vocab differs from `vocab`, or the Sampler's / the
  // StopMatcher's errors. `vocab` is the model's.
  static StatusOr<std::unique_ptr<Generator>> Create(int32_t vocab, GenerateOptions options);

  // Runs the prompt from the session's current position (a caller may
  // continue a conversation) with this Generator's sampler, which keeps its
  // random stream and penalty window across runs (sampler().Reset() starts
  // afresh). Errors are Prefill's (empty prompt, bad id, overflow) or
  // Decode's; on_token / on_text may be empty.
  StatusOr<GenerateStats> Run(Session& session, std::span<const int32_t> prompt,
                              const TokenCallback& on_token, const TextCallback& on_text = {});
  // The same loop with a caller's sampler (options.sampling unused).
  StatusOr<GenerateStats> Run(Session& session, Sampler& sampler, std::span<const int32_t> prompt,
                              const TokenCallback& on_token, const TextCallback& on_text = {});
  // The same loop on sequence `seq` of a multi-sequence session (the
  // overloads above use sequence 0). Give each sequence its own Sampler with
  // config.stream = its index: draws then do not depend on the other
  // sequences (sampler.h).
  StatusOr<GenerateStats> Run(Session& session, SeqId seq, Sampler& sampler,
                              std::span<const int32_t> prompt, const TokenCallback& on_token,
                              const TextCallback& on_text = {});

  Sampler& sampler() { return *sampler_; }
  const GenerateOptions& options() const { return options_; }

 private:
  Generator(GenerateOptions o, std::unique_ptr<Sampler> s, std::unique_ptr<StopMatcher> m)
      : options_(std::move(o)), sampler_(std::move(s)), matcher_(std::move(m)) {}
  GenerateOptions options_;
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<StopMatcher> matcher_;  // nullptr without a tokenizer
};

// The original entry point, unchanged in behaviour: no tokenizer, no stop
// strings; prompt ids are accepted into the sampler's penalty window (no
// effect without penalties). InvalidArgument for max_new_tokens < 0; other
// errors as Generator::Run. eos_id < 0 disables EOS.
StatusOr<GenerateStats> Generate(Session& session, Sampler& sampler,
                                 std::span<const int32_t> prompt_ids, int32_t max_new_tokens,
                                 int32_t eos_id, const std::function<bool(int32_t)>& on_token);

}  // namespace slm

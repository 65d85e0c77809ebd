// The evaluation loop (docs/eval.md, "How a case is run"): for each case of
// this shard, in file order:
//   1. Reset the session (issue 6 will let cases sharing a prompt prefix share
//      KV pages; until then every case prefills its whole prompt);
//   2. reseed the sampler with the run's seed (so a case's tokens do not
//      depend on which other cases ran before it: shards = single run);
//   3. generate up to max_new_tokens (EOS stops), output text = the
//      concatenated raw bytes of the tokens, invalid UTF-8 -> U+FFFD;
//   4. apply the match rule;
//   5. teacher-forced log-likelihood of the target (expected, or reference
//      for regex cases) tokenized on its own: no BOS, no SentencePiece dummy
//      prefix, so " there" scores the same ids the model emits after a prompt.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "adapter/adapter.h"
#include "base/sha256.h"
#include "base/status.h"
#include "eval/cases.h"
#include "eval/evidence.h"
#include "package/package.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "tokenizer/tokenizer.h"

namespace slm::eval {

struct EvalInputs {
  const Package* package = nullptr;
  const Tokenizer* tokenizer = nullptr;
  Session* session = nullptr;
  std::span<const EvalCase> cases;           // the whole file
  std::string cases_source = "cases";        // names the file in errors
  std::string cases_digest;                  // hex SHA-256 of the file bytes
  SamplerConfig sampling;                    // seed must be < 2^53 (stored as a JSON number)
  int32_t shard_index = 0, shard_count = 1;  // case i runs in shard i % shard_count
  // The adapters the session computes with (already attached with
  // Session::SetDeltas), in order; recorded in the identity.
  std::vector<AdapterRef> adapters;
};

struct EvalProgress {
  int64_t done = 0, total = 0;  // cases in this shard
  int64_t tokens = 0;           // prompt + generated + scored so far
  double elapsed_seconds = 0;
};

// should_stop is polled between tokens; when it returns true the current case
// is dropped and the evidence so far is returned with complete = false.
StatusOr<Evidence> RunEval(const EvalInputs& in,
                           const std::function<void(const EvalProgress&)>& progress,
                           const std::function<bool()>& should_stop);

// Parses the cases, builds tokenizer, model and one session over `pkg`, and
// runs RunEval. cases_source names the file in errors.
struct EvalRequest {
  std::string_view cases_text;
  std::string cases_source = "cases";
  SamplerConfig sampling;
  int32_t shard_index = 0, shard_count = 1;
  int32_t n_ctx = 0;          // 0 = the model's
  int32_t kv_budget_mib = 0;  // KV arena; 0 = one full context (SessionOptions)
  int32_t n_threads =
      0;  // forward-pass threads, 0 = the runtime's default (results never depend on it)
  // Adapters ("PATH" + scale), loaded with LoadAdapter and stacked in order.
  std::vector<std::pair<std::string, float>> adapters;
};
StatusOr<Evidence> EvaluatePackage(const Package& pkg, const EvalRequest& req,
                                   const std::function<void(const EvalProgress&)>& progress,
                                   const std::function<bool()>& should_stop);

// An adapter already in memory (e.g. from a release packet), with the scale
// to apply it at.
struct EvalAdapter {
  const Adapter* adapter = nullptr;
  Digest digest{};  // its content digest
  float scale = 1;
  uint64_t bytes = 0;  // its package size, for the fitness vector
};
// EvaluatePackage with adapters given in memory instead of req.adapters' paths
// (which it ignores).
StatusOr<Evidence> EvaluatePackageWith(const Package& pkg, const EvalRequest& req,
                                       std::span<const EvalAdapter> adapters,
                                       const std::function<void(const EvalProgress&)>& progress,
                                       const std::function<bool()>& should_stop);

// Where this binary runs, for the `environment` section.
Environment CurrentEnvironment();
// Peak resident memory: getrusage ru_maxrss natively, linear memory size on wasm.
uint64_t PeakMemoryBytes();

}  // namespace slm::eval

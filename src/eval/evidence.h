// Evidence: what one evaluation run produced, as a document (docs/eval.md,
// "Evidence", schema_version 1). Sections, in this order:
//   identity     what was evaluated and how (package, adapters, assembly
//                checksum, cases digest, sampling, runtime version, shard)
//   fitness      the aggregate fitness vector, recomputed from `cases`
//   cases        one record per evaluated case, in cases-file order
//   environment  build id, platform, kernel set (differs between builds)
//   timing       wall time, tokens/s, peak memory (differs between runs)
// Everything outside `environment` and `timing` is byte-identical for the same
// inputs on every build, platform, thread count and shard split; that is what
// `slm release verify` re-checks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "sampler/sampler.h"

namespace slm::eval {

inline constexpr int kEvidenceSchemaVersion = 1;

struct AdapterRef {  // one applied adapter, in application order
  std::string digest;
  double scale = 1;    // the f32 scale, exactly
  uint64_t bytes = 0;  // adapter package size
};

struct Identity {
  std::string package_digest;
  uint64_t package_bytes = 0;
  std::vector<AdapterRef> adapters;
  std::string assembly_checksum;  // AssemblyChecksum(package_digest, adapters)
  std::string cases_digest;       // SHA-256 of the cases file bytes
  int64_t cases_total = 0;        // cases in the file (all shards)
  SamplerConfig sampling;
  int32_t n_ctx = 0;  // the session context the cases ran in
  std::string runtime_version;
  int32_t shard_index = 0, shard_count = 1;  // written only when shard_count > 1
};

struct LogLik {
  bool present = false;                // false for regex cases without `reference`
  std::vector<int32_t> target_ids;     // the scored continuation tokens
  std::vector<double> token_logprobs;  // nats, one per target id
  double sum = 0;                      // nats (<= 0)
  double mean = 0;                     // sum / tokens, nats/token
  double perplexity = 0;               // ExpD(-mean)
};

struct CaseResult {
  int32_t index = 0;  // 0-based position in the cases file
  std::string id;
  std::string match;     // rule name
  std::string expected;  // the case's expected text or pattern
  double weight = 1;
  std::vector<std::string> tags;
  std::string prompt_digest;  // SHA-256 of the prompt ids as u32 little-endian
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> output_ids;
  std::string output_text;
  std::string stop_reason;
  bool pass = false;
  double score = 0;
  LogLik loglik;
  // timing section (not compared)
  double seconds = 0, prefill_seconds = 0, decode_seconds = 0;
};

struct TagFitness {
  int64_t cases = 0, passed = 0;
  double weight = 0, weighted_pass_rate = 0;
};

struct Fitness {
  int64_t cases = 0, passed = 0;
  double weight_total = 0;
  double weighted_pass_rate = 0;  // sum(w * pass) / sum(w); 0 if sum(w) == 0
  double mean_score = 0;          // weighted like the pass rate
  std::map<std::string, TagFitness> tags;
  int64_t loglik_cases = 0, loglik_tokens = 0;
  double mean_loglik = 0;  // nats/token over all scored tokens
  double perplexity = 0;   // ExpD(-mean_loglik)
  uint64_t package_bytes = 0, adapter_bytes = 0;
};

struct Environment {
  std::string build_id, platform, kernels;
  int32_t threads = 0;  // forward-pass threads of the session
  // kKernelContract (kernels/kernels.h) of the build: logits replay bit for bit
  // only under the same contract (0 in evidence written before it was recorded).
  int32_t kernel_contract = 0;
};

struct Timing {
  double wall_seconds = 0;
  double prefill_tok_s = 0, decode_tok_s = 0;
  int64_t prompt_tokens = 0, generated_tokens = 0;
  uint64_t peak_memory_bytes = 0;
  // Paged KV cache: prompt tokens (generation and scoring prefills) and how
  // many of them came from cached pages of earlier cases (shared prefixes).
  int64_t kv_prompt_tokens = 0, kv_reused_tokens = 0;
  double prefix_hit_rate = 0;  // kv_reused_tokens / kv_prompt_tokens
};

struct Evidence {
  int32_t schema_version = kEvidenceSchemaVersion;
  bool complete = false;
  Identity identity;
  Fitness fitness;
  std::vector<CaseResult> cases;
  Environment environment;
  Timing timing;
};

// The assembly checksum (adapter/assembly.h: SHA-256 of "slm assembly
// checksum v1", the base digest, the adapter count, then per adapter its
// digest and its scale as binary32 bits), as hex. The same value the
// runtime's AdapterAssembly::checksum() gives for these inputs.
std::string AssemblyChecksum(const std::string& package_digest,
                             const std::vector<AdapterRef>& adapters);

// Fitness from the cases (case order) and the identity's byte counts.
Fitness ComputeFitness(const std::vector<CaseResult>& cases, const Identity& id);

JsonValue EvidenceToJson(const Evidence& e);
// Serialized form: 2-space indented JSON, number arrays on one line, + "\n".
std::string SerializeEvidence(const Evidence& e);
// The document without `environment` and `timing`, compact: what must be
// byte-identical between runs of the same inputs.
std::string DeterministicPart(const Evidence& e);
// Errors name `source` and the JSON path ("cases[3].output_ids: ...").
StatusOr<Evidence> ParseEvidence(std::string_view text, const std::string& source);

// Merges complete shard evidence (same identity except the shard, shard
// counts equal, every index 0..N-1 exactly once) into the evidence a single
// run would have written; timing is summed, environment taken from shard 0.
StatusOr<Evidence> MergeEvidence(std::vector<Evidence> shards);

}  // namespace slm::eval

#include "eval/runner.h"

#include <chrono>

#include "adapter/load.h"
#include "base/math.h"
#include "base/sha256.h"
#include "base/utf8.h"
#include "eval/score.h"
#include "runtime/generate.h"
#include "runtime/model.h"

namespace slm::eval {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string PromptDigest(std::span<const int32_t> ids) {
  Sha256 h;
  for (int32_t id : ids) {
    uint32_t u = static_cast<uint32_t>(id);
    uint8_t b[4] = {static_cast<uint8_t>(u), static_cast<uint8_t>(u >> 8),
                    static_cast<uint8_t>(u >> 16), static_cast<uint8_t>(u >> 24)};
    h.Update(std::span<const uint8_t>(b, 4));
  }
  return DigestHex(h.Finish());
}

// Invalid or incomplete UTF-8 sequences become U+FFFD, one per bad byte.
std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t n = Utf8Decode(s, i, &cp);
    if (n == 0) {
      AppendUtf8(&out, 0xFFFD);
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// A case with its token ids resolved.
struct Prepared {
  const EvalCase* c;
  int32_t index;
  std::vector<int32_t> prompt;
  bool has_target = false;
  std::vector<int32_t> target;
};

StatusOr<std::vector<Prepared>> Prepare(const EvalInputs& in, const std::string& source) {
  // The continuation tokenizer: same vocabulary, no dummy prefix.
  TokenizerData cont_data = in.tokenizer->data();
  cont_data.add_space_prefix = false;
  SLM_ASSIGN_OR_RETURN(auto cont, Tokenizer::Create(std::move(cont_data)));
  const TokenizerData& td = in.tokenizer->data();
  const int32_t vocab = in.session->model().config().vocab_size;
  const int32_t n_ctx = in.session->n_ctx();
  std::vector<Prepared> out;
  for (size_t i = 0; i < in.cases.size(); ++i) {
    if (static_cast<int32_t>(i % static_cast<size_t>(in.shard_count)) != in.shard_index) continue;
    const EvalCase& c = in.cases[i];
    const std::string where =
        source + ": line " + std::to_string(c.line) + " (case '" + c.id + "')";
    Prepared p{&c, static_cast<int32_t>(i), {}, false, {}};
    if (c.has_prompt_ids) {
      p.prompt = c.prompt_ids;
    } else {
      auto ids = in.tokenizer->Encode(c.prompt, td.add_bos && td.bos_id >= 0);
      if (!ids.ok()) return ids.status().WithContext(where + ": field 'prompt'");
      p.prompt = std::move(ids).value();
    }
    if (p.prompt.empty())
      return InvalidArgument(where + ": field 'prompt': encodes to no tokens (and no BOS)");
    for (int32_t id : p.prompt) {
      if (id < 0 || id >= vocab) {
        return InvalidArgument(where + ": field 'prompt_ids': id " + std::to_string(id) +
                               " outside the vocabulary (0.." + std::to_string(vocab - 1) + ")");
      }
    }
    if (static_cast<int32_t>(p.prompt.size()) > n_ctx) {
      return InvalidArgument(where + ": prompt is " + std::to_string(p.prompt.size()) +
                             " tokens, the context holds " + std::to_string(n_ctx));
    }
    const bool regex = c.match == MatchRule::kRegex;
    if (!regex || c.has_reference) {
      const std::string& text = c.has_reference ? c.reference : c.expected;
      auto ids = cont->Encode(text, false);
      if (!ids.ok()) return ids.status().WithContext(where + ": field 'expected'");
      p.target = std::move(ids).value();
      p.has_target = !p.target.empty();
      if (p.prompt.size() + p.target.size() - 1 > static_cast<size_t>(n_ctx)) {
        return InvalidArgument(where + ": prompt (" + std::to_string(p.prompt.size()) +
                               " tokens) + expected (" + std::to_string(p.target.size()) +
                               ") exceed the context (" + std::to_string(n_ctx) +
                               ") for the log-likelihood");
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

StatusOr<Evidence> RunEval(const EvalInputs& in,
                           const std::function<void(const EvalProgress&)>& progress,
                           const std::function<bool()>& should_stop) {
  if (in.shard_count < 1 || in.shard_index < 0 || in.shard_index >= in.shard_count) {
    return InvalidArgument("shard " + std::to_string(in.shard_index) + "/" +
                           std::to_string(in.shard_count) + ": expected 0 <= I < N");
  }
  if (in.sampling.seed >= (uint64_t{1} << 53)) {
    return InvalidArgument("seed " + std::to_string(in.sampling.seed) +
                           ": expected < 2^53 (it is recorded as a JSON number)");
  }
  const auto t_start = Clock::now();
  Evidence e;
  Identity& id = e.identity;
  id.package_digest = in.package->digest_hex();
  id.package_bytes = in.package->file_size();
  id.adapters = in.adapters;
  id.assembly_checksum = AssemblyChecksum(id.package_digest, id.adapters);
  id.cases_digest = in.cases_digest;
  id.cases_total = static_cast<int64_t>(in.cases.size());
  id.sampling = in.sampling;
  id.n_ctx = in.session->n_ctx();
  id.runtime_version = SLM_VERSION;
  id.shard_index = in.shard_index;
  id.shard_count = in.shard_count;
  e.environment = CurrentEnvironment();
  e.environment.kernels = in.session->kernels().name;
  e.environment.threads = in.session->n_threads();

  SLM_ASSIGN_OR_RETURN(std::vector<Prepared> prepared, Prepare(in, in.cases_source));
  SLM_ASSIGN_OR_RETURN(auto sampler,
                       Sampler::Create(in.session->model().config().vocab_size, in.sampling));
  const int32_t eos = in.tokenizer->data().eos_id;
  Session& s = *in.session;
  EvalProgress prog;
  prog.total = static_cast<int64_t>(prepared.size());
  const KvStats kv0 = in.session->kv_stats();
  double prefill_s = 0, decode_s = 0;
  bool stopped = false;
  for (const Prepared& p : prepared) {
    if (should_stop && should_stop()) {
      stopped = true;
      break;
    }
    const EvalCase& c = *p.c;
    const auto t0 = Clock::now();
    CaseResult r;
    r.index = p.index;
    r.id = c.id;
    r.match = MatchRuleName(c.match);
    r.expected = c.expected;
    r.weight = c.weight;
    r.tags = c.tags;
    r.prompt_ids = p.prompt;
    r.prompt_digest = PromptDigest(p.prompt);
    s.Reset();
    sampler->Reseed(in.sampling.seed);
    std::string raw;
    bool interrupted = false;
    auto on_token = [&](int32_t tok) {
      r.output_ids.push_back(tok);
      raw += in.tokenizer->TokenBytes(tok);
      if (should_stop && should_stop()) {
        interrupted = true;
        return false;
      }
      return true;
    };
    SLM_ASSIGN_OR_RETURN(GenerateStats st,
                         Generate(s, *sampler, p.prompt, c.max_new_tokens, eos, on_token));
    if (interrupted) {
      stopped = true;
      break;
    }
    const auto t1 = Clock::now();
    r.output_text = SanitizeUtf8(raw);
    r.stop_reason = StopReasonName(st.stop_reason);
    MatchResult m = MatchOutput(c, r.output_text);
    r.pass = m.pass;
    r.score = m.score;
    if (p.has_target) {
      auto lp = TeacherForcedLogProbs(s, p.prompt, p.target);
      if (!lp.ok()) return lp.status().WithContext("case '" + c.id + "': log-likelihood");
      r.loglik.present = true;
      r.loglik.target_ids = p.target;
      r.loglik.token_logprobs = std::move(lp).value();
      for (double v : r.loglik.token_logprobs) r.loglik.sum += v;
      r.loglik.mean = r.loglik.sum / static_cast<double>(r.loglik.token_logprobs.size());
      r.loglik.perplexity = ExpD(-r.loglik.mean);
    }
    const auto t2 = Clock::now();
    r.seconds = Seconds(t0, t2);
    r.prefill_seconds = st.prefill_tok_s > 0 ? st.prompt_tokens / st.prefill_tok_s : 0;
    r.decode_seconds = Seconds(t0, t1) - r.prefill_seconds;
    if (r.decode_seconds < 0) r.decode_seconds = 0;
    prefill_s += r.prefill_seconds;
    decode_s += r.decode_seconds;
    e.timing.prompt_tokens += st.prompt_tokens;
    e.timing.generated_tokens += st.generated_tokens;
    prog.tokens += st.prompt_tokens + st.generated_tokens + static_cast<int64_t>(p.target.size());
    e.cases.push_back(std::move(r));
    ++prog.done;
    prog.elapsed_seconds = Seconds(t_start, Clock::now());
    if (progress) progress(prog);
  }
  e.complete = !stopped;
  e.fitness = ComputeFitness(e.cases, e.identity);
  e.timing.wall_seconds = Seconds(t_start, Clock::now());
  e.timing.prefill_tok_s =
      prefill_s > 0 ? static_cast<double>(e.timing.prompt_tokens) / prefill_s : 0;
  e.timing.decode_tok_s =
      decode_s > 0 ? static_cast<double>(e.timing.generated_tokens) / decode_s : 0;
  e.timing.peak_memory_bytes = PeakMemoryBytes();
  const KvStats kv1 = in.session->kv_stats();
  e.timing.kv_prompt_tokens = kv1.prompt_tokens - kv0.prompt_tokens;
  e.timing.kv_reused_tokens = kv1.reused_tokens - kv0.reused_tokens;
  e.timing.prefix_hit_rate =
      e.timing.kv_prompt_tokens > 0
          ? static_cast<double>(e.timing.kv_reused_tokens) / e.timing.kv_prompt_tokens
          : 0;
  return e;
}

StatusOr<Evidence> EvaluatePackage(const Package& pkg, const EvalRequest& req,
                                   const std::function<void(const EvalProgress&)>& progress,
                                   const std::function<bool()>& should_stop) {
  std::vector<AdapterSpec> specs;
  for (const auto& [path, scale] : req.adapters) specs.push_back({path, scale});
  std::vector<LoadedAdapter> loaded;
  for (const AdapterSpec& spec : specs) {
    SLM_ASSIGN_OR_RETURN(LoadedAdapter a, LoadAdapter(spec.path, pkg));
    loaded.push_back(std::move(a));
  }
  std::vector<EvalAdapter> adapters;
  for (size_t i = 0; i < loaded.size(); ++i)
    adapters.push_back({&loaded[i].adapter, loaded[i].digest, specs[i].scale, loaded[i].bytes});
  return EvaluatePackageWith(pkg, req, adapters, progress, should_stop);
}

StatusOr<Evidence> EvaluatePackageWith(const Package& pkg, const EvalRequest& req,
                                       std::span<const EvalAdapter> adapters,
                                       const std::function<void(const EvalProgress&)>& progress,
                                       const std::function<bool()>& should_stop) {
  SLM_ASSIGN_OR_RETURN(std::vector<EvalCase> cases, ParseCases(req.cases_text, req.cases_source));
  SLM_ASSIGN_OR_RETURN(auto tok, Tokenizer::Create(pkg.tokenizer()));
  SLM_ASSIGN_OR_RETURN(auto model, Model::Create(pkg.config(), pkg.tensors()));
  SessionOptions so;
  so.n_ctx = req.n_ctx;
  so.n_threads = req.n_threads;
  so.kv_budget_mib = req.kv_budget_mib;
  SLM_ASSIGN_OR_RETURN(auto session, Session::Create(*model, so));
  std::unique_ptr<AdapterAssembly> assembly;
  EvalInputs in;
  if (!adapters.empty()) {
    std::vector<AssemblyEntry> entries;
    for (const EvalAdapter& a : adapters) {
      entries.push_back({a.adapter, a.digest, a.scale});
      in.adapters.push_back({DigestHex(a.digest), a.scale, a.bytes});
    }
    SLM_ASSIGN_OR_RETURN(assembly, AdapterAssembly::Build(pkg, entries));
    session->SetDeltas(assembly.get());
  }
  in.package = &pkg;
  in.tokenizer = tok.get();
  in.session = session.get();
  in.cases = cases;
  in.cases_source = req.cases_source;
  in.cases_digest = DigestHex(Sha256Of(req.cases_text));
  in.sampling = req.sampling;
  in.shard_index = req.shard_index;
  in.shard_count = req.shard_count;
  return RunEval(in, progress, should_stop);
}

}  // namespace slm::eval

#include "eval/evidence.h"

#include <algorithm>
#include <cmath>

#include "adapter/assembly.h"
#include "base/math.h"
#include "base/sha256.h"

namespace slm::eval {

std::string AssemblyChecksum(const std::string& package_digest,
                             const std::vector<AdapterRef>& adapters) {
  // The runtime's checksum (adapter/assembly.h): digests as bytes, scales as
  // binary32 bits. Evidence stores hex digests and the scale as a number that
  // round-trips the f32 the session used.
  Digest base{};
  std::vector<Digest> digests(adapters.size());
  std::vector<float> scales;
  bool ok = ParseDigestHex(package_digest, &base);
  for (size_t i = 0; i < adapters.size(); ++i) {
    ok = ok && ParseDigestHex(adapters[i].digest, &digests[i]);
    scales.push_back(static_cast<float>(adapters[i].scale));
  }
  if (!ok) {
    // Not hex digests (hand-written evidence): still a function of every input.
    std::string s = "slm assembly (non-hex)\n" + package_digest + "\n";
    for (const AdapterRef& a : adapters)
      s += a.digest + " " + JsonValue::Number(a.scale).Dump() + "\n";
    return DigestHex(Sha256Of(s));
  }
  return DigestHex(slm::AssemblyChecksum(base, digests, scales));
}

Fitness ComputeFitness(const std::vector<CaseResult>& cases, const Identity& id) {
  Fitness f;
  double wpass = 0, wscore = 0, ll_sum = 0;
  for (const CaseResult& c : cases) {
    ++f.cases;
    f.passed += c.pass;
    f.weight_total += c.weight;
    wpass += c.pass ? c.weight : 0;
    wscore += c.weight * c.score;
    for (const std::string& t : c.tags) {
      TagFitness& tf = f.tags[t];
      ++tf.cases;
      tf.passed += c.pass;
      tf.weight += c.weight;
      tf.weighted_pass_rate += c.pass ? c.weight : 0;  // numerator until the end
    }
    if (c.loglik.present) {
      ++f.loglik_cases;
      f.loglik_tokens += static_cast<int64_t>(c.loglik.token_logprobs.size());
      ll_sum += c.loglik.sum;
    }
  }
  f.weighted_pass_rate = f.weight_total > 0 ? wpass / f.weight_total : 0;
  f.mean_score = f.weight_total > 0 ? wscore / f.weight_total : 0;
  for (auto& [t, tf] : f.tags)
    tf.weighted_pass_rate = tf.weight > 0 ? tf.weighted_pass_rate / tf.weight : 0;
  if (f.loglik_tokens > 0) {
    f.mean_loglik = ll_sum / static_cast<double>(f.loglik_tokens);
    f.perplexity = ExpD(-f.mean_loglik);
  }
  f.package_bytes = id.package_bytes;
  for (const AdapterRef& a : id.adapters) f.adapter_bytes += a.bytes;
  return f;
}

namespace {

JsonValue Num(double d) { return JsonValue::Number(d); }
JsonValue Str(const std::string& s) { return JsonValue::String(s); }

template <typename T>
JsonValue NumArray(const std::vector<T>& v) {
  JsonValue a = JsonValue::Array();
  for (const T& x : v) a.Append(Num(static_cast<double>(x)));
  return a;
}

JsonValue CaseJson(const CaseResult& c) {
  JsonValue o = JsonValue::Object();
  o.Set("index", Num(c.index));
  o.Set("id", Str(c.id));
  o.Set("match", Str(c.match));
  o.Set("expected", Str(c.expected));
  o.Set("weight", Num(c.weight));
  JsonValue tags = JsonValue::Array();
  for (const std::string& t : c.tags) tags.Append(Str(t));
  o.Set("tags", std::move(tags));
  o.Set("prompt_digest", Str(c.prompt_digest));
  o.Set("prompt_ids", NumArray(c.prompt_ids));
  o.Set("output_ids", NumArray(c.output_ids));
  o.Set("output_text", Str(c.output_text));
  o.Set("stop_reason", Str(c.stop_reason));
  o.Set("pass", JsonValue::Bool(c.pass));
  o.Set("score", Num(c.score));
  if (c.loglik.present) {
    JsonValue l = JsonValue::Object();
    l.Set("target_ids", NumArray(c.loglik.target_ids));
    l.Set("token_logprobs", NumArray(c.loglik.token_logprobs));
    l.Set("sum", Num(c.loglik.sum));
    l.Set("tokens", Num(static_cast<double>(c.loglik.token_logprobs.size())));
    l.Set("mean", Num(c.loglik.mean));
    l.Set("perplexity", Num(c.loglik.perplexity));
    o.Set("loglik", std::move(l));
  } else {
    o.Set("loglik", JsonValue::Null());
  }
  return o;
}

JsonValue IdentityJson(const Identity& id) {
  JsonValue o = JsonValue::Object();
  o.Set("package_digest", Str(id.package_digest));
  o.Set("package_bytes", Num(static_cast<double>(id.package_bytes)));
  JsonValue ad = JsonValue::Array();
  for (const AdapterRef& a : id.adapters) {
    JsonValue x = JsonValue::Object();
    x.Set("digest", Str(a.digest));
    x.Set("scale", Num(a.scale));
    x.Set("bytes", Num(static_cast<double>(a.bytes)));
    ad.Append(std::move(x));
  }
  o.Set("adapters", std::move(ad));
  o.Set("assembly_checksum", Str(id.assembly_checksum));
  o.Set("cases_digest", Str(id.cases_digest));
  o.Set("cases_total", Num(static_cast<double>(id.cases_total)));
  JsonValue s = JsonValue::Object();
  s.Set("temperature", Num(id.sampling.temperature));
  s.Set("top_k", Num(id.sampling.top_k));
  s.Set("top_p", Num(id.sampling.top_p));
  s.Set("seed", Num(static_cast<double>(id.sampling.seed)));
  s.Set("min_p", Num(id.sampling.min_p));
  s.Set("repeat_penalty", Num(id.sampling.repeat_penalty));
  s.Set("presence_penalty", Num(id.sampling.presence_penalty));
  s.Set("frequency_penalty", Num(id.sampling.frequency_penalty));
  s.Set("penalty_last_n", Num(id.sampling.penalty_last_n));
  o.Set("sampling", std::move(s));
  o.Set("n_ctx", Num(id.n_ctx));
  o.Set("runtime_version", Str(id.runtime_version));
  if (id.shard_count > 1) {
    JsonValue sh = JsonValue::Object();
    sh.Set("index", Num(id.shard_index));
    sh.Set("count", Num(id.shard_count));
    o.Set("shard", std::move(sh));
  }
  return o;
}

JsonValue FitnessJson(const Fitness& f) {
  JsonValue o = JsonValue::Object();
  o.Set("cases", Num(static_cast<double>(f.cases)));
  o.Set("passed", Num(static_cast<double>(f.passed)));
  o.Set("weight_total", Num(f.weight_total));
  o.Set("weighted_pass_rate", Num(f.weighted_pass_rate));
  o.Set("mean_score", Num(f.mean_score));
  JsonValue tags = JsonValue::Object();
  for (const auto& [t, tf] : f.tags) {
    JsonValue x = JsonValue::Object();
    x.Set("cases", Num(static_cast<double>(tf.cases)));
    x.Set("passed", Num(static_cast<double>(tf.passed)));
    x.Set("weight", Num(tf.weight));
    x.Set("weighted_pass_rate", Num(tf.weighted_pass_rate));
    tags.Set(t, std::move(x));
  }
  o.Set("tags", std::move(tags));
  o.Set("loglik_cases", Num(static_cast<double>(f.loglik_cases)));
  o.Set("loglik_tokens", Num(static_cast<double>(f.loglik_tokens)));
  o.Set("mean_loglik", Num(f.mean_loglik));
  o.Set("perplexity", Num(f.perplexity));
  o.Set("package_bytes", Num(static_cast<double>(f.package_bytes)));
  o.Set("adapter_bytes", Num(static_cast<double>(f.adapter_bytes)));
  return o;
}

JsonValue TimingJson(const Evidence& e) {
  const Timing& t = e.timing;
  JsonValue o = JsonValue::Object();
  o.Set("wall_seconds", Num(t.wall_seconds));
  o.Set("prefill_tok_s", Num(t.prefill_tok_s));
  o.Set("decode_tok_s", Num(t.decode_tok_s));
  o.Set("prompt_tokens", Num(static_cast<double>(t.prompt_tokens)));
  o.Set("generated_tokens", Num(static_cast<double>(t.generated_tokens)));
  o.Set("peak_memory_bytes", Num(static_cast<double>(t.peak_memory_bytes)));
  o.Set("kv_prompt_tokens", Num(static_cast<double>(t.kv_prompt_tokens)));
  o.Set("kv_reused_tokens", Num(static_cast<double>(t.kv_reused_tokens)));
  o.Set("prefix_hit_rate", Num(t.prefix_hit_rate));
  JsonValue cs = JsonValue::Array();
  for (const CaseResult& c : e.cases) {
    JsonValue x = JsonValue::Object();
    x.Set("id", Str(c.id));
    x.Set("seconds", Num(c.seconds));
    x.Set("prefill_seconds", Num(c.prefill_seconds));
    x.Set("decode_seconds", Num(c.decode_seconds));
    cs.Append(std::move(x));
  }
  o.Set("cases", std::move(cs));
  return o;
}

JsonValue DeterministicJson(const Evidence& e) {
  JsonValue o = JsonValue::Object();
  o.Set("schema_version", Num(e.schema_version));
  o.Set("kind", Str("slm-evidence"));
  o.Set("complete", JsonValue::Bool(e.complete));
  o.Set("identity", IdentityJson(e.identity));
  o.Set("fitness", FitnessJson(e.fitness));
  JsonValue cs = JsonValue::Array();
  for (const CaseResult& c : e.cases) cs.Append(CaseJson(c));
  o.Set("cases", std::move(cs));
  return o;
}

}  // namespace

JsonValue EvidenceToJson(const Evidence& e) {
  JsonValue o = DeterministicJson(e);
  JsonValue env = JsonValue::Object();
  env.Set("build_id", Str(e.environment.build_id));
  env.Set("platform", Str(e.environment.platform));
  env.Set("kernels", Str(e.environment.kernels));
  env.Set("threads", Num(e.environment.threads));
  env.Set("kernel_contract", Num(e.environment.kernel_contract));
  o.Set("environment", std::move(env));
  o.Set("timing", TimingJson(e));
  return o;
}

namespace {

// DumpPretty, except that arrays of numbers (token ids, log-probs) stay on one
// line: a case is a screenful, not hundreds of lines, and diffs stay readable.
void PrettyTo(const JsonValue& v, int depth, std::string* out) {
  const std::string pad(static_cast<size_t>(2 * (depth + 1)), ' ');
  const std::string close_pad(static_cast<size_t>(2 * depth), ' ');
  if (v.is_object() && v.size() > 0) {
    *out += "{\n";
    for (size_t i = 0; i < v.members().size(); ++i) {
      *out += pad;
      AppendJsonString(out, v.members()[i].first);
      *out += ": ";
      PrettyTo(v.members()[i].second, depth + 1, out);
      *out += i + 1 < v.members().size() ? ",\n" : "\n";
    }
    *out += close_pad + "}";
    return;
  }
  bool flat = true;
  for (const JsonValue& x : v.items()) flat = flat && !x.is_array() && !x.is_object();
  if (v.is_array() && v.size() > 0 && !flat) {
    *out += "[\n";
    for (size_t i = 0; i < v.items().size(); ++i) {
      *out += pad;
      PrettyTo(v.items()[i], depth + 1, out);
      *out += i + 1 < v.items().size() ? ",\n" : "\n";
    }
    *out += close_pad + "]";
    return;
  }
  *out += v.Dump();  // scalars, empty containers, flat arrays
}

}  // namespace

std::string SerializeEvidence(const Evidence& e) {
  std::string out;
  PrettyTo(EvidenceToJson(e), 0, &out);
  return out + "\n";
}

std::string DeterministicPart(const Evidence& e) { return DeterministicJson(e).Dump(); }

StatusOr<Evidence> MergeEvidence(std::vector<Evidence> shards) {
  if (shards.empty()) return InvalidArgument("no evidence to merge");
  const int32_t n = shards[0].identity.shard_count;
  if (static_cast<size_t>(n) != shards.size()) {
    return InvalidArgument("evidence is split into " + std::to_string(n) + " shards, " +
                           std::to_string(shards.size()) + " given");
  }
  std::sort(shards.begin(), shards.end(), [](const Evidence& a, const Evidence& b) {
    return a.identity.shard_index < b.identity.shard_index;
  });
  Evidence out = shards[0];
  out.identity.shard_index = 0;
  out.identity.shard_count = 1;
  out.cases.clear();
  out.timing = Timing{};
  const std::string want = [&] {
    Evidence probe;
    probe.identity = out.identity;
    return IdentityJson(probe.identity).Dump();
  }();
  double prefill_s = 0, decode_s = 0;
  for (int32_t i = 0; i < n; ++i) {
    Evidence& s = shards[static_cast<size_t>(i)];
    const std::string name = "shard " + std::to_string(s.identity.shard_index) + "/" +
                             std::to_string(s.identity.shard_count);
    if (s.identity.shard_index != i || s.identity.shard_count != n) {
      return InvalidArgument("expected shards 0.." + std::to_string(n - 1) + " of " +
                             std::to_string(n) + " exactly once, found " + name + " in position " +
                             std::to_string(i));
    }
    if (!s.complete) return InvalidArgument(name + " is incomplete (complete: false); re-run it");
    Identity probe = s.identity;
    probe.shard_index = 0;
    probe.shard_count = 1;
    if (IdentityJson(probe).Dump() != want) {
      return InvalidArgument(
          name +
          ": identity differs from shard 0 (package, adapters, cases, sampling or "
          "runtime version); only evidence of one evaluation can be merged");
    }
    for (CaseResult& c : s.cases) {
      prefill_s += c.prefill_seconds;
      decode_s += c.decode_seconds;
      out.cases.push_back(std::move(c));
    }
    out.timing.wall_seconds = std::max(out.timing.wall_seconds, s.timing.wall_seconds);
    out.timing.prompt_tokens += s.timing.prompt_tokens;
    out.timing.generated_tokens += s.timing.generated_tokens;
    out.timing.kv_prompt_tokens += s.timing.kv_prompt_tokens;
    out.timing.kv_reused_tokens += s.timing.kv_reused_tokens;
    out.timing.peak_memory_bytes =
        std::max(out.timing.peak_memory_bytes, s.timing.peak_memory_bytes);
  }
  std::sort(out.cases.begin(), out.cases.end(),
            [](const CaseResult& a, const CaseResult& b) { return a.index < b.index; });
  for (size_t i = 0; i < out.cases.size(); ++i) {
    if (static_cast<int64_t>(out.cases[i].index) != static_cast<int64_t>(i)) {
      return InvalidArgument("merged cases do not cover the file: expected case index " +
                             std::to_string(i) + ", found " + std::to_string(out.cases[i].index));
    }
  }
  if (static_cast<int64_t>(out.cases.size()) != out.identity.cases_total) {
    return InvalidArgument("merged " + std::to_string(out.cases.size()) +
                           " cases, the cases file has " +
                           std::to_string(out.identity.cases_total));
  }
  out.timing.prefix_hit_rate =
      out.timing.kv_prompt_tokens > 0
          ? static_cast<double>(out.timing.kv_reused_tokens) / out.timing.kv_prompt_tokens
          : 0;
  out.timing.prefill_tok_s =
      prefill_s > 0 ? static_cast<double>(out.timing.prompt_tokens) / prefill_s : 0;
  out.timing.decode_tok_s =
      decode_s > 0 ? static_cast<double>(out.timing.generated_tokens) / decode_s : 0;
  out.fitness = ComputeFitness(out.cases, out.identity);
  out.complete = true;
  return out;
}

}  // namespace slm::eval

// ParseEvidence: the reader side of evidence.cc. Every error names the
// source and the JSON path of the bad member.
#include <cmath>
#include <limits>
#include <type_traits>

#include "eval/evidence.h"

namespace slm::eval {
namespace {

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  Status Err(const std::string& path, const std::string& what) const {
    return FormatError(source_ + ": " + path + ": " + what);
  }

  StatusOr<const JsonValue*> Member(const JsonValue& o, const std::string& path, const char* key,
                                    JsonValue::Type type) const {
    const JsonValue* v = o.Find(key);
    const std::string p = path.empty() ? key : path + "." + key;
    if (v == nullptr) return Err(p, "missing");
    if (v->type() != type) {
      return Err(
          p, std::string("expected ") + JsonTypeName(type) + ", found " + JsonTypeName(v->type()));
    }
    return v;
  }
  StatusOr<std::string> Str(const JsonValue& o, const std::string& path, const char* key) const {
    SLM_ASSIGN_OR_RETURN(const JsonValue* v, Member(o, path, key, JsonValue::Type::kString));
    return v->as_string();
  }
  StatusOr<double> Num(const JsonValue& o, const std::string& path, const char* key) const {
    SLM_ASSIGN_OR_RETURN(const JsonValue* v, Member(o, path, key, JsonValue::Type::kNumber));
    return v->as_number();
  }
  StatusOr<int64_t> Int(const JsonValue& o, const std::string& path, const char* key) const {
    SLM_ASSIGN_OR_RETURN(double d, Num(o, path, key));
    if (d != std::floor(d) || std::fabs(d) > 9007199254740992.0) {
      return Err(path + "." + key, "expected an integer, found " + JsonValue::Number(d).Dump());
    }
    return static_cast<int64_t>(d);
  }
  StatusOr<bool> Bool(const JsonValue& o, const std::string& path, const char* key) const {
    SLM_ASSIGN_OR_RETURN(const JsonValue* v, Member(o, path, key, JsonValue::Type::kBool));
    return v->as_bool();
  }
  template <typename T>
  StatusOr<std::vector<T>> Nums(const JsonValue& o, const std::string& path,
                                const char* key) const {
    SLM_ASSIGN_OR_RETURN(const JsonValue* v, Member(o, path, key, JsonValue::Type::kArray));
    std::vector<T> out;
    out.reserve(v->items().size());
    for (size_t i = 0; i < v->items().size(); ++i) {
      const JsonValue& x = v->items()[i];
      if (!x.is_number()) {
        return Err(path + "." + key + "[" + std::to_string(i) + "]",
                   std::string("expected number, found ") + JsonTypeName(x.type()));
      }
      // Token ids and log-probs come from strangers' packets: a number
      // outside T (or a fraction for an integer T) is an error, never a cast
      // with undefined behaviour.
      const double d = x.as_number();
      if constexpr (std::is_integral_v<T>) {
        if (!(d >= static_cast<double>(std::numeric_limits<T>::min()) &&
              d <= static_cast<double>(std::numeric_limits<T>::max()) && d == std::floor(d))) {
          return Err(path + "." + key + "[" + std::to_string(i) + "]",
                     "expected an integer in the range of a 32-bit id");
        }
      }
      out.push_back(static_cast<T>(d));
    }
    return out;
  }

  Status Case(const JsonValue& o, const std::string& p, CaseResult* c) const {
    if (!o.is_object()) return Err(p, "expected object");
    SLM_ASSIGN_OR_RETURN(int64_t index, Int(o, p, "index"));
    c->index = static_cast<int32_t>(index);
    SLM_ASSIGN_OR_RETURN(c->id, Str(o, p, "id"));
    SLM_ASSIGN_OR_RETURN(c->match, Str(o, p, "match"));
    SLM_ASSIGN_OR_RETURN(c->expected, Str(o, p, "expected"));
    SLM_ASSIGN_OR_RETURN(c->weight, Num(o, p, "weight"));
    SLM_ASSIGN_OR_RETURN(const JsonValue* tags, Member(o, p, "tags", JsonValue::Type::kArray));
    for (const JsonValue& t : tags->items()) {
      if (!t.is_string()) return Err(p + ".tags", "expected strings");
      c->tags.push_back(t.as_string());
    }
    SLM_ASSIGN_OR_RETURN(c->prompt_digest, Str(o, p, "prompt_digest"));
    SLM_ASSIGN_OR_RETURN(c->prompt_ids, Nums<int32_t>(o, p, "prompt_ids"));
    SLM_ASSIGN_OR_RETURN(c->output_ids, Nums<int32_t>(o, p, "output_ids"));
    SLM_ASSIGN_OR_RETURN(c->output_text, Str(o, p, "output_text"));
    SLM_ASSIGN_OR_RETURN(c->stop_reason, Str(o, p, "stop_reason"));
    SLM_ASSIGN_OR_RETURN(c->pass, Bool(o, p, "pass"));
    SLM_ASSIGN_OR_RETURN(c->score, Num(o, p, "score"));
    const JsonValue* ll = o.Find("loglik");
    if (ll == nullptr) return Err(p + ".loglik", "missing (null when not measured)");
    if (!ll->is_null()) {
      const std::string lp = p + ".loglik";
      if (!ll->is_object()) return Err(lp, "expected object or null");
      c->loglik.present = true;
      SLM_ASSIGN_OR_RETURN(c->loglik.target_ids, Nums<int32_t>(*ll, lp, "target_ids"));
      SLM_ASSIGN_OR_RETURN(c->loglik.token_logprobs, Nums<double>(*ll, lp, "token_logprobs"));
      SLM_ASSIGN_OR_RETURN(c->loglik.sum, Num(*ll, lp, "sum"));
      SLM_ASSIGN_OR_RETURN(c->loglik.mean, Num(*ll, lp, "mean"));
      SLM_ASSIGN_OR_RETURN(c->loglik.perplexity, Num(*ll, lp, "perplexity"));
      if (c->loglik.target_ids.size() != c->loglik.token_logprobs.size()) {
        return Err(lp, "target_ids and token_logprobs differ in length");
      }
    }
    return Status::Ok();
  }

  Status Identity_(const JsonValue& o, Identity* id) const {
    const std::string p = "identity";
    SLM_ASSIGN_OR_RETURN(id->package_digest, Str(o, p, "package_digest"));
    SLM_ASSIGN_OR_RETURN(int64_t pb, Int(o, p, "package_bytes"));
    id->package_bytes = static_cast<uint64_t>(pb);
    SLM_ASSIGN_OR_RETURN(const JsonValue* ad, Member(o, p, "adapters", JsonValue::Type::kArray));
    for (size_t i = 0; i < ad->items().size(); ++i) {
      const JsonValue& a = ad->items()[i];
      const std::string ap = p + ".adapters[" + std::to_string(i) + "]";
      if (!a.is_object()) return Err(ap, "expected object");
      AdapterRef r;
      SLM_ASSIGN_OR_RETURN(r.digest, Str(a, ap, "digest"));
      SLM_ASSIGN_OR_RETURN(r.scale, Num(a, ap, "scale"));
      SLM_ASSIGN_OR_RETURN(int64_t b, Int(a, ap, "bytes"));
      r.bytes = static_cast<uint64_t>(b);
      id->adapters.push_back(r);
    }
    SLM_ASSIGN_OR_RETURN(id->assembly_checksum, Str(o, p, "assembly_checksum"));
    SLM_ASSIGN_OR_RETURN(id->cases_digest, Str(o, p, "cases_digest"));
    SLM_ASSIGN_OR_RETURN(id->cases_total, Int(o, p, "cases_total"));
    SLM_ASSIGN_OR_RETURN(const JsonValue* s, Member(o, p, "sampling", JsonValue::Type::kObject));
    SLM_ASSIGN_OR_RETURN(double temp, Num(*s, p + ".sampling", "temperature"));
    SLM_ASSIGN_OR_RETURN(int64_t top_k, Int(*s, p + ".sampling", "top_k"));
    SLM_ASSIGN_OR_RETURN(double top_p, Num(*s, p + ".sampling", "top_p"));
    SLM_ASSIGN_OR_RETURN(int64_t seed, Int(*s, p + ".sampling", "seed"));
    id->sampling.temperature = static_cast<float>(temp);
    id->sampling.top_k = static_cast<int32_t>(top_k);
    id->sampling.top_p = static_cast<float>(top_p);
    id->sampling.seed = static_cast<uint64_t>(seed);
    // The min-p and penalty fields came with the sampler chain: evidence
    // written before them has none, and ran without them (the defaults).
    for (auto [key, field] : {std::pair<const char*, float*>{"min_p", &id->sampling.min_p},
                              {"repeat_penalty", &id->sampling.repeat_penalty},
                              {"presence_penalty", &id->sampling.presence_penalty},
                              {"frequency_penalty", &id->sampling.frequency_penalty}}) {
      if (s->Find(key) == nullptr) continue;
      SLM_ASSIGN_OR_RETURN(double v, Num(*s, p + ".sampling", key));
      *field = static_cast<float>(v);
    }
    if (s->Find("penalty_last_n") != nullptr) {
      SLM_ASSIGN_OR_RETURN(int64_t w, Int(*s, p + ".sampling", "penalty_last_n"));
      if (w < 0 || w > Sampler::kMaxPenaltyWindow)
        return Err(p + ".sampling.penalty_last_n", "out of range");
      id->sampling.penalty_last_n = static_cast<int32_t>(w);
    }
    SLM_ASSIGN_OR_RETURN(int64_t n_ctx, Int(o, p, "n_ctx"));
    id->n_ctx = static_cast<int32_t>(n_ctx);
    SLM_ASSIGN_OR_RETURN(id->runtime_version, Str(o, p, "runtime_version"));
    if (const JsonValue* sh = o.Find("shard")) {
      SLM_ASSIGN_OR_RETURN(int64_t si, Int(*sh, p + ".shard", "index"));
      SLM_ASSIGN_OR_RETURN(int64_t sc, Int(*sh, p + ".shard", "count"));
      if (sc < 1 || si < 0 || si >= sc) return Err(p + ".shard", "expected 0 <= index < count");
      id->shard_index = static_cast<int32_t>(si);
      id->shard_count = static_cast<int32_t>(sc);
    }
    return Status::Ok();
  }

 private:
  std::string source_;
};

}  // namespace

StatusOr<Evidence> ParseEvidence(std::string_view text, const std::string& source) {
  SLM_ASSIGN_OR_RETURN(JsonValue doc, ParseJson(text, source));
  Reader r(source);
  Evidence e;
  if (!doc.is_object()) return r.Err("(document)", "expected an evidence object");
  SLM_ASSIGN_OR_RETURN(std::string kind, r.Str(doc, "", "kind"));
  if (kind != "slm-evidence") return r.Err("kind", "expected 'slm-evidence', found '" + kind + "'");
  SLM_ASSIGN_OR_RETURN(int64_t v, r.Int(doc, "", "schema_version"));
  if (v != kEvidenceSchemaVersion) {
    return r.Err("schema_version", "expected " + std::to_string(kEvidenceSchemaVersion) +
                                       ", found " + std::to_string(v) +
                                       " (written by another slm version)");
  }
  SLM_ASSIGN_OR_RETURN(e.complete, r.Bool(doc, "", "complete"));
  SLM_ASSIGN_OR_RETURN(const JsonValue* id,
                       r.Member(doc, "", "identity", JsonValue::Type::kObject));
  SLM_RETURN_IF_ERROR(r.Identity_(*id, &e.identity));
  SLM_ASSIGN_OR_RETURN(const JsonValue* cases, r.Member(doc, "", "cases", JsonValue::Type::kArray));
  for (size_t i = 0; i < cases->items().size(); ++i) {
    CaseResult c;
    SLM_RETURN_IF_ERROR(r.Case(cases->items()[i], "cases[" + std::to_string(i) + "]", &c));
    e.cases.push_back(std::move(c));
  }
  e.fitness = ComputeFitness(e.cases, e.identity);
  if (const JsonValue* env = doc.Find("environment"); env && env->is_object()) {
    if (auto s = env->GetString("build_id"); s.ok()) e.environment.build_id = *s;
    if (auto s = env->GetString("platform"); s.ok()) e.environment.platform = *s;
    if (auto s = env->GetString("kernels"); s.ok()) e.environment.kernels = *s;
    if (auto n = env->GetInt("threads"); n.ok()) e.environment.threads = static_cast<int32_t>(*n);
    if (auto n = env->GetInt("kernel_contract"); n.ok()) {
      e.environment.kernel_contract = static_cast<int32_t>(*n);
    }
  }
  if (const JsonValue* t = doc.Find("timing"); t && t->is_object()) {
    auto num = [&](const char* k) {
      auto n = t->GetNumber(k);
      return n.ok() ? *n : 0.0;
    };
    e.timing.wall_seconds = num("wall_seconds");
    e.timing.prefill_tok_s = num("prefill_tok_s");
    e.timing.decode_tok_s = num("decode_tok_s");
    // Counts are optional (older evidence lacks some) but, when present, whole
    // numbers in 0..2^53: anything else is refused, never cast (a cast out of
    // range is undefined; found by the eval_evidence fuzzer).
    auto count = [&](const char* k, int64_t* out) -> Status {
      if (t->Find(k) == nullptr) return Status::Ok();
      SLM_ASSIGN_OR_RETURN(*out, r.Int(*t, "timing", k));
      if (*out < 0) return r.Err(std::string("timing.") + k, "expected a count >= 0");
      return Status::Ok();
    };
    SLM_RETURN_IF_ERROR(count("prompt_tokens", &e.timing.prompt_tokens));
    SLM_RETURN_IF_ERROR(count("generated_tokens", &e.timing.generated_tokens));
    int64_t peak = 0;
    SLM_RETURN_IF_ERROR(count("peak_memory_bytes", &peak));
    e.timing.peak_memory_bytes = static_cast<uint64_t>(peak);
    SLM_RETURN_IF_ERROR(count("kv_prompt_tokens", &e.timing.kv_prompt_tokens));
    SLM_RETURN_IF_ERROR(count("kv_reused_tokens", &e.timing.kv_reused_tokens));
    e.timing.prefix_hit_rate = num("prefix_hit_rate");
    if (const JsonValue* cs = t->Find("cases");
        cs && cs->is_array() && cs->size() == e.cases.size()) {
      for (size_t i = 0; i < e.cases.size(); ++i) {
        const JsonValue& x = cs->items()[i];
        auto get = [&](const char* k) {
          auto n = x.GetNumber(k);
          return n.ok() ? *n : 0.0;
        };
        e.cases[i].seconds = get("seconds");
        e.cases[i].prefill_seconds = get("prefill_seconds");
        e.cases[i].decode_seconds = get("decode_seconds");
      }
    }
  }
  // The recorded fitness must be the one its cases imply (a hand-edited
  // pass flag would otherwise go unnoticed).
  if (const JsonValue* f = doc.Find("fitness")) {
    JsonValue probe = EvidenceToJson(e);
    if (f->Dump() != probe.Find("fitness")->Dump()) {
      return r.Err("fitness", "does not match the fitness recomputed from the cases");
    }
  } else {
    return r.Err("fitness", "missing");
  }
  return e;
}

}  // namespace slm::eval

// The evaluation and release-packet part of the C ABI (slm.h, "evaluation and
// release packets"). A run is driven one case per call: case i runs as shard
// i of N (N = cases in the file), and the finished shards merge into exactly
// the evidence one `slm eval` run writes (MergeEvidence's contract, which the
// sharding tests check).
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "api/handles.h"
#include "base/json.h"
#include "base/sha256.h"
#include "eval/archive.h"
#include "eval/cases.h"
#include "eval/evidence.h"
#include "eval/release.h"
#include "eval/runner.h"

using slm::api::Fail;
using slm::api::NullArg;

struct slm_eval {
  slm_session* session = nullptr;  // borrowed
  std::string cases_text;
  std::vector<slm::eval::EvalCase> cases;
  std::string cases_digest;
  slm::SamplerConfig sampling;
  std::vector<slm::eval::Evidence> shards;  // one per finished case
  std::string last_case;                    // JSON of the last finished case
  std::string evidence;                     // set when every case ran
  std::string archive;                      // last slm_eval_release result
};

struct slm_verify {
  bool ok = false;
  std::string report;
};

namespace {

slm::eval::EvalInputs Inputs(const slm_eval& e, int32_t index) {
  slm::eval::EvalInputs in;
  in.package = e.session->pkg->package.get();
  in.tokenizer = e.session->pkg->tokenizer.get();
  in.session = e.session->session.get();
  in.cases = e.cases;
  in.cases_digest = e.cases_digest;
  in.sampling = e.sampling;
  in.shard_index = index;
  in.shard_count = static_cast<int32_t>(e.cases.size());
  for (const auto& a : e.session->adapters)
    in.adapters.push_back({slm::DigestHex(a.digest), a.scale, a.bytes});
  return in;
}

slm::JsonValue StringArray(const std::vector<std::string>& v) {
  slm::JsonValue a = slm::JsonValue::Array();
  for (const std::string& s : v) a.Append(slm::JsonValue::String(s));
  return a;
}

}  // namespace

extern "C" {

slm_status slm_eval_begin(slm_session* s, const char* cases, size_t cases_len,
                          const slm_sampler_params* sampling, slm_eval** out) {
  constexpr const char* kFn = "slm_eval_begin";
  if (s == nullptr) return NullArg(kFn, "s");
  if (out == nullptr) return NullArg(kFn, "out");
  if (cases == nullptr && cases_len > 0) return NullArg(kFn, "cases");
  std::unique_ptr<slm_eval> e(new (std::nothrow) slm_eval);
  if (!e) return Fail(SLM_RESOURCE_EXHAUSTED, std::string(kFn) + ": out of memory");
  e->session = s;
  if (sampling != nullptr) {
    if (slm_status st = slm::api::SamplerConfigFrom(kFn, sampling, &e->sampling); st != SLM_OK)
      return st;
  }
  e->cases_text.assign(cases == nullptr ? "" : cases, cases_len);
  auto parsed = slm::eval::ParseCases(e->cases_text, "cases");
  if (!parsed.ok()) return Fail(parsed.status());
  e->cases = std::move(parsed).value();
  if (e->cases.empty())
    return Fail(SLM_INVALID_ARGUMENT, std::string(kFn) + ": no cases in the file");
  e->cases_digest = slm::DigestHex(slm::Sha256Of(e->cases_text));
  *out = e.release();
  return SLM_OK;
}

void slm_eval_destroy(slm_eval* e) { delete e; }

slm_status slm_eval_step(slm_eval* e, int32_t* done, int32_t* total) {
  constexpr const char* kFn = "slm_eval_step";
  if (e == nullptr) return NullArg(kFn, "e");
  const int32_t n = static_cast<int32_t>(e->cases.size());
  const int32_t i = static_cast<int32_t>(e->shards.size());
  if (i < n) {
    auto ev = slm::eval::RunEval(Inputs(*e, i), nullptr, nullptr);
    if (!ev.ok()) return Fail(ev.status());
    if (ev->cases.size() != 1) return Fail(SLM_INTERNAL, std::string(kFn) + ": expected one case");
    e->last_case = slm::eval::EvidenceToJson(*ev).Find("cases")->items()[0].Dump();
    e->shards.push_back(std::move(ev).value());
    if (i + 1 == n) {
      auto merged = slm::eval::MergeEvidence(e->shards);
      if (!merged.ok()) return Fail(merged.status());
      e->evidence = slm::eval::SerializeEvidence(*merged);
    }
  }
  if (done) *done = static_cast<int32_t>(e->shards.size());
  if (total) *total = n;
  return SLM_OK;
}

const char* slm_eval_last_case(const slm_eval* e, size_t* len) {
  if (len) *len = e ? e->last_case.size() : 0;
  return e == nullptr || e->last_case.empty() ? nullptr : e->last_case.c_str();
}

const char* slm_eval_evidence(slm_eval* e, size_t* len) {
  if (len) *len = 0;
  if (e == nullptr || e->evidence.empty()) {
    Fail(SLM_OUT_OF_RANGE, "slm_eval_evidence: the evaluation has not finished");
    return nullptr;
  }
  if (len) *len = e->evidence.size();
  return e->evidence.c_str();
}

const uint8_t* slm_eval_release(slm_eval* e, int32_t include_base, size_t* len) {
  constexpr const char* kFn = "slm_eval_release";
  if (len) *len = 0;
  if (e == nullptr || e->evidence.empty()) {
    Fail(SLM_OUT_OF_RANGE, std::string(kFn) + ": the evaluation has not finished");
    return nullptr;
  }
  const slm::Package& pkg = *e->session->pkg->package;
  std::vector<std::string> adapters;
  for (const auto& a : e->session->adapters) adapters.push_back(a.package);
  auto files = slm::eval::BuildPacket(e->evidence, e->cases_text, pkg, include_base != 0, adapters);
  if (!files.ok()) {
    Fail(files.status());
    return nullptr;
  }
  std::vector<slm::eval::ArchiveMember> members;
  for (slm::eval::PacketFile& f : *files) members.push_back({f.path, std::move(f.bytes)});
  if (include_base != 0) {
    auto b = pkg.bytes();
    members.push_back({slm::eval::kBaseName, std::string(b.begin(), b.end())});
  }
  auto archive = slm::eval::WriteArchive(members);
  if (!archive.ok()) {
    Fail(archive.status());
    return nullptr;
  }
  e->archive = std::move(archive).value();
  if (len) *len = e->archive.size();
  return reinterpret_cast<const uint8_t*>(e->archive.data());
}

slm_status slm_release_verify(const slm_package* base, const uint8_t* archive, size_t len,
                              slm_verify** out) {
  constexpr const char* kFn = "slm_release_verify";
  if (out == nullptr) return NullArg(kFn, "out");
  if (archive == nullptr && len > 0) return NullArg(kFn, "archive");
  auto members = slm::eval::ReadArchive({archive, len});
  if (!members.ok()) return Fail(members.status().WithContext("release packet"));
  std::vector<std::string> listing;
  for (const auto& m : *members) listing.push_back(m.name);
  auto read = [&](const std::string& path) -> slm::StatusOr<std::string> {
    for (const auto& m : *members) {
      if (m.name == path) return m.bytes;
    }
    return slm::NotFound("missing from the packet");
  };
  slm::eval::PacketCheck check = slm::eval::CheckPacket(read, listing);
  std::unique_ptr<slm_verify> v(new (std::nothrow) slm_verify);
  if (!v) return Fail(SLM_RESOURCE_EXHAUSTED, std::string(kFn) + ": out of memory");
  std::vector<std::string> problems = check.problems;
  std::string base_digest;
  if (problems.empty()) {
    // The base: the caller's, or a 64-byte aligned copy of the packet's.
    std::unique_ptr<slm::Package> inner;
    void* copy = nullptr;
    const slm::Package* pkg = base != nullptr ? base->package.get() : nullptr;
    if (pkg == nullptr) {
      if (!check.base_included) {
        return Fail(
            SLM_INVALID_ARGUMENT,
            std::string(kFn) + ": the packet does not include the base; pass the base package");
      }
      auto bytes = read(slm::eval::kBaseName);
      copy = slm_alloc(bytes->size());
      if (copy == nullptr)
        return Fail(SLM_RESOURCE_EXHAUSTED, std::string(kFn) + ": out of memory");
      std::memcpy(copy, bytes->data(), bytes->size());
      auto opened = slm::Package::FromMemory({static_cast<const uint8_t*>(copy), bytes->size()},
                                             slm::eval::kBaseName);
      if (!opened.ok()) {
        slm_free(copy);
        return Fail(opened.status());
      }
      inner = std::move(opened).value();
      pkg = inner.get();
    }
    base_digest = pkg->digest_hex();
    auto diffs = slm::eval::ReplayEvidence(check.evidence, check.cases_text, *pkg, check.adapters,
                                           0, nullptr, nullptr);
    inner.reset();
    slm_free(copy);
    if (!diffs.ok()) return Fail(diffs.status());
    problems = std::move(diffs).value();
  }
  v->ok = problems.empty();
  slm::JsonValue r = slm::JsonValue::Object();
  r.Set("ok", slm::JsonValue::Bool(v->ok));
  r.Set("packet_digest", slm::JsonValue::String(check.packet_digest));
  r.Set("base_digest", slm::JsonValue::String(base_digest));
  r.Set("cases", slm::JsonValue::Number(static_cast<double>(check.evidence.cases.size())));
  r.Set("problems", StringArray(problems));
  v->report = r.Dump();
  *out = v.release();
  return SLM_OK;
}

void slm_verify_destroy(slm_verify* v) { delete v; }
int32_t slm_verify_ok(const slm_verify* v) { return v != nullptr && v->ok ? 1 : 0; }
const char* slm_verify_report(const slm_verify* v, size_t* len) {
  if (len) *len = v ? v->report.size() : 0;
  return v == nullptr ? nullptr : v->report.c_str();
}

}  // extern "C"

// The C ABI of include/slm/slm.h over the C++ runtime. This folder is the only
// place that knows the C ABI exists: handles are plain structs owning the C++
// objects, every Status becomes (code, thread-local message), nothing throws.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/describe.h"
#include "api/handles.h"
#include "base/status.h"
#include "kernels/kernels.h"
#include "package/package.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "sampler/sampler.h"
#include "slm/slm.h"
#include "tokenizer/tokenizer.h"

static_assert(sizeof(slm_diagnostics) == 200, "slm_diagnostics layout is part of the ABI");
static_assert(offsetof(slm_diagnostics, tokens_in_cache) == 56);
static_assert(offsetof(slm_diagnostics, kernels) == 80);
static_assert(offsetof(slm_diagnostics, assembly_checksum) == 96);
static_assert(offsetof(slm_diagnostics, kv_pages_used) == 168);
static_assert(offsetof(slm_diagnostics, kv_prompt_tokens) == 184);
static_assert(offsetof(slm_diagnostics, kv_evictions) == 192);
static_assert(offsetof(slm_diagnostics, time_to_first_token_ms) == 196);
static_assert(sizeof(slm_sampler_params) == 48 && offsetof(slm_sampler_params, seed) == 16 &&
              offsetof(slm_sampler_params, min_p) == 24 &&
              offsetof(slm_sampler_params, penalty_last_n) == 40);
static_assert(sizeof(slm_package_info) == 48);
static_assert(static_cast<int>(slm::StatusCode::kInternal) == SLM_INTERNAL);

namespace slm::api {

// Per thread natively; the wasm32-wasi reactor is single-threaded (and
// wasi-libc has no __cxa_thread_atexit for a non-trivial thread_local).
#if defined(__wasm__) && !defined(_REENTRANT)
std::string g_last_error;
#else
thread_local std::string g_last_error;
#endif

slm_status Fail(const slm::Status& s) {
  g_last_error = s.ToString();
  return static_cast<slm_status>(s.code());
}
slm_status Fail(slm_status code, const std::string& message) {
  return Fail(slm::Status(static_cast<slm::StatusCode>(code), message));
}
slm_status SamplerConfigFrom(const char* fn, const slm_sampler_params* p, slm::SamplerConfig* c) {
  if (p->reserved != 0 || p->reserved2 != 0) {
    return Fail(SLM_INVALID_ARGUMENT, std::string(fn) + ": reserved fields must be 0");
  }
  c->temperature = p->temperature;
  c->top_k = p->top_k;
  c->top_p = p->top_p;
  c->seed = p->seed;
  c->min_p = p->min_p;
  c->repeat_penalty = p->repeat_penalty;
  c->presence_penalty = p->presence_penalty;
  c->frequency_penalty = p->frequency_penalty;
  c->penalty_last_n = p->penalty_last_n;
  return SLM_OK;
}

slm_status NullArg(const char* fn, const char* what) {
  return Fail(SLM_INVALID_ARGUMENT, std::string(fn) + ": " + what + " is NULL");
}

// Output rule of slm.h: *len is always the full size; copy only if it fits.
slm_status PutBytes(const char* fn, std::string_view s, char* buf, size_t cap, size_t* len) {
  if (len == nullptr) return NullArg(fn, "len");
  *len = s.size();
  if (s.size() > cap) {
    return Fail(SLM_OUT_OF_RANGE, std::string(fn) + ": output needs " + std::to_string(s.size()) +
                                      " bytes, buffer has " + std::to_string(cap));
  }
  if (!s.empty()) {
    if (buf == nullptr) return NullArg(fn, "buf");
    std::memcpy(buf, s.data(), s.size());
  }
  return SLM_OK;
}

}  // namespace slm::api

namespace {

using slm::api::Fail;
using slm::api::g_last_error;
using slm::api::NullArg;
using slm::api::PutBytes;
using Clock = std::chrono::steady_clock;

uint64_t LinearMemoryBytes() {
#if defined(__wasm__)
  return static_cast<uint64_t>(__builtin_wasm_memory_size(0)) * 65536u;
#else
  return 0;
#endif
}

uint64_t SessionBytes(const slm::ModelConfig& c, int32_t n_ctx) {
  const uint64_t ctx = static_cast<uint64_t>(n_ctx);
  uint64_t floats = 2 * static_cast<uint64_t>(c.n_layers) * ctx * c.kv_dim();  // KV cache
  floats += ctx * static_cast<uint64_t>(c.head_dim);                           // RoPE cos + sin
  floats += 2ull * c.dim + 2ull * c.q_dim() + 2ull * c.hidden_dim + ctx + c.vocab_size;
  floats += 2ull * c.vocab_size;  // sampler probs + ids
  return floats * 4;
}

// adapter_count and the hex assembly checksum (base alone: no adapters).
void SetAssemblyDiag(slm_session* s) {
  std::vector<slm::Digest> digests;
  std::vector<float> scales;
  for (const auto& a : s->adapters) {
    digests.push_back(a.digest);
    scales.push_back(a.scale);
  }
  const std::string hex =
      slm::DigestHex(slm::AssemblyChecksum(s->pkg->package->digest(), digests, scales));
  std::memset(s->diag.assembly_checksum, 0, sizeof(s->diag.assembly_checksum));
  std::memcpy(s->diag.assembly_checksum, hex.data(), hex.size());
  s->diag.adapter_count = static_cast<int32_t>(s->adapters.size());
}

int32_t Saturate(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, 0, std::numeric_limits<int32_t>::max()));
}

// The kv_* fields from Session::kv_stats() (a pass over the page headers:
// ~1 us for a few hundred pages, so per token is fine).
void RefreshKvDiag(slm_session* s) {
  const slm::KvStats kv = s->session->kv_stats();
  slm_diagnostics& d = s->diag;
  d.tokens_in_cache = Saturate(kv.tokens_in_cache);
  d.kv_pages_used = kv.pages_used;
  d.kv_pages_shared = kv.pages_shared;
  d.kv_pages_cached = kv.pages_cached;
  d.kv_pages_free = kv.pages_free;
  d.kv_prompt_tokens = Saturate(kv.prompt_tokens);
  d.kv_reused_tokens = Saturate(kv.reused_tokens);
  d.kv_evictions = Saturate(kv.evictions);
}

void RefreshDiag(slm_session* s) {
  RefreshKvDiag(s);
  s->diag.linear_memory_bytes = LinearMemoryBytes();
  s->diag.prefill_tok_s =
      s->diag.prefill_ms > 0 ? s->diag.prompt_tokens / (s->diag.prefill_ms / 1000.0) : 0;
  s->diag.decode_tok_s = s->diag.decode_ms > 0 ? s->decoded / (s->diag.decode_ms / 1000.0) : 0;
}

// Ends a generation (if one is active) with `reason`.
void EndGeneration(slm_session* s, int32_t reason) {
  if (!s->generating) return;
  s->generating = false;
  s->has_pending = false;
  s->diag.stop_reason = reason;
}

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

namespace slm::api {

slm_status CheckMemoryOpen(const char* fn, const uint8_t* bytes, size_t size, const char* name,
                           size_t name_len, const void* out, std::string* display_name) {
  if (out == nullptr) return NullArg(fn, "out");
  if (bytes == nullptr && size > 0) return NullArg(fn, "bytes");
  if (name == nullptr && name_len > 0) return NullArg(fn, "name");
  if (reinterpret_cast<uintptr_t>(bytes) % 64 != 0) {
    return Fail(SLM_INVALID_ARGUMENT,
                std::string(fn) + ": bytes must be 64-byte aligned (use slm_alloc)");
  }
  *display_name = name_len ? std::string(name, name_len) : std::string("<memory>");
  return SLM_OK;
}

slm::PackageOpenOptions OpenOptions(const slm_open_params* p) {
  slm_open_params d;
  slm_open_params_default(&d);
  slm::PackageOpenOptions o;
  o.verify_digests = (p ? p->verify_digests : d.verify_digests) != 0;
  return o;
}

slm_status FinishPackage(std::unique_ptr<slm::Package> package, slm_package** out) {
  std::unique_ptr<slm_package> h(new (std::nothrow) slm_package);
  if (!h) return Fail(SLM_RESOURCE_EXHAUSTED, "out of memory creating a package handle");
  auto tok = slm::Tokenizer::Create(package->tokenizer());
  if (!tok.ok()) return Fail(tok.status().WithContext(package->name() + ": tokenizer"));
  auto model = slm::Model::Create(package->config(), package->tensors());
  if (!model.ok()) return Fail(model.status().WithContext(package->name()));
  h->package = std::move(package);
  h->tokenizer = std::move(tok).value();
  h->model = std::move(model).value();
  *out = h.release();
  return SLM_OK;
}

}  // namespace slm::api

namespace {
using slm::api::CheckMemoryOpen;
using slm::api::FinishPackage;
using slm::api::OpenOptions;
}  // namespace

extern "C" {

const char* slm_last_error(void) { return g_last_error.c_str(); }
size_t slm_last_error_length(void) { return g_last_error.size(); }
const char* slm_version(void) { return SLM_VERSION; }
const char* slm_kernels_name(void) { return slm::Kernels().name; }

void* slm_alloc(size_t size) {
  if (size == 0) return nullptr;
  const size_t rounded = (size + 63) / 64 * 64;
  if (rounded < size) return nullptr;
  return std::aligned_alloc(64, rounded);
}
void slm_free(void* ptr) { std::free(ptr); }

void slm_open_params_default(slm_open_params* p) {
  if (p == nullptr) return;
  p->verify_digests = 1;
  p->take_ownership = 0;
}

slm_status slm_package_open_memory(const uint8_t* bytes, size_t size, const char* name,
                                   size_t name_len, const slm_open_params* params,
                                   slm_package** out) {
  std::string n;
  const slm_status checked =
      CheckMemoryOpen("slm_package_open_memory", bytes, size, name, name_len, out, &n);
  if (checked != SLM_OK) return checked;
  auto p = slm::Package::FromMemory(std::span<const uint8_t>(bytes, size), n, OpenOptions(params));
  if (!p.ok()) return Fail(p.status());
  slm_package* h = nullptr;
  slm_status st = FinishPackage(std::move(p).value(), &h);
  if (st != SLM_OK) return st;
  if (params != nullptr && params->take_ownership) h->owned_bytes = const_cast<uint8_t*>(bytes);
  *out = h;
  return SLM_OK;
}

slm_status slm_package_open_file(const char* path, size_t path_len, const slm_open_params* params,
                                 slm_package** out) {
  constexpr const char* kFn = "slm_package_open_file";
  if (out == nullptr) return NullArg(kFn, "out");
  if (path == nullptr) return NullArg(kFn, "path");
#if defined(__wasm__)
  (void)path_len;
  (void)params;
  return Fail(
      SLM_UNSUPPORTED,
      std::string(kFn) + ": no file system in the browser build; use slm_package_open_memory");
#else
  auto p = slm::Package::Open(std::string(path, path_len), OpenOptions(params));
  if (!p.ok()) return Fail(p.status());
  return FinishPackage(std::move(p).value(), out);
#endif
}

void slm_package_destroy(slm_package* pkg) { delete pkg; }

slm_status slm_package_get_info(const slm_package* pkg, slm_package_info* out) {
  if (pkg == nullptr) return NullArg("slm_package_get_info", "pkg");
  if (out == nullptr) return NullArg("slm_package_get_info", "out");
  const slm::ModelConfig& c = pkg->package->config();
  const slm::TokenizerData& t = pkg->tokenizer->data();
  slm_package_info i{};
  i.vocab_size = c.vocab_size;
  i.max_seq_len = c.max_seq_len;
  i.dim = c.dim;
  i.n_layers = c.n_layers;
  i.n_heads = c.n_heads;
  i.n_kv_heads = c.n_kv_heads;
  i.bos_id = t.bos_id;
  i.eos_id = t.eos_id;
  i.file_size = pkg->package->file_size();
  i.n_tensors = pkg->package->tensors().size();
  *out = i;
  return SLM_OK;
}

slm_status slm_package_describe(const slm_package* pkg, char* buf, size_t cap, size_t* len) {
  if (pkg == nullptr) return NullArg("slm_package_describe", "pkg");
  return PutBytes("slm_package_describe", slm::api::DescribePackage(*pkg->package), buf, cap, len);
}

slm_status slm_package_digest(const slm_package* pkg, char* buf, size_t cap, size_t* len) {
  if (pkg == nullptr) return NullArg("slm_package_digest", "pkg");
  return PutBytes("slm_package_digest", pkg->package->digest_hex(), buf, cap, len);
}

slm_status slm_tokenize(const slm_package* pkg, const char* text, size_t text_len, int32_t add_bos,
                        int32_t* ids, size_t cap, size_t* n) {
  constexpr const char* kFn = "slm_tokenize";
  if (pkg == nullptr) return NullArg(kFn, "pkg");
  if (n == nullptr) return NullArg(kFn, "n");
  if (text == nullptr && text_len > 0) return NullArg(kFn, "text");
  if (add_bos < -1 || add_bos > 1) {
    return Fail(SLM_INVALID_ARGUMENT, std::string(kFn) + ": add_bos = " + std::to_string(add_bos) +
                                          ", expected -1, 0 or 1");
  }
  const slm::TokenizerData& d = pkg->tokenizer->data();
  const bool bos = add_bos == -1 ? (d.add_bos && d.bos_id >= 0) : add_bos == 1;
  auto r = pkg->tokenizer->Encode(std::string_view(text ? text : "", text_len), bos);
  if (!r.ok()) return Fail(r.status());
  *n = r->size();
  if (r->size() > cap) {
    return Fail(SLM_OUT_OF_RANGE, std::string(kFn) + ": " + std::to_string(r->size()) +
                                      " ids, buffer holds " + std::to_string(cap));
  }
  if (!r->empty()) {
    if (ids == nullptr) return NullArg(kFn, "ids");
    std::memcpy(ids, r->data(), r->size() * sizeof(int32_t));
  }
  return SLM_OK;
}

slm_status slm_detokenize(const slm_package* pkg, const int32_t* ids, size_t n_ids, char* buf,
                          size_t cap, size_t* len) {
  constexpr const char* kFn = "slm_detokenize";
  if (pkg == nullptr) return NullArg(kFn, "pkg");
  if (ids == nullptr && n_ids > 0) return NullArg(kFn, "ids");
  const int32_t vocab = pkg->tokenizer->vocab_size();
  for (size_t i = 0; i < n_ids; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      return Fail(SLM_INVALID_ARGUMENT, std::string(kFn) + ": ids[" + std::to_string(i) +
                                            "] = " + std::to_string(ids[i]) + ", expected 0.." +
                                            std::to_string(vocab - 1));
    }
  }
  slm::StreamDecoder dec(*pkg->tokenizer);
  std::string text;
  for (size_t i = 0; i < n_ids; ++i) text += dec.Feed(ids[i]);
  text += dec.Flush();
  return PutBytes(kFn, text, buf, cap, len);
}

void slm_session_params_default(slm_session_params* p) {
  if (p != nullptr) p->n_ctx = 0;
}

slm_status slm_session_create(const slm_package* pkg, const slm_session_params* params,
                              slm_session** out) {
  constexpr const char* kFn = "slm_session_create";
  if (pkg == nullptr) return NullArg(kFn, "pkg");
  if (out == nullptr) return NullArg(kFn, "out");
  slm::SessionOptions o;
  o.n_ctx = params ? params->n_ctx : 0;
  std::unique_ptr<slm_session> h(new (std::nothrow) slm_session);
  if (!h) return Fail(SLM_RESOURCE_EXHAUSTED, "out of memory creating a session handle");
  auto session = slm::Session::Create(*pkg->model, o);
  if (!session.ok()) return Fail(session.status());
  auto sampler = slm::Sampler::Create(pkg->package->config().vocab_size, slm::SamplerConfig{});
  if (!sampler.ok()) return Fail(sampler.status());
  h->pkg = pkg;
  h->session = std::move(session).value();
  h->sampler = std::move(sampler).value();
  h->decoder = std::make_unique<slm::StreamDecoder>(*pkg->tokenizer);
  h->piece.reserve(64);
  slm_diagnostics& d = h->diag;
  d.package_bytes = pkg->package->file_size();
  d.n_ctx = h->session->n_ctx();
  d.session_bytes = SessionBytes(pkg->package->config(), d.n_ctx);
  d.stop_reason = SLM_STOP_NONE;
  std::strncpy(d.kernels, slm::Kernels().name, sizeof(d.kernels) - 1);
  SetAssemblyDiag(h.get());
  RefreshDiag(h.get());
  *out = h.release();
  return SLM_OK;
}

void slm_session_destroy(slm_session* s) { delete s; }

slm_status slm_session_set_adapters(slm_session* s, const slm_adapter* const* adapters,
                                    const float* scales, size_t n) {
  constexpr const char* kFn = "slm_session_set_adapters";
  if (s == nullptr) return NullArg(kFn, "s");
  if (n > 0 && (adapters == nullptr || scales == nullptr))
    return NullArg(kFn, "adapters or scales");
  std::vector<slm::AssemblyEntry> entries;
  std::vector<slm_session::AdapterUse> uses;
  for (size_t i = 0; i < n; ++i) {
    const slm_adapter* a = adapters[i];
    if (a == nullptr) return NullArg(kFn, "an adapter");
    if (a->base != s->pkg) {
      return Fail(SLM_INVALID_ARGUMENT, std::string(kFn) + ": adapter " + std::to_string(i) +
                                            " was opened for another package handle");
    }
    entries.push_back({&a->file.adapter, a->file.digest, scales[i]});
    auto bytes = slm::SerializeAdapter(a->file.adapter);
    if (!bytes.ok()) return Fail(bytes.status());
    uses.push_back(
        {a->file.digest, scales[i], a->file.bytes, std::string(bytes->begin(), bytes->end())});
  }
  std::unique_ptr<slm::AdapterAssembly> assembly;
  if (n > 0) {
    auto built = slm::AdapterAssembly::Build(*s->pkg->package, entries);
    if (!built.ok()) return Fail(built.status());
    assembly = std::move(built).value();
  }
  EndGeneration(s, SLM_STOP_CALLER);
  s->session->SetDeltas(assembly.get());
  s->session->Reset();
  s->assembly = std::move(assembly);
  s->adapters = std::move(uses);
  SetAssemblyDiag(s);
  RefreshDiag(s);
  return SLM_OK;
}

slm_status slm_session_reset(slm_session* s) {
  if (s == nullptr) return NullArg("slm_session_reset", "s");
  EndGeneration(s, SLM_STOP_CALLER);
  s->session->Reset();
  RefreshDiag(s);
  return SLM_OK;
}

int32_t slm_session_position(const slm_session* s) { return s ? s->session->position() : -1; }

slm_status slm_session_prefill(slm_session* s, const int32_t* ids, size_t n) {
  constexpr const char* kFn = "slm_session_prefill";
  if (s == nullptr) return NullArg(kFn, "s");
  if (ids == nullptr && n > 0) return NullArg(kFn, "ids");
  slm::Status st = s->session->Prefill(std::span<const int32_t>(ids, n));
  if (!st.ok()) return Fail(st);
  EndGeneration(s, SLM_STOP_CALLER);
  RefreshDiag(s);
  return SLM_OK;
}

const float* slm_session_logits(const slm_session* s, size_t* n) {
  if (s == nullptr) {
    if (n) *n = 0;
    return nullptr;
  }
  std::span<const float> l = s->session->logits();
  if (n) *n = l.size();
  return l.empty() ? nullptr : l.data();
}

void slm_sampler_params_default(slm_sampler_params* p) {
  if (p == nullptr) return;
  p->temperature = 0;
  p->top_k = 0;
  p->top_p = 1;
  p->reserved = 0;
  p->seed = 0;
  p->min_p = 0;
  p->repeat_penalty = 1;
  p->presence_penalty = 0;
  p->frequency_penalty = 0;
  p->penalty_last_n = 64;
  p->reserved2 = 0;
}

slm_status slm_session_set_sampler(slm_session* s, const slm_sampler_params* p) {
  constexpr const char* kFn = "slm_session_set_sampler";
  if (s == nullptr) return NullArg(kFn, "s");
  if (p == nullptr) return NullArg(kFn, "params");
  slm::SamplerConfig c;
  if (slm_status st = slm::api::SamplerConfigFrom(kFn, p, &c); st != SLM_OK) return st;
  auto sampler = slm::Sampler::Create(s->pkg->package->config().vocab_size, c);
  if (!sampler.ok()) return Fail(sampler.status());
  s->sampler = std::move(sampler).value();
  return SLM_OK;
}

slm_status slm_session_sample(slm_session* s, int32_t* id) {
  constexpr const char* kFn = "slm_session_sample";
  if (s == nullptr) return NullArg(kFn, "s");
  if (id == nullptr) return NullArg(kFn, "id");
  std::span<const float> l = s->session->logits();
  if (l.empty())
    return Fail(SLM_INVALID_ARGUMENT, std::string(kFn) + ": no logits yet (prefill first)");
  *id = s->sampler->Sample(l);
  return SLM_OK;
}

slm_status slm_generate_begin(slm_session* s, const int32_t* prompt, size_t n,
                              int32_t max_new_tokens) {
  constexpr const char* kFn = "slm_generate_begin";
  if (s == nullptr) return NullArg(kFn, "s");
  if (prompt == nullptr && n > 0) return NullArg(kFn, "prompt");
  if (max_new_tokens < 0) {
    return Fail(SLM_INVALID_ARGUMENT, std::string(kFn) + ": max_new_tokens = " +
                                          std::to_string(max_new_tokens) + ", expected >= 0");
  }
  const auto t0 = Clock::now();
  slm::Status st = s->session->Prefill(std::span<const int32_t>(prompt, n));
  if (!st.ok()) return Fail(st);
  const double ms = MsSince(t0);
  // As Generator (accept_prompt): penalties see the prompt. The ids were
  // checked by the prefill, so Accept cannot fail here.
  for (size_t i = 0; i < n; ++i) (void)s->sampler->Accept(prompt[i]);
  EndGeneration(s, SLM_STOP_CALLER);
  s->generating = true;
  s->has_pending = false;
  s->pending = -1;
  s->max_new_tokens = max_new_tokens;
  s->decoded = 0;
  s->piece.clear();
  s->decoder = std::make_unique<slm::StreamDecoder>(*s->pkg->tokenizer);
  slm_diagnostics& d = s->diag;
  d.prefill_ms = ms;
  d.decode_ms = 0;
  d.prompt_tokens = static_cast<int32_t>(n);
  d.generated_tokens = 0;
  d.stop_reason = SLM_STOP_NONE;
  d.time_to_first_token_ms = 0;
  s->awaiting_first_token = true;
  RefreshDiag(s);
  return SLM_OK;
}

slm_status slm_generate_next(slm_session* s, int32_t* id) {
  constexpr const char* kFn = "slm_generate_next";
  if (s == nullptr) return NullArg(kFn, "s");
  if (id == nullptr) return NullArg(kFn, "id");
  if (!s->generating && s->diag.stop_reason == SLM_STOP_NONE) {
    return Fail(SLM_INVALID_ARGUMENT,
                std::string(kFn) + ": no generation (call slm_generate_begin)");
  }
  const auto t_call = Clock::now();
  s->piece.clear();
  *id = -1;
  if (!s->generating) return SLM_OK;  // finished earlier: -1 again
  slm_diagnostics& d = s->diag;
  auto finish = [&](int32_t reason) {
    EndGeneration(s, reason);
    s->piece = s->decoder->Flush();
    RefreshDiag(s);
  };
  // The same order of checks as slm::Generate (runtime/generate.cc).
  if (d.generated_tokens >= s->max_new_tokens) {
    finish(SLM_STOP_MAX_TOKENS);
    return SLM_OK;
  }
  if (s->has_pending) {
    if (s->session->position() >= s->session->n_ctx()) {
      finish(SLM_STOP_CONTEXT_FULL);
      return SLM_OK;
    }
    const auto t0 = Clock::now();
    slm::Status st = s->session->Decode(s->pending);
    d.decode_ms += MsSince(t0);
    if (!st.ok()) {
      finish(SLM_STOP_ERROR);
      return Fail(st);
    }
    ++s->decoded;
    s->has_pending = false;
  }
  const int32_t next = s->sampler->Sample(s->session->logits());
  if (s->awaiting_first_token) {
    // As GenerateStats: from the prefill's start to the first sample (EOS too).
    s->awaiting_first_token = false;
    d.time_to_first_token_ms = static_cast<float>(d.prefill_ms + MsSince(t_call));
  }
  if (next == s->pkg->tokenizer->data().eos_id) {
    finish(SLM_STOP_EOS);
    return SLM_OK;
  }
  (void)s->sampler->Accept(next);
  ++d.generated_tokens;
  s->pending = next;
  s->has_pending = true;
  s->piece = s->decoder->Feed(next);
  RefreshDiag(s);
  *id = next;
  return SLM_OK;
}

const char* slm_generate_piece(const slm_session* s, size_t* len) {
  if (s == nullptr) {
    if (len) *len = 0;
    return "";
  }
  if (len) *len = s->piece.size();
  return s->piece.c_str();
}

const slm_diagnostics* slm_session_diagnostics(slm_session* s) {
  if (s == nullptr) return nullptr;
  s->diag.linear_memory_bytes = LinearMemoryBytes();
  RefreshKvDiag(s);  // an evaluation drives the session directly
  return &s->diag;
}

}  // extern "C"

/* slm: the public C ABI (DESIGN.md principle 6). The only public header.
 *
 * The same functions are the native library's API and, verbatim, the exports of
 * slm.wasm (a WASI reactor; web/slm.js is its handwritten JS side). Narrow on
 * purpose: opaque handles with create/destroy pairs, params structs filled by a
 * *_default function, caller-provided output buffers, no callbacks on the hot
 * path, no JSON except for the (cold) package description.
 *
 * Conventions
 *   - Every fallible function returns an slm_status: 0 = SLM_OK, otherwise one
 *     of the codes below (numeric values are stable; they are slm::StatusCode).
 *     The message of the last failure on the calling thread is slm_last_error().
 *     A successful call does not clear it.
 *   - Strings in are (pointer, length in UTF-8 bytes); no NUL is needed. Strings
 *     out go to a caller buffer (buf, cap, *len): *len is always set to the full
 *     length in bytes; if it does not fit (cap < *len) nothing is written and the
 *     call fails with SLM_OUT_OF_RANGE, so the caller can retry with *len bytes.
 *     The same rule holds for id arrays (counts in elements).
 *   - A failing call leaves its out-parameters (except *len / *n as above) and
 *     every handle it was given unchanged, unless its comment says otherwise.
 *   - Handles are not thread-safe; different handles may be used on different
 *     threads. A package must outlive the sessions created from it.
 *   - Passing NULL where a handle or out pointer is required fails with
 *     SLM_INVALID_ARGUMENT (never a crash).
 */
#ifndef SLM_SLM_H_
#define SLM_SLM_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__wasm__)
#define SLM_API __attribute__((visibility("default"), used))
#else
#define SLM_API __attribute__((visibility("default")))
#endif

/* ---- status ------------------------------------------------------------ */

typedef int32_t slm_status;
enum {
  SLM_OK = 0,
  SLM_INVALID_ARGUMENT = 1,   /* unusable argument (NULL handle, bad id, bad param) */
  SLM_NOT_FOUND = 2,          /* file or key absent */
  SLM_IO_ERROR = 3,           /* the OS refused a read */
  SLM_FORMAT_ERROR = 4,       /* bytes do not follow the .slm format */
  SLM_UNSUPPORTED = 5,        /* well-formed, not implemented (or not on this platform) */
  SLM_OUT_OF_RANGE = 6,       /* a limit exceeded: context full, output buffer too small */
  SLM_INTEGRITY_ERROR = 7,    /* a digest does not match */
  SLM_RESOURCE_EXHAUSTED = 8, /* out of memory / address space */
  SLM_INTERNAL = 9            /* our bug */
};

/* The message of the last failing call on this thread ("" if none yet). NUL-
 * terminated, valid until the next failing call on this thread. */
SLM_API const char* slm_last_error(void);
/* Byte length of slm_last_error() (for JS: no strlen scan needed). */
SLM_API size_t slm_last_error_length(void);
/* "0.1.0"; static storage. */
SLM_API const char* slm_version(void);
/* Name of the compute kernel set chosen at start-up: "scalar", "avx2",
 * "simd128". Static storage. */
SLM_API const char* slm_kernels_name(void);

/* ---- buffers ----------------------------------------------------------- */

/* 64-byte aligned allocation (weights are used in place, so a package buffer
 * must be aligned). NULL if size is 0 or memory is exhausted. In wasm this may
 * grow linear memory: re-derive typed-array views afterwards. */
SLM_API void* slm_alloc(size_t size);
/* Frees a pointer from slm_alloc; NULL is a no-op. */
SLM_API void slm_free(void* ptr);

/* ---- package ----------------------------------------------------------- */

typedef struct slm_package slm_package;

typedef struct slm_open_params {
  /* Recompute every tensor's SHA-256 on open (one pass over the weights).
   * Metadata, tokenizer and tensor-table digests are always checked. Default 1. */
  int32_t verify_digests;
  /* slm_package_open_memory only: on success the package owns `bytes` (which
   * must come from slm_alloc) and frees it in slm_package_destroy. On failure
   * the caller still owns it. Default 0. */
  int32_t take_ownership;
} slm_open_params;

SLM_API void slm_open_params_default(slm_open_params* p);

/* Opens a package from bytes in memory; no copy is made (the tensors view the
 * bytes, which must be 64-byte aligned, e.g. from slm_alloc, and must outlive
 * the package unless ownership is taken). name (UTF-8, may be empty) appears in
 * error messages. params may be NULL (defaults). On failure *out is untouched. */
SLM_API slm_status slm_package_open_memory(const uint8_t* bytes, size_t size, const char* name,
                                           size_t name_len, const slm_open_params* params,
                                           slm_package** out);
/* Opens (memory-maps) a package file. Native only: in wasm it fails with
 * SLM_UNSUPPORTED (use slm_package_open_memory). */
SLM_API slm_status slm_package_open_file(const char* path, size_t path_len,
                                         const slm_open_params* params, slm_package** out);
/* NULL is a no-op. Sessions of the package must be destroyed first. */
SLM_API void slm_package_destroy(slm_package* pkg);

/* Verify while streaming: for bytes that arrive in order into one buffer (a
 * download or a file read chunk by chunk into wasm memory). Each tensor's
 * SHA-256 is computed as its bytes arrive instead of in one more pass after
 * the last byte, so opening then costs the parse alone. The result and every
 * error of slm_package_stream_finish are those of slm_package_open_memory on
 * the same bytes and params (a flipped byte is refused naming the tensor).
 *
 *   slm_package_stream_begin(buf, size, name, len, params, &st);
 *   per chunk: copy it to buf + got; got += n; slm_package_stream_feed(st, got);
 *   slm_package_stream_finish(st, &pkg); slm_package_stream_destroy(st);
 *
 * begin: `bytes` is the whole buffer at its final size (64-byte aligned, e.g.
 * slm_alloc; nothing is read yet); it must outlive the stream (and the
 * package, unless params->take_ownership). params as slm_package_open_memory
 * (NULL = defaults; verify_digests = 0 hashes no tensor). */
typedef struct slm_package_stream slm_package_stream;
SLM_API slm_status slm_package_stream_begin(const uint8_t* bytes, size_t size, const char* name,
                                            size_t name_len, const slm_open_params* params,
                                            slm_package_stream** out);
/* The first bytes_available bytes of the buffer have arrived and will not
 * change. Hashes every section and tensor (wholly or partly) inside them;
 * cost: the new bytes plus a few table lookups, so call it per chunk.
 * SLM_INVALID_ARGUMENT (stream unchanged) if bytes_available is below the
 * last call's or above the size. Once the 64-byte header has arrived and is
 * refused (not an .slm package, unknown version...), returns that error, as
 * slm_package_open_memory words it, from then on: stop reading. */
SLM_API slm_status slm_package_stream_feed(slm_package_stream* s, size_t bytes_available);
/* After the last byte: the package (*out), checked as slm_package_open_memory
 * checks it, with the digests already computed. SLM_IO_ERROR naming both
 * counts if fewer bytes were fed than the size. On success with
 * take_ownership the package owns the buffer; either way the stream must
 * still be destroyed. One package per stream: a later call fails with
 * SLM_INVALID_ARGUMENT. */
SLM_API slm_status slm_package_stream_finish(slm_package_stream* s, slm_package** out);
SLM_API void slm_package_stream_destroy(slm_package_stream* s); /* NULL is a no-op */

/* Numbers a frontend needs without parsing JSON. */
typedef struct slm_package_info {
  int32_t vocab_size;
  int32_t max_seq_len;
  int32_t dim;
  int32_t n_layers;
  int32_t n_heads;
  int32_t n_kv_heads;
  int32_t bos_id; /* -1 if none */
  int32_t eos_id; /* -1 if none */
  uint64_t file_size;
  uint64_t n_tensors;
} slm_package_info;

SLM_API slm_status slm_package_get_info(const slm_package* pkg, slm_package_info* out);
/* A JSON object describing the package: file, file_size, package_digest,
 * tokenizer_digest, config, tokenizer, provenance, metadata (free-form strings),
 * tensors [{name, dtype, shape, bytes, sha256}]. Strings are data, never markup. */
SLM_API slm_status slm_package_describe(const slm_package* pkg, char* buf, size_t cap,
                                        size_t* len);
/* The package digest (identity) as 64 lowercase hex characters. */
SLM_API slm_status slm_package_digest(const slm_package* pkg, char* buf, size_t cap, size_t* len);

/* ---- tokenizer --------------------------------------------------------- */

/* add_bos: 1 prepend BOS, 0 do not, -1 as the tokenizer asks (the CLI's
 * --prompt behaviour). Invalid UTF-8 fails with SLM_INVALID_ARGUMENT. ids out:
 * (ids, cap, *n) as the buffer rule above. */
SLM_API slm_status slm_tokenize(const slm_package* pkg, const char* text, size_t text_len,
                                int32_t add_bos, int32_t* ids, size_t cap, size_t* n);
/* Decodes ids to UTF-8 text (bytes that never complete become U+FFFD). Ids
 * outside the vocab fail with SLM_INVALID_ARGUMENT. */
SLM_API slm_status slm_detokenize(const slm_package* pkg, const int32_t* ids, size_t n_ids,
                                  char* buf, size_t cap, size_t* len);

/* ---- session ----------------------------------------------------------- */

typedef struct slm_session slm_session;

typedef struct slm_session_params {
  int32_t n_ctx; /* context length in tokens; 0 = the model's. Default 0. */
} slm_session_params;

SLM_API void slm_session_params_default(slm_session_params* p);

/* Allocates the KV cache and all scratch (no allocation per token later). The
 * session starts with a greedy sampler. params may be NULL. */
SLM_API slm_status slm_session_create(const slm_package* pkg, const slm_session_params* params,
                                      slm_session** out);
SLM_API void slm_session_destroy(slm_session* s);  /* NULL is a no-op */
/* Back to position 0; ends a generation; keeps the sampler (its random stream
 * continues; set the sampler again to restart it). */
SLM_API slm_status slm_session_reset(slm_session* s);
/* Tokens in the cache (the next position). -1 for NULL. */
SLM_API int32_t slm_session_position(const slm_session* s);

/* Runs ids at the current position; the logits are then the last one's. On
 * failure (n == 0, id outside the vocab, context overflow) the session is
 * unchanged. Ends a generation in progress. */
SLM_API slm_status slm_session_prefill(slm_session* s, const int32_t* ids, size_t n);
/* Zero-copy view of the [vocab] logits of the last position run, valid until
 * the next call on this session. NULL (and *n = 0) before the first token. */
SLM_API const float* slm_session_logits(const slm_session* s, size_t* n);

/* ---- sampling ---------------------------------------------------------- */

typedef struct slm_sampler_params {
  float temperature; /* 0 = greedy (ties to the lowest id). Default 0. */
  int32_t top_k;     /* 0 = off. Default 0. */
  float top_p;       /* (0, 1]; 1 = off. Default 1. */
  uint32_t reserved; /* must be 0 (padding made explicit) */
  uint64_t seed;     /* PRNG seed. Default 0. */
  /* The rest of the chain (docs/sampling.md); defaults leave it off. */
  float min_p;             /* keep p >= min_p * p_max; 0 = off. Default 0. */
  float repeat_penalty;    /* recent tokens' logits: > 0 divided, else times; 1 = off. */
  float presence_penalty;  /* subtracted once from recent tokens' logits. Default 0. */
  float frequency_penalty; /* subtracted per occurrence in the window. Default 0. */
  int32_t penalty_last_n;  /* window of accepted tokens (prompt + generated). Default 64. */
  uint32_t reserved2;      /* must be 0 */
} slm_sampler_params;      /* 48 bytes */

SLM_API void slm_sampler_params_default(slm_sampler_params* p);
/* Replaces the session's sampler (buffers sized here) and restarts its random
 * stream from seed and its penalty window. slm_generate_begin adds the prompt
 * and slm_generate_next each emitted token to the window (slm_session_sample
 * does not). On failure (bad field, named in the message) the old
 * sampler stays. */
SLM_API slm_status slm_session_set_sampler(slm_session* s, const slm_sampler_params* p);
/* Samples one id from the current logits with the session's sampler (one PRNG
 * draw when temperature > 0). SLM_INVALID_ARGUMENT before the first token. */
SLM_API slm_status slm_session_sample(slm_session* s, int32_t* id);

/* ---- streaming generation ---------------------------------------------- */

/* Same token stream as the C++ Generate() (and `slm generate`), one token per
 * call so a caller (the browser) can stop at any point by not calling again.
 *
 * slm_generate_begin prefills the prompt from the current position and resets
 * the text decoder and the counters. On failure (as slm_session_prefill, or
 * max_new_tokens < 0) no generation is active and the session is unchanged.
 * eos handling: the package's EOS stops generation and is not emitted. */
SLM_API slm_status slm_generate_begin(slm_session* s, const int32_t* prompt, size_t n,
                                      int32_t max_new_tokens);
/* Produces the next token: *id >= 0 is a new token; *id == -1 means the
 * generation has finished (stop_reason in the diagnostics says why) and every
 * later call also returns -1. Each call also updates the text piece below and
 * the diagnostics. Without an active generation: SLM_INVALID_ARGUMENT. A
 * failing decode finishes the generation (stop_reason SLM_STOP_ERROR). */
SLM_API slm_status slm_generate_next(slm_session* s, int32_t* id);
/* The UTF-8 text completed by the last slm_generate_next (may be empty while a
 * multi-byte character is incomplete; on the finishing call, whatever was held
 * back). Zero-copy, valid until the next call on this session. */
SLM_API const char* slm_generate_piece(const slm_session* s, size_t* len);

/* ---- diagnostics ------------------------------------------------------- */

enum {
  SLM_STOP_NONE = -1,        /* generation running (or never started) */
  SLM_STOP_EOS = 0,
  SLM_STOP_MAX_TOKENS = 1,
  SLM_STOP_CONTEXT_FULL = 2,
  SLM_STOP_CALLER = 3,       /* a new prefill/begin/reset ended it */
  SLM_STOP_ERROR = 4
};

/* Fixed layout (offsets are part of the ABI; web/slm.js reads them by name).
 * Rates cover the current/last generation (prefill: prompt tokens / prefill
 * time; decode: decoded tokens / decode time). The kv_* fields are the
 * session's paged KV cache (docs/kv-cache.md, Session::kv_stats()): pages of
 * 16 positions, kv_pages_used + kv_pages_cached + kv_pages_free = all pages;
 * kv_prompt_tokens, kv_reused_tokens and kv_evictions count since the session
 * was created (saturating at INT32_MAX). The prefix hit rate is
 * kv_reused_tokens / kv_prompt_tokens (0 before any prompt). */
typedef struct slm_diagnostics {
  double prefill_tok_s;        /*  0 */
  double decode_tok_s;         /*  8 */
  double prefill_ms;           /* 16 total prefill time */
  double decode_ms;            /* 24 total decode time */
  uint64_t package_bytes;      /* 32 the package buffer / mapping */
  uint64_t session_bytes;      /* 40 KV cache + scratch of this session */
  uint64_t linear_memory_bytes;/* 48 wasm linear memory size (0 natively) */
  int32_t tokens_in_cache;     /* 56 positions held in the KV cache */
  int32_t n_ctx;               /* 60 */
  int32_t prompt_tokens;       /* 64 */
  int32_t generated_tokens;    /* 68 */
  int32_t stop_reason;         /* 72 SLM_STOP_* */
  int32_t adapter_count;       /* 76 applied adapters (0 until adapters land) */
  char kernels[16];            /* 80 NUL-terminated kernel set name */
  char assembly_checksum[72];  /* 96 hex of the assembled weights ("" until adapters land) */
  int32_t kv_pages_used;       /* 168 pages referenced by the session */
  int32_t kv_pages_shared;     /* 172 of those, referenced twice or more */
  int32_t kv_pages_cached;     /* 176 unreferenced pages kept for prefix reuse (evictable) */
  int32_t kv_pages_free;       /* 180 pages never written or released */
  int32_t kv_prompt_tokens;    /* 184 prompt tokens prefilled since creation */
  int32_t kv_reused_tokens;    /* 188 of those, taken from cached pages, not computed */
  int32_t kv_evictions;        /* 192 cached pages recycled for new content */
  float time_to_first_token_ms;/* 196 ms from slm_generate_begin's prefill to the first
                                  sampled token of the current/last generation (prefill +
                                  sampling; 0 until then) */
} slm_diagnostics;             /* 200 bytes */

/* Zero-copy view of the session's diagnostics, updated by every call on the
 * session; valid while the session lives. NULL for NULL. */
SLM_API const slm_diagnostics* slm_session_diagnostics(slm_session* s);

/* ---- adapters (docs/adapters.md) --------------------------------------- */

/* An adapter from a file's bytes (copied; the caller may free them after the
 * call): an adapter package (.slm, kind = adapter) or a llama.cpp LoRA GGUF
 * (general.type = adapter, imported for `base` as `slm adapter` does), then
 * validated against `base`: a wrong base or tokenizer (both digests named), a
 * missing target tensor or a shape mismatch fails here. The handle must not
 * outlive `base`. */
typedef struct slm_adapter slm_adapter;
SLM_API slm_status slm_adapter_open_memory(const slm_package* base, const uint8_t* bytes,
                                           size_t size, const char* name, size_t name_len,
                                           slm_adapter** out);
/* A Hugging Face PEFT LoRA folder from its two files' bytes (adapter_config.json
 * and adapter_model.safetensors; copied), imported for `base` and validated as
 * above. `name` is the folder's name: it is the adapter's name, so it enters the
 * adapter's content digest (the CLI's --adapter DIR names it by DIR's base name). */
SLM_API slm_status slm_adapter_open_peft_memory(const slm_package* base, const uint8_t* config,
                                                size_t config_size, const uint8_t* safetensors,
                                                size_t safetensors_size, const char* name,
                                                size_t name_len, slm_adapter** out);
SLM_API void slm_adapter_destroy(slm_adapter* a); /* NULL is a no-op */
/* JSON as `slm adapter inspect --json` (name, digests, lineage, per-tensor
 * kind, rank or density, bytes). Output rule as above. */
SLM_API slm_status slm_adapter_describe(const slm_adapter* a, char* buf, size_t cap, size_t* len);

/* Makes the session compute with base + the n adapters in order, each times
 * its scale (0 = contributes nothing; the checksum still counts it); n = 0
 * removes every adapter. All or nothing: on failure the session keeps the
 * adapters it had. Resets the session (cached tokens were computed with the
 * previous weights). The adapters may be destroyed afterwards. The assembly
 * checksum in the diagnostics identifies the result. */
SLM_API slm_status slm_session_set_adapters(slm_session* s, const slm_adapter* const* adapters,
                                            const float* scales, size_t n);

/* ---- evaluation and release packets (cold path; docs/eval.md) ---------- */

/* An evaluation of a cases file (JSONL, docs/eval.md) on a session, run one
 * case per slm_eval_step so a caller (the browser worker) can report progress
 * and stop between cases. The evidence is byte-identical (outside its
 * `environment` and `timing` sections) to `slm eval` on the same package,
 * adapters, cases and sampling. */
typedef struct slm_eval slm_eval;

/* Parses and validates the whole cases file (errors name the line and field)
 * and prepares a run with `sampling` (NULL = greedy). The session is borrowed
 * for the run: it must outlive the evaluation, any generation on it ends, and
 * every case resets it. */
SLM_API slm_status slm_eval_begin(slm_session* s, const char* cases, size_t cases_len,
                                  const slm_sampler_params* sampling, slm_eval** out);
SLM_API void slm_eval_destroy(slm_eval* e); /* NULL is a no-op */
/* Runs the next case. *done = cases finished, *total = cases in the file; when
 * *done == *total further calls do nothing. On a failing case the error is
 * returned and the same case runs again on the next call. */
SLM_API slm_status slm_eval_step(slm_eval* e, int32_t* done, int32_t* total);
/* JSON of the last finished case (an element of the evidence's `cases`).
 * Zero-copy, valid until the next call on e. NULL before the first case. */
SLM_API const char* slm_eval_last_case(const slm_eval* e, size_t* len);
/* The evidence document (JSON text) once every case has run: zero-copy, valid
 * until e is destroyed. NULL (and SLM_OUT_OF_RANGE as last error) before. */
SLM_API const char* slm_eval_evidence(slm_eval* e, size_t* len);
/* A release packet of the finished evaluation as one ustar archive (manifest,
 * manifest.sha256, evidence, cases, REPORT.md, and base.slm when include_base).
 * Zero-copy, valid until the next call on e. NULL before the run finished. */
SLM_API const uint8_t* slm_eval_release(slm_eval* e, int32_t include_base, size_t* len);

/* Verifies a release packet archive (as `slm release verify`): every digest,
 * then a replay of every case on `base` (NULL = the base inside the packet),
 * checking outputs, token ids and log-likelihoods bit for bit. SLM_OK means
 * the verification ran; the result and every difference are in the report. */
typedef struct slm_verify slm_verify;
SLM_API slm_status slm_release_verify(const slm_package* base, const uint8_t* archive, size_t len,
                                      slm_verify** out);
SLM_API void slm_verify_destroy(slm_verify* v); /* NULL is a no-op */
/* 1 if every digest matched and the replay was bit-identical, else 0. */
SLM_API int32_t slm_verify_ok(const slm_verify* v);
/* JSON {"ok", "packet_digest", "base_digest", "cases", "problems": [...]},
 * zero-copy, valid while v lives. */
SLM_API const char* slm_verify_report(const slm_verify* v, size_t* len);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* SLM_SLM_H_ */

// slm.js: the JS side of slm.wasm (include/slm/slm.h). One handwritten ES
// module, no dependencies, no emscripten. Works in Node >= 20, browsers and
// Web Workers.
//
//   const slm = await Slm.load({ url: new URL('slm.wasm', import.meta.url) });
//   const pkg = await slm.openPackage(fileOrResponseOrStream, { onProgress });
//   const s = pkg.createSession();
//   for (const { id, text } of s.generate(pkg.tokenize('Once', true), { maxTokens: 50 })) ...
//
// Rules this file keeps (docs/web.md): every typed-array view onto wasm memory
// is re-derived after a call that may grow memory (mem() checks the buffer);
// strings cross the boundary as UTF-8 bytes with byte lengths; the package is
// streamed straight into one wasm buffer, verified while it streams and used
// in place (no JS copy);
// logits and diagnostics are read in place.

export const Status = Object.freeze({
  OK: 0, INVALID_ARGUMENT: 1, NOT_FOUND: 2, IO_ERROR: 3, FORMAT_ERROR: 4, UNSUPPORTED: 5,
  OUT_OF_RANGE: 6, INTEGRITY_ERROR: 7, RESOURCE_EXHAUSTED: 8, INTERNAL: 9,
});
const STATUS_NAMES = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k]));
export const StopReason = Object.freeze({
  [-1]: 'running', 0: 'eos', 1: 'max_tokens', 2: 'context_full', 3: 'caller', 4: 'error',
});

/** A failed slm call: code (Status) and the library's message. */
export class SlmError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'SlmError';
    this.code = code;
    this.codeName = STATUS_NAMES[code] ?? `status ${code}`;
  }
}

/** Thrown if the module calls proc_exit (it never should: errors are values). */
export class WasiExit extends Error {
  constructor(code) { super(`slm.wasm called proc_exit(${code})`); this.exitCode = code; }
}

// Smallest module using a SIMD128 instruction (v128 result, i8x16.splat, i8x16.popcnt).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
export function hasSimd128() { return WebAssembly.validate(SIMD_PROBE); }
// The same shape with i16x8.relaxed_dot_i8x16_i7x16_s (0xfd 0x112), the
// relaxed-SIMD instruction slm-relaxed.wasm's kernels use.
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 15, 1, 13, 0, 65, 0, 253, 15, 65, 0, 253, 15, 253, 146, 2, 11]);
export function hasRelaxedSimd() { return WebAssembly.validate(RELAXED_PROBE); }

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });

// ---- struct layouts (offsets are part of the ABI; see slm.h) ------------
const OPEN_PARAMS = { size: 8, verify_digests: 0, take_ownership: 4 };
const SAMPLER_PARAMS = {
  size: 48, temperature: 0, top_k: 4, top_p: 8, reserved: 12, seed: 16, min_p: 24, repeat_penalty: 28,
  presence_penalty: 32, frequency_penalty: 36, penalty_last_n: 40,
};
const PACKAGE_INFO = {
  size: 48, vocab_size: 0, max_seq_len: 4, dim: 8, n_layers: 12, n_heads: 16, n_kv_heads: 20,
  bos_id: 24, eos_id: 28, file_size: 32, n_tensors: 40,
};
const DIAG = {
  prefill_tok_s: 0, decode_tok_s: 8, prefill_ms: 16, decode_ms: 24, package_bytes: 32,
  session_bytes: 40, linear_memory_bytes: 48, tokens_in_cache: 56, n_ctx: 60, prompt_tokens: 64,
  generated_tokens: 68, stop_reason: 72, adapter_count: 76, kernels: 80, assembly_checksum: 96,
  kv_pages_used: 168, kv_pages_shared: 172, kv_pages_cached: 176, kv_pages_free: 180,
  kv_prompt_tokens: 184, kv_reused_tokens: 188, kv_evictions: 192, time_to_first_token_ms: 196,
};
const SCRATCH_BYTES = 256;  // out-params: handles, lengths, ids, params structs

// ---- the WASI shim: exactly the imports slm.wasm needs ------------------
const ERRNO_SUCCESS = 0, ERRNO_BADF = 8, ERRNO_SPIPE = 70, ERRNO_NOTCAPABLE = 76;

function makeWasi(getMemory, { env = {}, log = (s) => console.error(s) } = {}) {
  const envBytes = Object.entries(env).map(([k, v]) => enc.encode(`${k}=${v}\0`));
  const view = () => new DataView(getMemory().buffer);  // fresh: memory may have grown
  const now = (id) => (id === 0 ? BigInt(Date.now()) * 1000000n
    : BigInt(Math.round(performance.now() * 1e6)));
  const pending = { 1: '', 2: '' };
  return {
    environ_sizes_get(countPtr, sizePtr) {
      const v = view();
      v.setUint32(countPtr, envBytes.length, true);
      v.setUint32(sizePtr, envBytes.reduce((n, b) => n + b.length, 0), true);  // UTF-8 bytes
      return ERRNO_SUCCESS;
    },
    environ_get(ptrsPtr, bufPtr) {
      const v = view();
      const mem = new Uint8Array(getMemory().buffer);
      for (const [i, b] of envBytes.entries()) {
        v.setUint32(ptrsPtr + 4 * i, bufPtr, true);
        mem.set(b, bufPtr);
        bufPtr += b.length;
      }
      return ERRNO_SUCCESS;
    },
    clock_time_get(id, _precision, outPtr) {
      view().setBigUint64(outPtr, now(id), true);
      return ERRNO_SUCCESS;
    },
    fd_write(fd, iovs, iovsLen, nwrittenPtr) {
      if (fd !== 1 && fd !== 2) return ERRNO_BADF;
      const v = view();
      let n = 0, text = '';
      for (let i = 0; i < iovsLen; i++) {
        const p = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
        text += dec.decode(new Uint8Array(v.buffer, p, len), { stream: true });
        n += len;
      }
      const lines = (pending[fd] + text).split('\n');
      pending[fd] = lines.pop();
      for (const line of lines) log(`slm.wasm fd ${fd}: ${line}`);
      v.setUint32(nwrittenPtr, n, true);
      return ERRNO_SUCCESS;
    },
    fd_seek() { return ERRNO_SPIPE; },
    fd_close() { return ERRNO_BADF; },
    // No file system here: packages, cases and packets arrive as bytes. The
    // file-reading code paths linked into the module (CLI-style loaders)
    // get "no preopened directory" / "bad descriptor" and report an error.
    fd_prestat_get() { return ERRNO_BADF; },
    fd_prestat_dir_name() { return ERRNO_BADF; },
    fd_fdstat_get() { return ERRNO_BADF; },
    fd_filestat_get() { return ERRNO_BADF; },
    fd_read() { return ERRNO_BADF; },
    path_open() { return ERRNO_NOTCAPABLE; },
    path_filestat_get() { return ERRNO_NOTCAPABLE; },
    proc_exit(code) { throw new WasiExit(code); },
  };
}

// Instantiates `module` with our imports; names every import we do not provide.
async function instantiate(module, opts) {
  let memory = null;
  const wasi = makeWasi(() => memory, opts);
  const provided = { wasi_snapshot_preview1: wasi };
  const missing = WebAssembly.Module.imports(module)
    .filter((i) => typeof provided[i.module]?.[i.name] !== 'function')
    .map((i) => `${i.module}.${i.name}`);
  if (missing.length) {
    throw new Error(`slm.js: slm.wasm needs imports this shim does not provide: ${missing.join(', ')}`);
  }
  const instance = await WebAssembly.instantiate(module, provided);
  memory = instance.exports.memory;
  instance.exports._initialize();  // WASI reactor: run static constructors once
  return instance;
}

async function fetchBytes(url) {
  if (typeof process !== 'undefined' && process.versions?.node && String(url).startsWith('file:')) {
    const { readFile } = await import('node:fs/promises');
    return readFile(new URL(url));
  }
  const r = await fetch(url);
  if (!r.ok) throw new Error(`slm.js: fetching ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

export class Slm {
  /**
   * Loads slm-relaxed.wasm, slm.wasm (SIMD128) or slm-scalar.wasm. opts:
   * {url} (directory or file of the module; default next to this file),
   * {bytes} (module bytes), {simd: 'auto'|'relaxed'|true|false}, {env}, {log}.
   */
  static async load(opts = {}) {
    // The module: slm-relaxed.wasm if relaxed SIMD validates, else slm.wasm
    // if SIMD128 does, else slm-scalar.wasm ('auto'); simd: 'relaxed' / true /
    // false forces one (true = slm.wasm).
    const auto = opts.simd === undefined || opts.simd === 'auto';
    const relaxed = opts.simd === 'relaxed' || (auto && hasRelaxedSimd());
    const simd = relaxed || (auto ? hasSimd128() : !!opts.simd);
    const file = relaxed ? 'slm-relaxed.wasm' : simd ? 'slm.wasm' : 'slm-scalar.wasm';
    let bytes = opts.bytes;
    if (!bytes) {
      // Relative URLs resolve against this module, like its own imports.
      const href = String(new URL(opts.url ?? './', import.meta.url));
      bytes = await fetchBytes(href.endsWith('.wasm') ? href : new URL(file, href.endsWith('/') ? href : href + '/'));
    }
    const module = await WebAssembly.compile(bytes);
    const slm = new Slm(await instantiate(module, opts), simd);
    slm.module = opts.bytes ? null : file;  // which file was loaded (null: caller's bytes)
    return slm;
  }

  constructor(instance, simd) {
    this.exports = instance.exports;
    this.memory = instance.exports.memory;
    this.simd = simd;
    this._buffer = null;
    this._u8 = null;
    this._dv = null;
    this.scratch = this.exports.slm_alloc(SCRATCH_BYTES);
    if (!this.scratch) throw new SlmError(Status.RESOURCE_EXHAUSTED, 'slm.js: no memory for scratch');
  }

  // Views onto wasm memory, re-derived whenever the buffer changed (growth).
  u8() { this._refresh(); return this._u8; }
  dv() { this._refresh(); return this._dv; }
  _refresh() {
    if (this._buffer !== this.memory.buffer) {
      this._buffer = this.memory.buffer;
      this._u8 = new Uint8Array(this._buffer);
      this._dv = new DataView(this._buffer);
    }
  }

  get version() { return this.cstr(this.exports.slm_version()); }
  get kernels() { return this.cstr(this.exports.slm_kernels_name()); }
  get memoryBytes() { return this.memory.buffer.byteLength; }

  // NUL-terminated string at ptr (static storage in the module).
  cstr(ptr) {
    const u8 = this.u8();
    let end = ptr;
    while (u8[end] !== 0) end++;
    return dec.decode(u8.subarray(ptr, end));
  }
  lastError() {
    const p = this.exports.slm_last_error(), n = this.exports.slm_last_error_length();
    return dec.decode(this.u8().subarray(p, p + n));
  }
  check(code) {
    if (code !== Status.OK) throw new SlmError(code, this.lastError());
  }
  alloc(size) {
    const p = this.exports.slm_alloc(size);
    if (!p) {
      throw new SlmError(Status.RESOURCE_EXHAUSTED,
        `cannot allocate ${size} bytes in wasm memory (now ${this.memoryBytes} bytes; wasm32 limit 4 GiB)`);
    }
    return p;
  }
  free(p) { this.exports.slm_free(p); }

  // Calls fn(ptr, byteLength) with str's UTF-8 bytes in wasm memory.
  withString(str, fn) {
    const bytes = enc.encode(str);
    const p = this.alloc(Math.max(bytes.length, 1));
    try {
      this.u8().set(bytes, p);
      return fn(p, bytes.length);
    } finally { this.free(p); }
  }
  withIds(ids, fn) {
    const n = ids.length;
    const p = this.alloc(Math.max(n * 4, 4));
    try {
      new Int32Array(this.memory.buffer, p, n).set(ids);
      return fn(p, n);
    } finally { this.free(p); }
  }
  // The (buf, cap, *len) rule: ask for the size, then fill. call(buf, cap,
  // lenPtr) counts in elements of elemBytes; returns a copy of the bytes.
  readOut(call, elemBytes = 1) {
    const lenPtr = this.scratch;
    const code = call(0, 0, lenPtr);
    if (code === Status.OK) return new Uint8Array(0);
    if (code !== Status.OUT_OF_RANGE) this.check(code);
    const len = this.dv().getUint32(lenPtr, true);
    const p = this.alloc(Math.max(len * elemBytes, 1));
    try {
      this.check(call(p, len, lenPtr));
      return this.u8().slice(p, p + len * elemBytes);
    } finally { this.free(p); }
  }

  /**
   * Opens a package, streaming its bytes into one buffer in wasm memory.
   * source: File/Blob, Response, URL string/URL (fetched), Uint8Array, or
   * {stream: ReadableStream | async iterable of Uint8Array, size, name}.
   * opts: {name, onProgress(loaded, total), verifyDigests = true}.
   */
  async openPackage(source, opts = {}) {
    const { stream: chunks, size, name } = await resolveSource(source, opts.name);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new SlmError(Status.INVALID_ARGUMENT, `${name}: unknown size (the server sent no Content-Length)`);
    }
    if (size > 0xffffffff - this.memoryBytes) {
      throw new SlmError(Status.RESOURCE_EXHAUSTED,
        `${name}: ${size} bytes do not fit in wasm32 memory (4 GiB, ${this.memoryBytes} in use)`);
    }
    const ptr = this.alloc(Math.max(size, 1));
    const x = this.exports, out = this.scratch + 8;
    let loaded = 0, stream = 0, owned = false;
    try {
      // Verify while streaming (slm_package_stream_*): each chunk's tensor
      // bytes are hashed while the next chunk is on its way, so only the
      // parse is left after the last byte; a bad header stops the read early.
      this.check(this.withString(name, (np, nl) =>
        x.slm_package_stream_begin(ptr, size, np, nl, this._openParams(opts), out)));
      stream = this.dv().getUint32(out, true);
      opts.onProgress?.(0, size);
      for await (const chunk of chunks) {
        const c = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
        if (loaded + c.length > size) {
          throw new SlmError(Status.FORMAT_ERROR, `${name}: more than the ${size} bytes announced`);
        }
        this.u8().set(c, ptr + loaded);
        loaded += c.length;
        this.check(x.slm_package_stream_feed(stream, loaded));
        opts.onProgress?.(loaded, size);
      }
      if (loaded !== size) {
        throw new SlmError(Status.IO_ERROR, `${name}: got ${loaded} of ${size} bytes`);
      }
      this.check(x.slm_package_stream_finish(stream, out));
      owned = true;  // the package owns ptr now (take_ownership)
      return new Package(this, this.dv().getUint32(out, true), name);
    } finally {
      if (stream) x.slm_package_stream_destroy(stream);
      if (!owned) this.free(ptr);
    }
  }

  // slm_open_params in scratch (take_ownership set): its pointer.
  _openParams(opts) {
    const params = this.scratch + 16;
    this.exports.slm_open_params_default(params);
    const dv = this.dv();
    dv.setInt32(params + OPEN_PARAMS.verify_digests, opts.verifyDigests === false ? 0 : 1, true);
    dv.setInt32(params + OPEN_PARAMS.take_ownership, 1, true);
    return params;
  }

  // Opens bytes already at ptr (from alloc); the package takes ownership on success.
  openPackageAt(ptr, size, name, opts = {}) {
    const params = this._openParams(opts), out = this.scratch + 8;
    const code = this.withString(name, (np, nl) =>
      this.exports.slm_package_open_memory(ptr, size, np, nl, params, out));
    this.check(code);
    return new Package(this, this.dv().getUint32(out, true), name);
  }
}

async function resolveSource(source, name) {
  if (typeof source === 'string' || source instanceof URL) {
    const r = await fetch(source);
    if (!r.ok) throw new SlmError(Status.NOT_FOUND, `${source}: HTTP ${r.status} ${r.statusText}`);
    return resolveSource(r, name ?? String(source).split('/').pop());
  }
  if (typeof Response !== 'undefined' && source instanceof Response) {
    const len = source.headers.get('Content-Length');
    return { stream: iterate(source.body), size: len === null ? NaN : Number(len), name: name ?? (source.url || 'package') };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { stream: iterate(source.stream()), size: source.size, name: name ?? source.name ?? 'package' };
  }
  if (source instanceof Uint8Array) {
    return { stream: [source], size: source.length, name: name ?? 'package' };
  }
  if (source && source.stream) {
    const s = source.stream;
    return { stream: s.getReader ? iterate(s) : s, size: source.size, name: name ?? source.name ?? 'package' };
  }
  throw new SlmError(Status.INVALID_ARGUMENT, 'openPackage: expected a File, Response, URL, Uint8Array or {stream, size}');
}

// The chunks of a ReadableStream. A byte stream (a fetch body; Blob.stream()
// in browsers) is read with a BYOB reader into one reused 1 MiB buffer:
// openPackage copies each chunk into wasm memory before the next read, so no
// chunk is left for the GC. With the default reader the dead chunks piled up
// to the whole package size while the worker hashed (bench/web/RESULTS.md).
async function* iterate(readable) {
  let reader, buf = null;
  try {
    reader = readable.getReader({ mode: 'byob' });
    buf = new ArrayBuffer(1 << 20);
  } catch {
    reader = readable.getReader();  // not a byte stream
  }
  let ended = false;
  try {
    for (;;) {
      const { done, value } = buf ? await reader.read(new Uint8Array(buf)) : await reader.read();
      if (done) { ended = true; return; }
      yield value;
      if (buf) buf = value.buffer;  // detached by read(); handed back for the next one
    }
  } finally {
    // Left early (a refused header, an error): stop the download too.
    if (!ended) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

export class Package {
  constructor(slm, handle, name) {
    this.slm = slm;
    this.handle = handle;
    this.name = name;
    const p = slm.scratch + 16, x = slm.exports;
    slm.check(x.slm_package_get_info(handle, p));
    const dv = slm.dv(), I = PACKAGE_INFO, i32 = (o) => dv.getInt32(p + o, true);
    this.info = {
      vocabSize: i32(I.vocab_size), maxSeqLen: i32(I.max_seq_len), dim: i32(I.dim),
      nLayers: i32(I.n_layers), nHeads: i32(I.n_heads), nKvHeads: i32(I.n_kv_heads),
      bosId: i32(I.bos_id), eosId: i32(I.eos_id),
      fileSize: Number(dv.getBigUint64(p + I.file_size, true)),
      nTensors: Number(dv.getBigUint64(p + I.n_tensors, true)),
    };
  }
  _h() {
    if (!this.handle) throw new SlmError(Status.INVALID_ARGUMENT, `${this.name}: package destroyed`);
    return this.handle;
  }
  /** The package description (metadata, digests, tensors) as an object. */
  describe() {
    const h = this._h();
    return JSON.parse(dec.decode(this.slm.readOut((b, c, l) => this.slm.exports.slm_package_describe(h, b, c, l))));
  }
  get digest() {
    const h = this._h();
    return dec.decode(this.slm.readOut((b, c, l) => this.slm.exports.slm_package_digest(h, b, c, l)));
  }
  /** addBos: true, false, or 'default' (as the tokenizer asks). Returns Int32Array (a copy). */
  tokenize(text, addBos = 'default') {
    const h = this._h(), s = this.slm, flag = addBos === 'default' ? -1 : addBos ? 1 : 0;
    return s.withString(text, (tp, tl) => {
      const bytes = s.readOut((b, c, l) => s.exports.slm_tokenize(h, tp, tl, flag, b, c, l), 4);
      return new Int32Array(bytes.buffer, 0, bytes.length >>> 2);
    });
  }
  detokenize(ids) {
    const h = this._h(), s = this.slm;
    return s.withIds(ids, (ip, n) =>
      dec.decode(s.readOut((b, c, l) => s.exports.slm_detokenize(h, ip, n, b, c, l))));
  }
  /**
   * Opens an adapter for this package from a file's bytes (Uint8Array of a
   * .slm with kind = adapter, or a llama.cpp LoRA GGUF): parsed, imported and
   * validated here (a wrong base fails, naming both digests). The bytes are
   * copied; the Adapter must be destroyed before this package.
   */
  openAdapter(bytes, name = 'adapter') {
    const s = this.slm, h = this._h(), p = s.alloc(Math.max(bytes.length, 1));
    try {
      s.u8().set(bytes, p);
      s.check(s.withString(name, (np, nl) => s.exports.slm_adapter_open_memory(h, p, bytes.length, np, nl, s.scratch)));
    } finally { s.free(p); }
    return new Adapter(s, s.dv().getUint32(s.scratch, true), name);
  }
  /**
   * Opens a Hugging Face PEFT LoRA folder from its two files' bytes
   * (adapter_config.json, adapter_model.safetensors), imported for this
   * package. `name` is the folder's name; it is the adapter's name and enters
   * its digest (the CLI names a folder by its base name). Bytes are copied.
   */
  openPeftAdapter(config, safetensors, name = 'peft') {
    const s = this.slm, h = this._h();
    const pc = s.alloc(Math.max(config.length, 1)), pw = s.alloc(Math.max(safetensors.length, 1));
    try {
      s.u8().set(config, pc);
      s.u8().set(safetensors, pw);
      s.check(s.withString(name, (np, nl) => s.exports.slm_adapter_open_peft_memory(
        h, pc, config.length, pw, safetensors.length, np, nl, s.scratch)));
    } finally {
      s.free(pc);
      s.free(pw);
    }
    return new Adapter(s, s.dv().getUint32(s.scratch, true), name);
  }
  createSession({ nCtx = 0 } = {}) {
    const s = this.slm, out = s.scratch + 8, params = s.scratch + 16;
    s.exports.slm_session_params_default(params);
    s.dv().setInt32(params, nCtx, true);
    s.check(s.exports.slm_session_create(this._h(), params, out));
    return new Session(this, s.dv().getUint32(out, true));
  }
  destroy() {
    if (this.handle) this.slm.exports.slm_package_destroy(this.handle);
    this.handle = 0;
  }
}

// Fills the sampler params struct in scratch and returns its pointer:
// {temperature = 0, topK = 0, topP = 1, minP = 0, repeatPenalty = 1,
// presencePenalty = 0, frequencyPenalty = 0, penaltyLastN = 64, seed = 0};
// seed may be a number or BigInt. Fields left out keep the C defaults.
function writeSamplerParams(s, params = {}) {
  const p = s.scratch + 64, S = SAMPLER_PARAMS;
  s.exports.slm_sampler_params_default(p);
  const dv = s.dv();
  const f32 = { temperature: S.temperature, topP: S.top_p, minP: S.min_p, repeatPenalty: S.repeat_penalty,
    presencePenalty: S.presence_penalty, frequencyPenalty: S.frequency_penalty };
  for (const [k, off] of Object.entries(f32)) if (params[k] !== undefined) dv.setFloat32(p + off, params[k], true);
  if (params.topK !== undefined) dv.setInt32(p + S.top_k, params.topK, true);
  if (params.penaltyLastN !== undefined) dv.setInt32(p + S.penalty_last_n, params.penaltyLastN, true);
  dv.setBigUint64(p + S.seed, BigInt.asUintN(64, BigInt(params.seed ?? 0)), true);
  return p;
}

export class Session {
  constructor(pkg, handle) {
    this.pkg = pkg;
    this.slm = pkg.slm;
    this.handle = handle;
    this.diagPtr = this.slm.exports.slm_session_diagnostics(handle);
  }
  _h() {
    if (!this.handle) throw new SlmError(Status.INVALID_ARGUMENT, 'session destroyed');
    return this.handle;
  }
  get position() { return this.slm.exports.slm_session_position(this._h()); }
  reset() { this.slm.check(this.slm.exports.slm_session_reset(this._h())); }
  prefill(ids) {
    const s = this.slm, h = this._h();
    s.check(s.withIds(ids, (p, n) => s.exports.slm_session_prefill(h, p, n)));
  }
  /** Zero-copy Float32Array over the logits in wasm memory; valid until the next call. */
  logits() {
    const s = this.slm, nPtr = s.scratch;
    const p = s.exports.slm_session_logits(this._h(), nPtr);
    if (!p) return new Float32Array(0);
    return new Float32Array(s.memory.buffer, p, s.dv().getUint32(nPtr, true));
  }
  /** {temperature = 0, topK = 0, topP = 1, seed = 0}; seed may be a number or BigInt. */
  setSampler(params = {}) {
    const s = this.slm;
    s.check(s.exports.slm_session_set_sampler(this._h(), writeSamplerParams(s, params)));
  }
  /**
   * Computes with base + these adapters ([{adapter, scale}], in order; [] =
   * base alone). All or nothing; resets the session.
   */
  setAdapters(list) {
    const s = this.slm, h = this._h(), n = list.length;
    const p = s.alloc(Math.max(n * 8, 8));
    try {
      const dv = s.dv();
      list.forEach(({ adapter, scale }, i) => {
        dv.setUint32(p + 4 * i, adapter._h(), true);
        dv.setFloat32(p + 4 * n + 4 * i, scale, true);
      });
      s.check(s.exports.slm_session_set_adapters(h, p, p + 4 * n, n));
    } finally { s.free(p); }
  }
  /**
   * Starts an evaluation of a cases file (JSONL text) on this session with
   * sampler params (default greedy); run it with evaluation.step().
   */
  evaluate(casesText, sampler = {}) {
    const s = this.slm, h = this._h();
    const params = writeSamplerParams(s, sampler);
    s.check(s.withString(casesText, (p, n) => s.exports.slm_eval_begin(h, p, n, params, s.scratch)));
    return new Evaluation(s, s.dv().getUint32(s.scratch, true));
  }
  sample() {
    const s = this.slm;
    s.check(s.exports.slm_session_sample(this._h(), s.scratch));
    return s.dv().getInt32(s.scratch, true);
  }
  begin(promptIds, maxTokens) {
    const s = this.slm, h = this._h();
    s.check(s.withIds(promptIds, (p, n) => s.exports.slm_generate_begin(h, p, n, maxTokens)));
  }
  /** One step: {id, text}; id -1 (with the last held-back text) when finished. */
  next() {
    const s = this.slm, h = this._h();
    s.check(s.exports.slm_generate_next(h, s.scratch));
    const id = s.dv().getInt32(s.scratch, true);
    const p = s.exports.slm_generate_piece(h, s.scratch + 4);
    const len = s.dv().getUint32(s.scratch + 4, true);
    return { id, text: dec.decode(s.u8().subarray(p, p + len)) };
  }
  /** Generator over tokens; stop early by leaving the loop. */
  *generate(promptIds, { maxTokens = 256 } = {}) {
    this.begin(promptIds, maxTokens);
    for (;;) {
      const step = this.next();
      if (step.id < 0) {
        if (step.text) yield step;
        return;
      }
      yield step;
    }
  }
  /** A plain object read in place from the session's diagnostics struct. */
  diagnostics() {
    const s = this.slm, x = s.exports.slm_session_diagnostics(this._h());
    const dv = s.dv(), u8 = s.u8(), D = DIAG;
    const f64 = (o) => dv.getFloat64(x + o, true), u64 = (o) => Number(dv.getBigUint64(x + o, true));
    const i32 = (o) => dv.getInt32(x + o, true);
    const str = (o, n) => { const b = u8.subarray(x + o, x + o + n); const z = b.indexOf(0); return dec.decode(z < 0 ? b : b.subarray(0, z)); };
    const kvPrompt = i32(D.kv_prompt_tokens);
    return {
      prefillTokS: f64(D.prefill_tok_s), decodeTokS: f64(D.decode_tok_s),
      prefillMs: f64(D.prefill_ms), decodeMs: f64(D.decode_ms),
      packageBytes: u64(D.package_bytes), sessionBytes: u64(D.session_bytes),
      linearMemoryBytes: u64(D.linear_memory_bytes), tokensInCache: i32(D.tokens_in_cache),
      nCtx: i32(D.n_ctx), promptTokens: i32(D.prompt_tokens), generatedTokens: i32(D.generated_tokens),
      stopReason: StopReason[i32(D.stop_reason)] ?? String(i32(D.stop_reason)),
      adapterCount: i32(D.adapter_count), kernels: str(D.kernels, 16),
      assemblyChecksum: str(D.assembly_checksum, 72),
      // The paged KV cache (docs/kv-cache.md); kv* counts since the session was created.
      kvPagesUsed: i32(D.kv_pages_used), kvPagesShared: i32(D.kv_pages_shared),
      kvPagesCached: i32(D.kv_pages_cached), kvPagesFree: i32(D.kv_pages_free),
      kvPromptTokens: i32(D.kv_prompt_tokens), kvReusedTokens: i32(D.kv_reused_tokens),
      prefixHitRate: kvPrompt > 0 ? i32(D.kv_reused_tokens) / kvPrompt : 0,
      kvEvictions: i32(D.kv_evictions), timeToFirstTokenMs: dv.getFloat32(x + D.time_to_first_token_ms, true),
    };
  }
  destroy() {
    if (this.handle) this.slm.exports.slm_session_destroy(this.handle);
    this.handle = 0;
  }
}

/** An adapter opened for a package (slm_adapter_*). */
export class Adapter {
  constructor(slm, handle, name) {
    this.slm = slm;
    this.handle = handle;
    this.name = name;
  }
  _h() {
    if (!this.handle) throw new SlmError(Status.INVALID_ARGUMENT, `${this.name}: adapter destroyed`);
    return this.handle;
  }
  /** As `slm adapter inspect --json`. */
  describe() {
    const s = this.slm, h = this._h();
    return JSON.parse(dec.decode(s.readOut((buf, cap, len) => s.exports.slm_adapter_describe(h, buf, cap, len))));
  }
  destroy() {
    if (this.handle) this.slm.exports.slm_adapter_destroy(this.handle);
    this.handle = 0;
  }
}

/** A running evaluation (slm_eval_*): one case per step(). */
export class Evaluation {
  constructor(slm, handle) {
    this.slm = slm;
    this.handle = handle;
  }
  _h() {
    if (!this.handle) throw new SlmError(Status.INVALID_ARGUMENT, 'evaluation destroyed');
    return this.handle;
  }
  /** Runs the next case: {done, total, lastCase} (lastCase: the case's evidence record). */
  step() {
    const s = this.slm, h = this._h();
    s.check(s.exports.slm_eval_step(h, s.scratch, s.scratch + 4));
    const done = s.dv().getInt32(s.scratch, true), total = s.dv().getInt32(s.scratch + 4, true);
    const p = s.exports.slm_eval_last_case(h, s.scratch + 8);
    const len = s.dv().getUint32(s.scratch + 8, true);
    return { done, total, lastCase: p ? JSON.parse(dec.decode(s.u8().subarray(p, p + len))) : null };
  }
  /** The evidence document as text (after the last step). */
  evidence() {
    const s = this.slm;
    const p = s.exports.slm_eval_evidence(this._h(), s.scratch);
    if (!p) throw new SlmError(Status.OUT_OF_RANGE, s.lastError());
    return dec.decode(s.u8().subarray(p, p + s.dv().getUint32(s.scratch, true)));
  }
  /** The release packet as one ustar archive (a copy, e.g. for a download). */
  release({ includeBase = false } = {}) {
    const s = this.slm;
    const p = s.exports.slm_eval_release(this._h(), includeBase ? 1 : 0, s.scratch);
    if (!p) throw new SlmError(Status.OUT_OF_RANGE, s.lastError());
    return s.u8().slice(p, p + s.dv().getUint32(s.scratch, true));
  }
  destroy() {
    if (this.handle) this.slm.exports.slm_eval_destroy(this.handle);
    this.handle = 0;
  }
}

/**
 * Verifies a release packet archive (Uint8Array) like `slm release verify`:
 * digests, then a bit-exact replay on `pkg` (a Package, or null to use the
 * base inside the packet). Returns {ok, packet_digest, base_digest, cases, problems}.
 */
export function verifyRelease(slm, archive, pkg = null) {
  const s = slm, p = s.alloc(Math.max(archive.length, 1));
  try {
    s.u8().set(archive, p);
    s.check(s.exports.slm_release_verify(pkg ? pkg._h() : 0, p, archive.length, s.scratch));
  } finally { s.free(p); }
  const v = s.dv().getUint32(s.scratch, true);
  try {
    const r = s.exports.slm_verify_report(v, s.scratch);
    return JSON.parse(dec.decode(s.u8().subarray(r, r + s.dv().getUint32(s.scratch, true))));
  } finally { s.exports.slm_verify_destroy(v); }
}

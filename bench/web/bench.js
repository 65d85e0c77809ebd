// One benchmark run in the page, chosen by the query string:
//   bench.html?engine=slm|wllama&model=URL&prompt=N&decode=M[&wasm=auto|relaxed|simd|scalar]
//     prefill N prompt tokens, then decode M tokens greedily, single-thread;
//     wasm= picks slm's module (default: what Slm.load picks, i.e. slm-relaxed.wasm
//     where relaxed SIMD validates);
//   bench.html?mode=ttft&model=URL[&verify=0|1][&copy=1 | &byob=1]
//     time from "open" to the first token (slm only), split into reading the
//     bytes and the rest. copy=1 is the control: it first reads the whole body
//     into a JS ArrayBuffer (the second copy slm.js avoids), to show what that
//     looks like in the memory figures; byob=1 streams with a BYOB reader into
//     one reused buffer (see byobChunks);
//   bench.html?mode=drain&model=URL: fetch the package and drop it (transport time).
// The result is put on window.benchResult (read by bench/web/run.mjs). In ttft
// mode the page calls window.benchProbe(label) (exposed by run.mjs, which
// answers with CDP's heap figures) at each phase boundary.
const q = new URLSearchParams(location.search);
const engine = q.get('engine'), model = q.get('model'), mode = q.get('mode') ?? 'speed';
const nPrompt = Number(q.get('prompt') ?? 128), nDecode = Number(q.get('decode') ?? 64);
// The same text for both engines; its token count is whatever the tokenizer makes of it.
const PROMPT = Array.from({ length: Math.round(nPrompt / 6) }, () => 'hello world').join(' ');  // ~6 tokens each (synth vocab)

const WASM = { auto: 'auto', relaxed: 'relaxed', simd: true, scalar: false }[q.get('wasm') ?? 'auto'];
const moduleName = (slm) => slm.module ?? (slm.simd ? 'slm.wasm' : 'slm-scalar.wasm');

async function runSlm() {
  const { Slm } = await import('/slm/slm.js');
  const slm = await Slm.load({ url: '/slm/', simd: WASM });
  const t0 = performance.now();
  const pkg = await slm.openPackage(model, { verifyDigests: false });
  const openMs = performance.now() - t0;
  const s = pkg.createSession({ nCtx: 256 });
  const ids = Array.from(pkg.tokenize(PROMPT, true));
  const t1 = performance.now();
  s.prefill(ids);
  const prefillMs = performance.now() - t1;
  const t2 = performance.now();
  for (let i = 0; i < nDecode; i++) s.prefill([s.sample()]);  // one token per call, EOS ignored
  const decodeMs = performance.now() - t2;
  return { engine: 'slm', kernels: slm.kernels, simd: slm.simd, module: moduleName(slm), openMs, promptTokens: ids.length,
    prefillTokS: ids.length / (prefillMs / 1000), decodeTokS: nDecode / (decodeMs / 1000),
    memoryBytes: slm.memoryBytes };
}

// Time to first token, the way the workbench does it: stream the package into
// wasm memory (slm.openPackage on a URL), open it (verifying digests unless
// verify=0), create a session, prefill a short prompt, sample one token.
async function runTtft() {
  const probe = (label) => (window.benchProbe ? window.benchProbe(label) : null);
  const verify = q.get('verify') !== '0', copy = q.get('copy') === '1', byob = q.get('byob') === '1';
  const r = { engine: 'slm', mode: 'ttft', verify, copy, byob };
  const t = performance.now();
  const { Slm } = await import('/slm/slm.js');
  const slm = await Slm.load({ url: '/slm/' });
  r.moduleMs = performance.now() - t;
  r.kernels = slm.kernels;
  r.simd = slm.simd;
  r.module = moduleName(slm);
  r.wasmBytesBefore = slm.memoryBytes;
  r.probeBefore = await probe('before');

  // "open" starts here.
  const t0 = performance.now();
  let tRead = NaN;
  let source = model;
  if (copy) source = new Uint8Array(await (await fetch(model)).arrayBuffer());
  if (byob) {
    const resp = await fetch(model);
    source = { stream: byobChunks(resp.body), size: Number(resp.headers.get('Content-Length')), name: 'bench.slm' };
  }
  const onProgress = (loaded, total) => { if (loaded === total) tRead = performance.now(); };
  const pkg = await slm.openPackage(source, { verifyDigests: verify, onProgress, name: 'bench.slm' });
  const tOpen = performance.now();
  r.probeOpen = await probe('opened');
  const tResume = performance.now();  // the probe's own time is not counted
  const s = pkg.createSession({ nCtx: 256 });
  const ids = Array.from(pkg.tokenize('hello world', true));
  s.prefill(ids);
  const first = s.sample();
  const tFirst = performance.now();
  r.probeFirst = await probe('first-token');

  r.promptTokens = ids.length;
  r.firstToken = first;
  r.readMs = tRead - t0;                      // bytes into wasm memory (incl. memory growth)
  r.parseMs = tOpen - tRead;                  // slm_package_open_memory (+ digests if verify)
  r.firstTokenMs = tFirst - tResume;          // session + tokenize + prefill + sample
  r.ttftMs = r.readMs + r.parseMs + r.firstTokenMs;
  r.wasmBytes = slm.memoryBytes;
  r.perfMemory = performance.memory ? { used: performance.memory.usedJSHeapSize, total: performance.memory.totalJSHeapSize } : null;
  return r;
}

// The body read with a BYOB reader into one reused 1 MiB buffer: no chunk
// garbage for the GC to find later (slm.js copies each chunk into wasm memory
// before asking for the next, so the buffer can be handed back at once).
async function* byobChunks(body) {
  const reader = body.getReader({ mode: 'byob' });
  let buf = new ArrayBuffer(1 << 20);
  try {
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(buf));
      if (done) return;
      yield value;
      buf = value.buffer;
    }
  } finally { reader.releaseLock(); }
}

// Transport alone (run in its own browser, before the ttft runs): fetch the
// package and drop each chunk. Also warms the OS page cache for the server.
async function runDrain() {
  const t = performance.now();
  const reader = (await fetch(model)).body.getReader();
  let bytes = 0;
  for (;;) { const { done, value } = await reader.read(); if (done) break; bytes += value.length; }
  return { mode: 'drain', drainMs: performance.now() - t, packageBytes: bytes };
}

async function runWllama() {
  const { Wllama } = await import('/wllama/index.js');
  const w = new Wllama({ default: '/wllama/wasm/wllama.wasm' }, { suppressNativeLog: true });
  const t0 = performance.now();
  await w.loadModelFromUrl(model, { n_threads: 1, n_ctx: 256, n_batch: 256, n_gpu_layers: 0 });
  const openMs = performance.now() - t0;
  // Random weights: ban the byte tokens 3..258 (lone bytes break wllama's JSON path).
  const logit_bias = {};
  for (let id = 3; id <= 258; id++) logit_bias[id] = -100;
  const r = await w.createCompletion({ prompt: PROMPT, max_tokens: nDecode, temperature: 0, logit_bias, ignore_eos: true });
  const t = r.timings;
  return { engine: 'wllama', openMs, promptTokens: t.prompt_n, prefillTokS: t.prompt_per_second,
    decodeTokS: t.predicted_per_second, decoded: t.predicted_n };
}

(mode === 'ttft' ? runTtft() : mode === 'drain' ? runDrain() : engine === 'wllama' ? runWllama() : runSlm()).then((r) => {
  window.benchResult = r;
  document.getElementById('out').textContent = JSON.stringify(r, null, 2);
}, (e) => {
  window.benchResult = { error: String(e?.stack ?? e) };
  document.getElementById('out').textContent = String(e?.stack ?? e);
});

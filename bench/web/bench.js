// One benchmark run in the page, chosen by the query string:
//   bench.html?engine=slm|wllama&model=URL&prompt=N&decode=M
// Prefill N prompt tokens, then decode M tokens greedily, single-thread.
// The result is put on window.benchResult (read by bench/web/run.mjs).
const q = new URLSearchParams(location.search);
const engine = q.get('engine'), model = q.get('model');
const nPrompt = Number(q.get('prompt') ?? 128), nDecode = Number(q.get('decode') ?? 64);
// The same text for both engines; its token count is whatever the tokenizer makes of it.
const PROMPT = Array.from({ length: Math.round(nPrompt / 6) }, () => 'hello world').join(' ');  // ~6 tokens each (synth vocab)

async function runSlm() {
  const { Slm } = await import('/slm/slm.js');
  const slm = await Slm.load({ url: '/slm/' });
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
  return { engine: 'slm', kernels: slm.kernels, simd: slm.simd, openMs, promptTokens: ids.length,
    prefillTokS: ids.length / (prefillMs / 1000), decodeTokS: nDecode / (decodeMs / 1000),
    memoryBytes: slm.memoryBytes };
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

(engine === 'wllama' ? runWllama() : runSlm()).then((r) => {
  window.benchResult = r;
  document.getElementById('out').textContent = JSON.stringify(r, null, 2);
}, (e) => {
  window.benchResult = { error: String(e?.stack ?? e) };
  document.getElementById('out').textContent = String(e?.stack ?? e);
});

// The workbench's Web Worker: owns slm.wasm, the package and the session, so
// the page never blocks. Messages in: open {file | url}, generate {...}, stop,
// evaluate {cases, sampler}, release {includeBase}, verify {file},
// add-adapter {file} | {config, weights, name}, set-adapters {list: [{id, on, scale}]}, remove-adapter {id}.
// Messages out: ready, progress, opened, token, done, eval-progress,
// eval-done, release, verified, adapter, adapters-set, error (plain objects).
import { Slm, verifyRelease } from './slm.js';

let slm = null, pkg = null, session = null, evaluation = null;
const adapters = new Map();  // id -> Adapter (opened for pkg)
let nextAdapterId = 1;
let stopRequested = false, busy = false;

const post = (m) => self.postMessage(m);
const fail = (e, during) => post({ type: 'error', during, message: e?.message ?? String(e), code: e?.codeName ?? null });

const ready = Slm.load({ log: (line) => post({ type: 'log', line }) }).then((s) => {
  slm = s;
  post({ type: 'ready', kernels: s.kernels, simd: s.simd, version: s.version, memoryBytes: s.memoryBytes });
}, (e) => fail(e, 'loading slm.wasm'));

function closePackage() {
  for (const a of adapters.values()) a.destroy();
  adapters.clear();
  evaluation?.destroy();
  evaluation = null;
  session?.destroy();
  pkg?.destroy();
  session = null;
  pkg = null;
}

async function open(msg) {
  await ready;
  if (!slm) return;
  closePackage();
  let last = 0;
  const onProgress = (loaded, total) => {
    const now = performance.now();
    if (loaded === total || now - last > 50) {
      last = now;
      post({ type: 'progress', loaded, total });
    }
  };
  const t0 = performance.now();
  try {
    pkg = await slm.openPackage(msg.file ?? msg.url, { onProgress, name: msg.name });
    session = pkg.createSession();
  } catch (e) {
    closePackage();
    fail(e, 'opening the package');
    return;
  }
  post({
    type: 'opened', name: pkg.name, info: pkg.info, description: pkg.describe(),
    openMs: performance.now() - t0, diag: session.diagnostics(),
  });
}

const yieldToEvents = () => new Promise((r) => setTimeout(r, 0));

async function generate(msg) {
  if (!session) return fail(new Error('open a package first'), 'generating');
  if (busy) return;
  busy = true;
  stopRequested = false;
  const ids = [];
  let text = '';
  try {
    session.reset();
    session.setSampler({
      temperature: msg.temperature, topK: msg.topK, topP: msg.topP, minP: msg.minP, repeatPenalty: msg.repeatPenalty,
      presencePenalty: msg.presencePenalty, frequencyPenalty: msg.frequencyPenalty, seed: BigInt(msg.seed),
    });
    let prompt;
    if (msg.promptIds) prompt = Int32Array.from(msg.promptIds);
    else if (msg.prompt) prompt = pkg.tokenize(msg.prompt, 'default');
    else prompt = Int32Array.of(pkg.info.bosId);
    session.begin(prompt, msg.maxTokens);
    post({ type: 'started', promptIds: Array.from(prompt), diag: session.diagnostics() });
    let lastYield = performance.now(), batch = '', batchIds = [];
    for (;;) {
      const step = session.next();
      if (step.id >= 0) { ids.push(step.id); batchIds.push(step.id); }
      text += step.text;
      batch += step.text;
      const now = performance.now();
      if (step.id < 0 || now - lastYield > 30) {
        post({ type: 'token', ids: batchIds, text: batch, diag: session.diagnostics() });
        batch = '';
        batchIds = [];
        if (step.id < 0) break;
        await yieldToEvents();  // lets a 'stop' message in
        lastYield = performance.now();
        if (stopRequested) break;
      }
    }
    post({ type: 'done', ids, text, stopped: stopRequested, diag: session.diagnostics() });
  } catch (e) {
    fail(e, 'generating');
  } finally {
    busy = false;
  }
}

// Runs the cases one per step, yielding between steps so 'stop' gets in.
async function evaluate(msg) {
  if (!session) return fail(new Error('open a package first'), 'evaluating');
  if (busy) return;
  busy = true;
  stopRequested = false;
  evaluation?.destroy();
  evaluation = null;
  try {
    evaluation = session.evaluate(msg.cases, { ...msg.sampler, seed: BigInt(msg.sampler.seed) });
    const t0 = performance.now();
    let done = 0, total = 1, tokens = 0;
    while (done < total && !stopRequested) {
      const step = evaluation.step();
      ({ done, total } = step);
      const c = step.lastCase;
      tokens += c.prompt_ids.length + c.output_ids.length + (c.loglik?.target_ids?.length ?? 0);
      post({ type: 'eval-progress', done, total, lastCase: c, tokens, ms: performance.now() - t0, diag: session.diagnostics() });
      await yieldToEvents();
    }
    if (done < total) {
      post({ type: 'eval-done', stopped: true, done, total });
    } else {
      post({ type: 'eval-done', stopped: false, done, total, evidence: evaluation.evidence() });
    }
  } catch (e) {
    fail(e, 'evaluating');
  } finally {
    busy = false;
  }
}

function release(msg) {
  try {
    if (!evaluation) throw new Error('run an evaluation first');
    const bytes = evaluation.release({ includeBase: msg.includeBase });
    self.postMessage({ type: 'release', bytes }, [bytes.buffer]);
  } catch (e) {
    fail(e, 'building the release packet');
  }
}

async function verify(msg) {
  await ready;
  if (busy) return;
  busy = true;
  try {
    const bytes = new Uint8Array(await msg.file.arrayBuffer());  // a packet is small without its base
    const t0 = performance.now();
    const report = verifyRelease(slm, bytes, pkg);
    post({ type: 'verified', name: msg.file.name, report, ms: performance.now() - t0 });
  } catch (e) {
    fail(e, 'verifying the release packet');
  } finally {
    busy = false;
  }
}

// Opens an adapter file for the open package; its validation result (or the
// refusal, e.g. a wrong base) goes back to the page either way.
// {file}: an .slm adapter or a LoRA GGUF; {config, weights, name}: a PEFT folder's two files.
async function addAdapter(msg) {
  const id = nextAdapterId++;
  const name = msg.file ? msg.file.name : msg.name;
  try {
    if (!pkg) throw new Error('open a package first');
    const bytes = async (f) => new Uint8Array(await f.arrayBuffer());  // adapters are small
    const a = msg.file ? pkg.openAdapter(await bytes(msg.file), name)
      : pkg.openPeftAdapter(await bytes(msg.config), await bytes(msg.weights), name);
    adapters.set(id, a);
    post({ type: 'adapter', id, name, ok: true, description: a.describe() });
  } catch (e) {
    post({ type: 'adapter', id, name, ok: false, message: e?.message ?? String(e) });
  }
}

function setAdapters(msg) {
  if (!session || busy) return;
  try {
    const list = msg.list.filter((x) => x.on && adapters.has(x.id)).map((x) => ({ adapter: adapters.get(x.id), scale: x.scale }));
    session.setAdapters(list);
    post({ type: 'adapters-set', diag: session.diagnostics() });
  } catch (e) {
    fail(e, 'applying the adapters');
  }
}

function removeAdapter(msg) {
  const a = adapters.get(msg.id);
  if (!a) return;
  adapters.delete(msg.id);
  setAdapters({ list: msg.remaining });  // the session stops using it first
  a.destroy();
}

self.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === 'open') open(msg);
  else if (msg.type === 'generate') generate(msg);
  else if (msg.type === 'evaluate') evaluate(msg);
  else if (msg.type === 'release') release(msg);
  else if (msg.type === 'verify') verify(msg);
  else if (msg.type === 'add-adapter') addAdapter(msg);
  else if (msg.type === 'set-adapters') setAdapters(msg);
  else if (msg.type === 'remove-adapter') removeAdapter(msg);
  else if (msg.type === 'stop') stopRequested = true;
};

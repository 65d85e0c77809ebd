// slm vs wllama in the same Chromium, single thread, on random-weight models
// in real shapes (slm synth; the same weights as GGUF for wllama and as .slm
// for slm), plus slm's time from "open" to the first token on a ~100 MB
// package with the JS heap and wasm memory. Prints markdown tables; --write
// appends them to bench/web/RESULTS.md.
//   node bench/web/run.mjs [--presets s15m,s110m] [--types f32,q8_0,q4_0]
//        [--ttft s110m-q8_0 | --no-ttft] [--no-speed] [--llama-bench PATH | --no-llama]
//        [--also-simd128] [--write]
// slm runs the module Slm.load picks (slm-relaxed.wasm where relaxed SIMD
// validates, as in Chromium); --also-simd128 adds slm.wasm (simd128 table) in
// the same browser for an A/B column.
// Where things are (environment): SLM_CLI (native slm, for `slm synth`),
// SLM_WASM_DIR (the built site: slm.wasm, slm.js), SLM_BENCH_MODELS (model
// cache dir), SLM_CHROMIUM. --llama-bench (default: the one bench/native.mjs
// builds, if present) adds native llama.cpp's 1-thread decode of s110m q8_0
// in the same run, for the "browser ≥ 50% of native" target.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';

import { CLI, ROOT, SITE, requireFile } from '../../tests/web/fixtures.mjs';
import { serve } from '../../tests/web/serve.mjs';

const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const flag = (name) => process.argv.includes(name);
const presets = arg('--presets', 's15m,s110m').split(',');
const types = arg('--types', 'f32,q8_0,q4_0').split(',');
const ttftModel = flag('--no-ttft') ? null : arg('--ttft', 's110m-q8_0');
const CHROMIUM = process.env.SLM_CHROMIUM ?? '/usr/bin/chromium';
const WLLAMA = path.join(ROOT, 'node_modules/@wllama/wllama/esm');
const MODELS = process.env.SLM_BENCH_MODELS ?? path.join(ROOT, 'build/bench-web-models');
const LLAMA_BENCH = flag('--no-llama') ? null : arg('--llama-bench', path.join(ROOT, 'build/peers/llama.cpp/build/bin/llama-bench'));

requireFile(CLI, 'build the native CLI (cmake --build --preset release) or set SLM_CLI');
requireFile(path.join(SITE, 'slm.wasm'), 'build the wasm preset or set SLM_WASM_DIR');
requireFile(path.join(WLLAMA, 'wasm/wllama.wasm'), 'npm ci (installs @wllama/wllama)');
mkdirSync(MODELS, { recursive: true });
function synth(name, fmt) {
  const f = path.join(MODELS, `${name}.${fmt}`);
  const [p, t] = name.split('-');
  if (!existsSync(f)) execFileSync(CLI, ['synth', '--preset', p, '--type', t, '--format', fmt, '--seed', '1', '-o', f], { stdio: 'inherit' });
  return f;
}
if (!flag('--no-speed')) for (const p of presets) for (const t of types) for (const fmt of ['gguf', 'slm']) synth(`${p}-${t}`, fmt);
if (ttftModel) synth(ttftModel, 'slm');

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const env = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  chromium: (execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).match(/\d+\.\d+\.\d+\.\d+/) ?? ['?'])[0],
  cpu: `${cpus()[0]?.model ?? '?'} × ${cpus().length}`,
  wllama: JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@wllama/wllama/package.json'), 'utf8')).version,
  loadStart: load(),
};
console.error(`${env.date} Chromium ${env.chromium}, ${env.cpu}, load average ${env.loadStart}`);

const { chromium } = await import('playwright-core');
const { server, url } = await serve([['/', path.join(ROOT, 'bench/web')], ['/slm', SITE], ['/wllama', WLLAMA], ['/models', MODELS]]);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'];
async function withBrowser(fn) {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'slm-bench-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
  try { return await fn(ctx); } finally {
    await ctx.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

// Resident memory now and at peak (VmRSS, VmHWM; bytes, the largest over the
// renderer processes this script started: descendants with --type=renderer).
// reset: afterwards, start the peak again from now (clear_refs 5).
function rendererRss(reset = false) {
  const parent = new Map(), cmd = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      parent.set(+d, +readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      cmd.set(+d, readFileSync(`/proc/${d}/cmdline`, 'utf8'));
    } catch { /* gone */ }
  }
  const mine = (pid) => { for (let p = pid; p > 1; p = parent.get(p) ?? 0) if (p === process.pid) return true; return false; };
  const out = { rss: 0, hwm: 0 };
  for (const [pid, c] of cmd) {
    if (!c.includes('--type=renderer') || !mine(pid)) continue;
    try {
      const st = readFileSync(`/proc/${pid}/status`, 'utf8');
      out.rss = Math.max(out.rss, 1024 * Number(st.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0));
      out.hwm = Math.max(out.hwm, 1024 * Number(st.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0));
      if (reset) writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch { /* gone */ }
  }
  return out;
}

// One ttft run in a fresh browser: the page calls benchProbe(label) at each
// phase; we also poll CDP every 25 ms for the peak of the JS heap and of the
// JS ArrayBuffer backing stores (V8 does not count wasm memory there).
async function ttft(query) {
  return withBrowser(async (ctx) => {
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Runtime.enable');
    const heap = async (gc) => {
      if (gc) await cdp.send('HeapProfiler.collectGarbage');
      return cdp.send('Runtime.getHeapUsage');
    };
    // At 'before' the peak RSS restarts (the module's load does not count).
    let recording = false;  // the peaks start at 'before' too
    await page.exposeFunction('benchProbe', async (label) => {
      const h = { ...(await heap(true)), rendererRss: rendererRss(label === 'before').rss };
      if (label === 'before') recording = true;
      return h;
    });
    const peak = { usedSize: 0, backingStorageSize: 0 };
    let polling = true;
    const poll = (async () => {
      while (polling) {
        try {
          const h = await heap(false);
          if (recording) {
            peak.usedSize = Math.max(peak.usedSize, h.usedSize);
            peak.backingStorageSize = Math.max(peak.backingStorageSize, h.backingStorageSize ?? 0);
          }
        } catch { /* page navigating */ }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await page.goto(`${url}/bench.html?mode=ttft&model=/models/${ttftModel}.slm&${query}`);
    await page.waitForFunction(() => window.benchResult, null, { timeout: 600000 });
    polling = false;
    await poll;
    const r = await page.evaluate(() => window.benchResult);
    r.peak = peak;
    r.rendererPeakRss = rendererRss().hwm;
    console.error('ttft', query, JSON.stringify(r));
    return r;
  });
}

const rows = [];
const ttftRows = [];
let drain = null;
try {
  if (!flag('--no-speed')) {
    await withBrowser(async (ctx) => {
      for (const p of presets) for (const t of types) {
        const r = {};
        for (const engine of ['slm', 'wllama', ...(flag('--also-simd128') ? ['slm128'] : [])]) {
          const page = await ctx.newPage();
          const model = `/models/${p}-${t}.${engine === 'wllama' ? 'gguf' : 'slm'}`;
          const which = engine === 'slm128' ? 'slm&wasm=simd' : engine;
          await page.goto(`${url}/bench.html?engine=${which}&model=${model}&prompt=128&decode=64`);
          await page.waitForFunction(() => window.benchResult, null, { timeout: 600000 });
          r[engine] = await page.evaluate(() => window.benchResult);
          await page.close();
          console.error(p, t, engine, JSON.stringify(r[engine]), 'load', load());
        }
        rows.push({ p, t, ...r });
      }
    });
  }
  if (ttftModel) {
    drain = await withBrowser(async (ctx) => {
      const page = await ctx.newPage();
      await page.goto(`${url}/bench.html?mode=drain&model=/models/${ttftModel}.slm`);
      await page.waitForFunction(() => window.benchResult, null, { timeout: 600000 });
      return page.evaluate(() => window.benchResult);
    });
    for (const [label, query] of [['slm.js (workbench: digests verified)', 'verify=1'],
      ['slm.js, digests not verified', 'verify=0'],
      ['same, body read with a BYOB reader into one reused 1 MiB buffer', 'verify=1&byob=1'],
      ['control: whole body in a JS ArrayBuffer first, then copied in', 'verify=1&copy=1']]) {
      ttftRows.push({ label, ...(await ttft(query)) });
    }
  }
} finally {
  server.close();
}

let native = null;
if (LLAMA_BENCH && existsSync(LLAMA_BENCH) && !flag('--no-speed') && presets.includes('s110m') && types.includes('q8_0')) {
  const out = execFileSync(LLAMA_BENCH, ['-m', path.join(MODELS, 's110m-q8_0.gguf'), '-p', '0', '-n', '64', '-t', '1', '-r', '2', '-o', 'json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  native = JSON.parse(out).find((x) => x.n_gen > 0)?.avg_ts ?? null;
  console.error('llama-bench s110m q8_0 t1 decode', native);
}
env.loadEnd = load();

// The issue's targets: decode ≥5× (q8_0, q4_0) / ≥1.2× (f32); prefill ≥3× / ≥1.0×.
const TARGET = { f32: { prefill: 1.0, decode: 1.2 }, q8_0: { prefill: 3, decode: 5 }, q4_0: { prefill: 3, decode: 5 } };
const f = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(1) : '–');
const mb = (x) => (typeof x === 'number' ? (x / 1e6).toFixed(1) : '–');
const ratio = (a, b, target) => {
  if (!a || !b) return '–';
  const x = a / b;
  return `${x.toFixed(2)}×${target ? ` (${x >= target ? 'met' : 'not met'}, ≥${target}×)` : ''}`;
};
let md = `\n## Browser run ${env.date}\n\nChromium ${env.chromium} headless, ${env.cpu}, wllama ${env.wllama}. `;
md += `Load average (1/5/15 min) ${env.loadStart} at the start, ${env.loadEnd} at the end (other engineers' builds and benchmarks share the 2 cores).\n`;
if (rows.length) {
  md += `\n### slm vs wllama, single thread\n\nRandom-weight models (\`slm synth --seed 1\`), a ~128-token prompt (prefill), 64 greedy decode steps. `;
  const ab = rows.some((r) => r.slm128);
  md += `slm: ${rows[0]?.slm?.kernels ?? '?'} kernels in ${rows[0]?.slm?.module ?? (rows[0]?.slm?.simd ? 'slm.wasm' : 'slm-scalar.wasm')}; wllama n_threads 1, byte tokens banned. Ratios are slm ÷ wllama, with the issue's target.`;
  if (ab) md += ` Last two columns: slm.wasm (${rows[0]?.slm128?.kernels ?? '?'} kernels, no relaxed SIMD) in the same browser.`;
  md += '\n\n| model | type | prompt tokens (slm/wllama) | slm prefill tok/s | wllama prefill tok/s | ratio | slm decode tok/s | wllama decode tok/s | ratio |';
  md += ab ? ' slm.wasm prefill tok/s | slm.wasm decode tok/s |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n' : '\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n';
  for (const r of rows) {
    const tg = TARGET[r.t];
    md += `| ${r.p} | ${r.t} | ${r.slm?.promptTokens ?? '–'}/${r.wllama?.promptTokens ?? '–'} | ${f(r.slm?.prefillTokS)} | ${f(r.wllama?.prefillTokS)} | ${ratio(r.slm?.prefillTokS, r.wllama?.prefillTokS, tg?.prefill)} | ${f(r.slm?.decodeTokS)} | ${f(r.wllama?.decodeTokS)} | ${ratio(r.slm?.decodeTokS, r.wllama?.decodeTokS, tg?.decode)} |`;
    md += ab ? ` ${f(r.slm128?.prefillTokS)} | ${f(r.slm128?.decodeTokS)} |\n` : '\n';
    for (const e of ['slm', 'wllama', 'slm128']) if (r[e]?.error) md += `| | | ${e} error: ${r[e].error.split('\n')[0].replace(/\|/g, '/')} | | | | | | |\n`;
  }
  const b = rows.find((r) => r.p === 's110m' && r.t === 'q8_0')?.slm?.decodeTokS;
  if (native && b) {
    md += `\nNative llama.cpp (\`llama-bench -n 64 -t 1\`, same s110m q8_0 GGUF, same run): ${f(native)} tok/s decode; `;
    md += `slm in the browser reaches ${(100 * b / native).toFixed(0)}% of it (target ≥ 50%: ${b / native >= 0.5 ? 'met' : 'not met'}).\n`;
  }
}
if (ttftRows.length) {
  const r0 = ttftRows[0];
  md += `\n### Open to first token, ${ttftModel} (${mb(drain?.packageBytes)} MB package), slm ${r0.kernels} kernels\n\n`;
  md += `Fresh browser per row; the module is already compiled (${f(r0.moduleMs)} ms). Read = streaming the body from the local server into wasm memory ` +
    `(for reference, fetching and discarding it in another browser takes ${f(drain?.drainMs)} ms); open = \`slm_package_open_memory\`; first token = session + tokenize + ` +
    `prefill of ${r0.promptTokens} tokens + sample. JS heap and ArrayBuffers from CDP \`Runtime.getHeapUsage\` ` +
    `(usedSize; backingStorageSize = JS ArrayBuffer stores outside the heap, wasm memory *not* counted) after a GC once the package is open, ` +
    `and their peak polled every 25 ms without GC; \`performance.memory.usedJSHeapSize\` at the first token; the renderer process's RSS before ` +
    `the open and its peak.\n\n`;
  md += '| run | read ms | open ms | first token ms | total ms | read share | JS heap after open / peak MB | ArrayBuffers after open / peak MB | performance.memory MB | wasm memory MB | renderer RSS before → peak MB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  for (const r of ttftRows) {
    if (r.error) { md += `| ${r.label} | error: ${r.error.split('\n')[0].replace(/\|/g, '/')} | | | | | | | | | |\n`; continue; }
    md += `| ${r.label} | ${f(r.readMs)} | ${f(r.parseMs)} | ${f(r.firstTokenMs)} | ${f(r.ttftMs)} | ${(100 * r.readMs / r.ttftMs).toFixed(0)}% | ` +
      `${mb(r.probeOpen?.usedSize)} / ${mb(r.peak?.usedSize)} | ${mb(r.probeOpen?.backingStorageSize)} / ${mb(r.peak?.backingStorageSize)} | ` +
      `${mb(r.perfMemory?.used)} | ${mb(r.wasmBytes)} | ${mb(r.probeBefore?.rendererRss)} → ${mb(r.rendererPeakRss)} |\n`;
  }
}
console.log(md);
if (flag('--write')) appendFileSync(path.join(ROOT, 'bench/web/RESULTS.md'), md);

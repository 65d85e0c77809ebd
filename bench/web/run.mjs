// slm vs wllama in the same Chromium, single thread, on random-weight models
// in real shapes (slm synth; the same weights as GGUF for wllama and as .slm
// for slm). Prints a markdown table; --write appends it to bench/web/RESULTS.md.
//   node bench/web/run.mjs [--presets s15m,s110m] [--types f32,q8_0,q4_0] [--write]
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { CLI, ROOT, SITE, requireFile } from '../../tests/web/fixtures.mjs';
import { serve } from '../../tests/web/serve.mjs';

const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const presets = arg('--presets', 's15m,s110m').split(',');
const types = arg('--types', 'f32,q8_0,q4_0').split(',');
const CHROMIUM = process.env.SLM_CHROMIUM ?? '/usr/bin/chromium';
const WLLAMA = path.join(ROOT, 'node_modules/@wllama/wllama/esm');
const MODELS = process.env.SLM_BENCH_MODELS ?? path.join(ROOT, 'build/bench-web-models');

requireFile(CLI, 'build the native CLI (cmake --build --preset release)');
requireFile(path.join(SITE, 'slm.wasm'), 'build the wasm preset');
requireFile(path.join(WLLAMA, 'wasm/wllama.wasm'), 'npm ci (installs @wllama/wllama)');
mkdirSync(MODELS, { recursive: true });
for (const p of presets) for (const t of types) {
  for (const fmt of ['gguf', 'slm']) {
    const f = path.join(MODELS, `${p}-${t}.${fmt}`);
    if (!existsSync(f)) execFileSync(CLI, ['synth', '--preset', p, '--type', t, '--format', fmt, '--seed', '1', '-o', f], { stdio: 'inherit' });
  }
}

const { chromium } = await import('playwright-core');
const { server, url } = await serve([['/', path.join(ROOT, 'bench/web')], ['/slm', SITE], ['/wllama', WLLAMA], ['/models', MODELS]]);
const userDataDir = mkdtempSync(path.join(tmpdir(), 'slm-bench-chromium-'));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const rows = [];
try {
  for (const p of presets) for (const t of types) {
    const r = {};
    for (const engine of ['slm', 'wllama']) {
      const page = await ctx.newPage();
      const model = `/models/${p}-${t}.${engine === 'slm' ? 'slm' : 'gguf'}`;
      await page.goto(`${url}/bench.html?engine=${engine}&model=${model}&prompt=128&decode=64`);
      await page.waitForFunction(() => window.benchResult, null, { timeout: 600000 });
      r[engine] = await page.evaluate(() => window.benchResult);
      await page.close();
      console.error(p, t, engine, JSON.stringify(r[engine]));
    }
    rows.push({ p, t, ...r });
  }
} finally {
  await ctx.close();
  server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

const f = (x) => (typeof x === 'number' ? x.toFixed(1) : '–');
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '–');
let md = `\n## Browser: slm vs wllama, Chromium ${(execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).match(/\d+\.\d+\.\d+\.\d+/) ?? ['?'])[0]}, single thread\n\n`;
md += `Random-weight models (\`slm synth --seed 1\`), a ~128-token prompt (prefill), 64 greedy decode steps. `;
md += `slm: ${rows[0]?.slm?.kernels ?? '?'} kernels in ${rows[0]?.slm?.simd ? 'slm.wasm (SIMD128)' : 'slm-scalar.wasm'}; wllama ${JSON.parse(execFileSync('node', ['-p', `JSON.stringify(require('${path.join(ROOT, 'node_modules/@wllama/wllama/package.json')}').version)`], { encoding: 'utf8' }))}, n_threads 1, byte tokens banned.\n\n`;
md += '| model | type | prompt tokens (slm/wllama) | slm prefill tok/s | wllama prefill tok/s | ratio | slm decode tok/s | wllama decode tok/s | ratio |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n';
for (const r of rows) {
  md += `| ${r.p} | ${r.t} | ${r.slm?.promptTokens ?? '–'}/${r.wllama?.promptTokens ?? '–'} | ${f(r.slm?.prefillTokS)} | ${f(r.wllama?.prefillTokS)} | ${ratio(r.slm?.prefillTokS, r.wllama?.prefillTokS)} | ${f(r.slm?.decodeTokS)} | ${f(r.wllama?.decodeTokS)} | ${ratio(r.slm?.decodeTokS, r.wllama?.decodeTokS)} |\n`;
  for (const e of ['slm', 'wllama']) if (r[e]?.error) md += `| | | ${e} error: ${r[e].error.split('\n')[0].replace(/\|/g, '/')} | | | | | | |\n`;
}
console.log(md);
if (process.argv.includes('--write')) appendFileSync(path.join(ROOT, 'bench/web/RESULTS.md'), md);

// The workbench in a real browser: Debian's Chromium driven by playwright-core
// (node --test tests/web/). The page must produce the native CLI's ids and
// text exactly, show a corrupted package's error in the page, and work at
// phone width. Screenshots go to $SLM_WEB_ARTIFACTS (default <tmp>/.../artifacts).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  CASES, GREEDY, OUT, ROOT, SAMPLED, SAMPLED_PARAMS, SITE, deterministicPart, nativeEval, nativeGenerate,
  kquantPackage, nativePacket, nativeVerify, requireFile, testAdapters, testPackage,
} from './fixtures.mjs';
import { serve } from './serve.mjs';

const CHROMIUM = process.env.SLM_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = process.env.SLM_WEB_ARTIFACTS ?? path.join(OUT, 'artifacts');
let chromium;
let server, base, context, page, userDataDir;
const problems = [];  // console errors and uncaught page errors

before(async () => {
  requireFile(CHROMIUM, 'install Debian chromium (scripts/setup.sh --browser) or set SLM_CHROMIUM');
  requireFile(path.join(SITE, 'index.html'), 'build the wasm preset (cmake --build --preset wasm)');
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is not installed: run npm ci at the repository root (${e.message})`);
  }
  testPackage();
  mkdirSync(ARTIFACTS, { recursive: true });
  ({ server, url: base } = await serve([['/', SITE], ['/test', OUT]]));
  userDataDir = mkdtempSync(path.join(tmpdir(), 'slm-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});

after(async () => {
  await context?.close();
  server?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

async function openPackage(url) {
  await page.goto(`${base}/index.html`);
  await page.waitForFunction(() => !document.getElementById('engine').textContent.includes('loading'));
  await page.fill('#url', url);
  await page.click('#url-form button');
  await page.waitForFunction(() => ['opened', 'error'].includes(document.body.dataset.state), null, { timeout: 60000 });
}

async function generate({
  prompt = '', temperature = 0, topK = 0, topP = 1, minP = 0, repeatPenalty = 1, presencePenalty = 0,
  frequencyPenalty = 0, seed = 0, maxTokens = 60,
} = {}) {
  await page.fill('#prompt', prompt);
  await page.fill('#temperature', String(temperature));
  await page.fill('#top-k', String(topK));
  await page.fill('#top-p', String(topP));
  await page.fill('#min-p', String(minP));
  await page.fill('#repeat-penalty', String(repeatPenalty));
  await page.fill('#presence-penalty', String(presencePenalty));
  await page.fill('#frequency-penalty', String(frequencyPenalty));
  await page.fill('#seed', String(seed));
  await page.fill('#max-tokens', String(maxTokens));
  await page.click('#run');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 60000 });
  const r = await page.evaluate(() => ({
    state: document.body.dataset.state,
    error: document.getElementById('error').textContent,
    ids: (document.getElementById('output').dataset.ids || '').split(',').filter(Boolean).map(Number),
    promptIds: document.getElementById('output').dataset.promptIds,
    text: document.getElementById('output').textContent,
  }));
  assert.equal(r.state, 'done', r.error);
  return r;
}

test('loads stories260K from the local server and shows metadata and digests', async () => {
  await openPackage('/test/stories260K.slm');
  const state = await page.evaluate(() => document.body.dataset.state);
  assert.equal(state, 'opened', await page.textContent('#error'));
  const meta = await page.textContent('#meta-list');
  const digest = nativeGenerate(['--prompt-ids', '1', '-n', '1']).diagnostics.package_digest;
  assert.ok(meta.includes(digest), `package digest ${digest} not shown in: ${meta}`);
  assert.equal(await page.getAttribute('#progress', 'value'), await page.getAttribute('#progress', 'max'));
  assert.match(await page.textContent('#d-kernels'), /\w+/);
});

test('greedy generation in the page equals the native CLI (ids and text)', async () => {
  const native = nativeGenerate(GREEDY);
  const r = await generate({ maxTokens: 60 });
  assert.equal(r.promptIds, '1');
  assert.deepEqual(r.ids, native.ids);
  assert.equal(r.text, native.text);
  await page.screenshot({ path: path.join(ARTIFACTS, 'workbench.png'), fullPage: true });
});

test('a text prompt equals the native CLI --prompt', async () => {
  const native = nativeGenerate(['--prompt', 'Once upon a time', '-n', '40']);
  const r = await generate({ prompt: 'Once upon a time', maxTokens: 40 });
  assert.deepEqual(r.promptIds.split(',').map(Number), native.prompt_ids);
  assert.deepEqual(r.ids, native.ids);
  assert.equal(r.text, native.text);
});

test('seeded sampling in the page equals the native CLI', async () => {
  const native = nativeGenerate(SAMPLED);
  const r = await generate({ ...SAMPLED_PARAMS, maxTokens: 60 });
  assert.deepEqual(r.ids, native.ids);
  assert.equal(r.text, native.text);
  const diag = await page.textContent('#d-cache');
  assert.match(diag, /^\d+ \/ 512$/);
});

test('seeded top-k, top-p and min-p sampling with penalties replays the native CLI', async () => {
  const runs = [
    { temperature: 0.9, topK: 20, seed: 5, repeatPenalty: 1.3, presencePenalty: 0.2, frequencyPenalty: 0.1 },
    { temperature: 1.1, topP: 0.85, seed: 6, repeatPenalty: 1.2, frequencyPenalty: 0.3 },
    { temperature: 1.0, minP: 0.08, seed: 7, repeatPenalty: 1.4, presencePenalty: 0.5 },
  ];
  for (const r of runs) {
    const native = nativeGenerate(['--prompt', 'Once upon a time', '-n', '50', '--temp', String(r.temperature),
      '--top-k', String(r.topK ?? 0), '--top-p', String(r.topP ?? 1), '--min-p', String(r.minP ?? 0),
      '--repeat-penalty', String(r.repeatPenalty), '--presence-penalty', String(r.presencePenalty ?? 0),
      '--frequency-penalty', String(r.frequencyPenalty ?? 0), '--seed', String(r.seed)]);
    const page_ = await generate({ prompt: 'Once upon a time', maxTokens: 50, ...r });
    assert.deepEqual(page_.ids, native.ids, JSON.stringify(r));
    assert.equal(page_.text, native.text);
  }
  // The penalties matter: the same run without them differs.
  const plain = nativeGenerate(['--prompt', 'Once upon a time', '-n', '50', '--temp', '0.9', '--top-k', '20', '--seed', '5']);
  const penalised = nativeGenerate(['--prompt', 'Once upon a time', '-n', '50', '--temp', '0.9', '--top-k', '20', '--seed', '5',
    '--repeat-penalty', '1.3', '--presence-penalty', '0.2', '--frequency-penalty', '0.1']);
  assert.notDeepEqual(plain.ids, penalised.ids);
});

test('the diagnostics panel shows the KV cache: pages, prefix reuse, evictions, first token', async () => {
  await openPackage('/test/stories260K.slm');
  const prompt = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.';
  const first = await generate({ prompt, maxTokens: 12 });
  const n = first.promptIds.split(',').length;
  assert.ok(n > 32, `${n} prompt tokens: want more than two 16-token pages`);
  const native = nativeGenerate(['--prompt-ids', first.promptIds, '-n', '12']);
  const kv = native.diagnostics.kv_cache;
  assert.deepEqual(first.ids, native.ids);
  const panel = async () => page.evaluate(() => Object.fromEntries(
    ['d-pages', 'd-hit', 'd-evictions', 'd-ttft'].map((id) => [id, document.getElementById(id).textContent])));
  let p = await panel();
  assert.equal(p['d-pages'], `${kv.pages_used} used, ${kv.pages_shared} shared, ${kv.pages_cached} cached, ${kv.pages_free} free`);
  assert.equal(p['d-hit'], `0% (0 of ${n} prompt tokens reused)`);
  assert.equal(p['d-evictions'], String(kv.evictions));
  assert.match(p['d-ttft'], /^\d+\.\d ms$/);

  // The same prompt again: its full pages come from the cache.
  const second = await generate({ prompt, maxTokens: 12 });
  assert.deepEqual(second.ids, first.ids);
  p = await panel();
  const m = p['d-hit'].match(/^(\d+)% \((\d+) of (\d+) prompt tokens reused\)$/);
  assert.ok(m, p['d-hit']);
  const [rate, reused, total] = m.slice(1).map(Number);
  assert.equal(total, 2 * n);
  assert.ok(reused >= 32 && reused < n, p['d-hit']);
  assert.equal(rate, Math.round((100 * reused) / total));
  const pages = p['d-pages'].match(/^(\d+) used, (\d+) shared, (\d+) cached, (\d+) free$/).slice(1).map(Number);
  assert.equal(pages[0] + pages[2] + pages[3], kv.pages_total);
  assert.ok(pages[0] > 0);
  assert.match(p['d-ttft'], /^\d+\.\d ms$/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'workbench-kv.png'), fullPage: true });
});

test('Stop ends a generation early', async () => {
  await page.fill('#max-tokens', '100000');
  await page.fill('#temperature', '1');
  await page.evaluate(() => { document.getElementById('run').click(); document.getElementById('stop').click(); });
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60000 });
  const status = await page.textContent('#status');
  assert.match(status, /^(stopped after \d+ tokens|done: \d+ tokens \((eos|context_full)\))$/);
});

test('the file picker opens a package too', async () => {
  await page.goto(`${base}/index.html`);
  await page.setInputFiles('#file', testPackage());
  await page.waitForFunction(() => ['opened', 'error'].includes(document.body.dataset.state), null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'opened');
  const r = await generate({ maxTokens: 20 });
  assert.deepEqual(r.ids, nativeGenerate(['--prompt-ids', '1', '-n', '20']).ids);
});

test('a corrupted package shows an error in the page', async () => {
  await openPackage('/test/corrupt.slm');
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'error');
  assert.equal(await page.isVisible('#error'), true);
  const err = await page.textContent('#error');
  assert.match(err, /corrupt\.slm/);
  assert.match(err, /integrity|digest|sha256/i);
  assert.equal(await page.isDisabled('#run'), true);
  await openPackage('/test/missing.slm');
  assert.match(await page.textContent('#error'), /404/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'workbench-error.png') });
});

async function evaluateInPage() {
  await openPackage('/test/stories260K.slm');
  await page.click('#tab-evaluate');
  await page.setInputFiles('#cases-file', CASES);
  await page.waitForFunction(() => !document.getElementById('eval-run').disabled);
  await page.click('#eval-run');
  await page.waitForFunction(() => ['evaluated', 'error'].includes(document.body.dataset.state), null, { timeout: 120000 });
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'evaluated', await page.textContent('#error'));
}

async function downloadTo(selector, file) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  await dl.saveAs(file);
  return readFileSync(file);
}

test('the Evaluate tab writes the CLI evidence, and its packet verifies with the CLI', async () => {
  await evaluateInPage();
  const rows = await page.$$eval('#cases-table tbody tr', (trs) => trs.length);
  const native = nativeEval();
  assert.equal(rows, JSON.parse(native.text).cases.length);
  assert.match(await page.textContent('#fitness'), /weighted pass rate/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'workbench-evaluate.png'), fullPage: true });
  const evidence = await downloadTo('#dl-evidence', path.join(OUT, 'page-evidence.json'));
  assert.deepEqual(deterministicPart(evidence.toString('utf8')), deterministicPart(native.text));
  const packet = path.join(OUT, 'page-packet.tar');
  await downloadTo('#dl-packet', packet);
  const v = nativeVerify(packet);
  assert.ok(v.ok, v.output);
});

test('a packet built by the CLI verifies in the page; a tampered one is reported', async () => {
  await page.goto(`${base}/index.html?tab=evaluate`);
  await openPackage('/test/stories260K.slm');
  await page.click('#tab-evaluate');
  const verify = async (file) => {
    await page.evaluate(() => { delete document.body.dataset.verified; });
    await page.setInputFiles('#packet-file', file);
    await page.waitForFunction(() => document.body.dataset.verified || document.body.dataset.state === 'error', null, { timeout: 120000 });
    return page.evaluate(() => ({ verified: document.body.dataset.verified, text: document.getElementById('verify-result').textContent }));
  };
  const good = await verify(nativePacket());
  assert.equal(good.verified, 'ok', good.text);
  assert.match(good.text, /verified/);
  const bytes = readFileSync(nativePacket());
  const at = bytes.indexOf('"output_text"');
  assert.ok(at > 0);
  bytes[at + 20] ^= 1;
  const tampered = path.join(OUT, 'tampered-packet.tar');
  writeFileSync(tampered, bytes);
  const bad = await verify(tampered);
  assert.equal(bad.verified, 'failed', bad.text);
  assert.ok(await page.$$eval('#verify-problems li', (li) => li.length) > 0);
});

test('adapters: validated on open, toggled and scaled; checksum and tokens equal the CLI', async () => {
  const { lowrank, wrongBase } = testAdapters();
  await openPackage('/test/stories260K.slm');
  const baseChecksum = nativeGenerate(['--prompt-ids', '1', '-n', '1']).diagnostics.assembly_checksum;
  assert.equal(await page.evaluate(() => document.body.dataset.assembly), baseChecksum);
  const waitAssembly = (not) => page.waitForFunction((x) => document.body.dataset.assembly && document.body.dataset.assembly !== x, not, { timeout: 30000 });

  await page.setInputFiles('#adapter-file', lowrank);
  await waitAssembly(baseChecksum);
  const native = nativeGenerate([...GREEDY, '--adapter', lowrank]);
  assert.equal(await page.evaluate(() => document.body.dataset.assembly), native.diagnostics.assembly_checksum);
  assert.match(await page.textContent('#adapters li.valid .detail'), /valid for this base/);
  assert.equal(await page.textContent('#d-adapters'), '1');
  const r = await generate({ maxTokens: 60 });
  assert.deepEqual(r.ids, native.ids);
  assert.notDeepEqual(r.ids, nativeGenerate(GREEDY).ids);

  // Scale 0.5: the checksum and the tokens of the CLI's A:0.5.
  const half = nativeGenerate([...GREEDY, '--adapter', `${lowrank}:0.5`]);
  const before = await page.evaluate(() => document.body.dataset.assembly);
  await page.fill('#adapters li.valid input.scale', '0.5');
  await page.dispatchEvent('#adapters li.valid input.scale', 'change');
  await waitAssembly(before);
  assert.equal(await page.evaluate(() => document.body.dataset.assembly), half.diagnostics.assembly_checksum);
  assert.deepEqual((await generate({ maxTokens: 60 })).ids, half.ids);

  // Off: back to the base alone.
  const scaled = await page.evaluate(() => document.body.dataset.assembly);
  await page.click('#adapters li.valid input.on');
  await waitAssembly(scaled);
  assert.equal(await page.evaluate(() => document.body.dataset.assembly), baseChecksum);
  assert.deepEqual((await generate({ maxTokens: 60 })).ids, nativeGenerate(GREEDY).ids);

  // An adapter for another base is refused in the page, naming the digests.
  await page.setInputFiles('#adapter-file', wrongBase);
  await page.waitForSelector('#adapters li.refused');
  assert.match(await page.textContent('#adapters li.refused .detail'), /refused: .*compatibility digest/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'workbench-adapters.png'), fullPage: true });
});

test('a llama.cpp LoRA GGUF opens in the page: imported for the base, checksum and tokens equal the CLI', async () => {
  const gguf = requireFile(path.join(ROOT, 'tests/adapter/lora.gguf'), 'the LoRA fixture of tests/adapter/');
  await openPackage('/test/stories260K.slm');
  const base = await page.evaluate(() => document.body.dataset.assembly);
  await page.setInputFiles('#adapter-file', gguf);
  await page.waitForFunction((x) => document.body.dataset.assembly && document.body.dataset.assembly !== x, base, { timeout: 30000 });
  const native = nativeGenerate([...GREEDY, '--adapter', gguf]);
  assert.equal(await page.evaluate(() => document.body.dataset.assembly), native.diagnostics.assembly_checksum);
  assert.match(await page.textContent('#adapters li.valid .detail'), /valid for this base/);
  assert.deepEqual((await generate({ maxTokens: 60 })).ids, native.ids);
  assert.notDeepEqual(native.ids, nativeGenerate(GREEDY).ids);
});

test('a PEFT folder opens in the page as its two files: checksum and tokens equal the CLI', async () => {
  const dir = path.join(ROOT, 'tests/adapter/peft');
  const files = ['adapter_config.json', 'adapter_model.safetensors'].map((f) => requireFile(path.join(dir, f), 'the PEFT fixture of tests/adapter/'));
  await openPackage('/test/stories260K.slm');
  const base = await page.evaluate(() => document.body.dataset.assembly);
  await page.setInputFiles('#adapter-file', files);
  await page.waitForFunction((x) => document.body.dataset.assembly && document.body.dataset.assembly !== x, base, { timeout: 30000 });
  assert.equal(await page.$$eval('#adapters li', (li) => li.length), 1);  // one adapter, not two files
  // Named 'peft' (no folder name from a file pick), as the CLI names the fixture's folder.
  const native = nativeGenerate([...GREEDY, '--adapter', dir]);
  assert.equal(await page.evaluate(() => document.body.dataset.assembly), native.diagnostics.assembly_checksum);
  assert.deepEqual((await generate({ maxTokens: 60 })).ids, native.ids);
});

// The relaxed-SIMD k-quant kernels (slm-relaxed.wasm) and simd128's
// (slm.wasm) under Chromium's own V8, not only Node's: the last position's
// 32000 logits of a q4_k / q6_k package, from one batched prefill and from
// single-token steps, equal the native CLI's bit for bit.
test('q4_k / q6_k logits in both wasm modules equal the native CLI, batched and step by step', async () => {
  const { pkg, ids, logits } = kquantPackage();
  await page.goto(`${base}/slm.js`);  // any page of the site's origin
  for (const [simd, kernels] of [['relaxed', 'simd128r'], [true, 'simd128']]) {
    const r = await page.evaluate(async ({ url, ids, simd }) => {
      const { Slm } = await import('/slm.js');
      const slm = await Slm.load({ url: '/', simd });
      const p = await slm.openPackage(url);
      const a = p.createSession({ nCtx: 64 });
      a.prefill(ids);
      const batched = Array.from(a.logits());
      const b = p.createSession({ nCtx: 64 });
      for (const id of ids) b.prefill([id]);
      return { kernels: slm.kernels, batched, steps: Array.from(b.logits()) };
    }, { url: `/test/${path.basename(pkg)}`, ids, simd });
    assert.equal(r.kernels, kernels);
    for (const [how, got] of [['batched', r.batched], ['steps', r.steps]]) {
      assert.equal(got.length, logits.length, `${kernels} ${how}: logit count`);
      const differ = got.reduce((n, v, i) => n + (v === logits[i] ? 0 : 1), 0);
      assert.equal(differ, 0, `${kernels} ${how}: ${differ} of ${logits.length} logits differ from the native CLI`);
    }
  }
});

test('clean at phone width: no horizontal scrolling', async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  await openPackage('/test/stories260K.slm');
  await generate({ maxTokens: 30 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone viewport`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'workbench-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('no console errors or uncaught exceptions', () => {
  // The corrupted package and the 404 are reported in the page; nothing else may fail.
  const unexpected = problems.filter((p) => !/404|Not Found/.test(p));
  assert.deepEqual(unexpected, []);
  assert.ok(existsSync(path.join(ARTIFACTS, 'workbench.png')));
});

// node --test tests/web/: web/slm.js drives slm.wasm (SIMD128 and scalar) in
// Node and must give the native CLI's ids and text exactly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { Slm, SlmError, Status, hasSimd128 } from '../../web/slm.js';
import { CLI, GREEDY, OUT, SAMPLED, SAMPLED_PARAMS, SITE, nativeGenerate, testPackage, wasmBytes } from './fixtures.mjs';

const fileSource = (p) => ({ stream: createReadStream(p, { highWaterMark: 64 * 1024 }), size: statSync(p).size, name: path.basename(p) });

async function run(simd, params) {
  const slm = await Slm.load({ bytes: wasmBytes(simd), simd });
  const pkg = await slm.openPackage(fileSource(testPackage()));
  const s = pkg.createSession();
  if (params) s.setSampler(params);
  const ids = [];
  let text = '';
  for (const step of s.generate([1], { maxTokens: 60 })) {
    if (step.id >= 0) ids.push(step.id);
    text += step.text;
  }
  return { slm, pkg, s, ids, text };
}

test('the module exports exactly the C ABI, memory and _initialize', () => {
  const expected = readFileSync(path.join(SITE, 'exports.txt'), 'utf8').trim().split('\n');
  for (const simd of [true, false]) {
    const names = WebAssembly.Module.exports(new WebAssembly.Module(wasmBytes(simd))).map((e) => e.name);
    assert.deepEqual(names.sort(), ['_initialize', 'memory', ...expected].sort());
  }
});

test('slm-scalar.wasm has no SIMD128 instructions, slm.wasm has; the probe validates here', async () => {
  const { execFileSync } = await import('node:child_process');
  const count = (f) => {
    let out;
    try {
      out = execFileSync('llvm-objdump-19', ['-d', path.join(SITE, f)], { encoding: 'utf8', maxBuffer: 1 << 28 });
    } catch (e) {
      throw new Error(`llvm-objdump-19 (Debian llvm-19) is needed to disassemble ${f}: ${e.message}`);
    }
    return (out.match(/\b(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\./g) ?? []).length;
  };
  assert.equal(count('slm-scalar.wasm'), 0);
  assert.ok(count('slm.wasm') > 0);
  assert.equal(hasSimd128(), true);
});

for (const simd of [true, false]) {
  const kind = simd ? 'simd128' : 'scalar';

  test(`${kind}: greedy ids and text equal the native CLI`, async () => {
    const native = nativeGenerate(GREEDY);
    const { slm, s, ids, text } = await run(simd);
    assert.deepEqual(ids, native.ids);
    assert.equal(text, native.text);
    const d = s.diagnostics();
    assert.equal(d.generatedTokens, 60);
    assert.equal(d.tokensInCache, native.diagnostics.tokens_in_cache);
    assert.equal(d.stopReason, 'max_tokens');
    assert.equal(d.kernels, slm.kernels);
    assert.ok(d.decodeTokS > 0 && d.linearMemoryBytes === slm.memoryBytes);
  });

  test(`${kind}: seeded sampling equals the native CLI`, async () => {
    const native = nativeGenerate(SAMPLED);
    const { ids, text } = await run(simd, SAMPLED_PARAMS);
    assert.deepEqual(ids, native.ids);
    assert.equal(text, native.text);
  });
}

test('memory grows by the package size once, not twice', async () => {
  const slm = await Slm.load({ bytes: wasmBytes(true), simd: true });
  const size = statSync(testPackage()).size;
  const before = slm.memoryBytes;
  const pkg = await slm.openPackage(fileSource(testPackage()));
  const grown = slm.memoryBytes - before;
  assert.ok(grown >= size - 65536, `grew ${grown} for ${size}`);
  assert.ok(grown < size * 1.5, `memory grew by ${grown} bytes for a ${size}-byte package: a second copy?`);
  const s = pkg.createSession();
  s.prefill([1]);
  const l = s.logits();
  assert.equal(l.buffer, slm.memory.buffer, 'logits are a view into wasm memory');
  assert.equal(l.length, pkg.info.vocabSize);
  assert.equal(s.diagnostics().packageBytes, size);
});

test('KV-cache diagnostics: the native CLI kv_cache, then prefix reuse on a second generation', async () => {
  const slm = await Slm.load({ bytes: wasmBytes(true), simd: true });
  const pkg = await slm.openPackage(fileSource(testPackage()));
  const s = pkg.createSession();
  const prompt = pkg.tokenize('Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.', true);
  assert.ok(prompt.length > 32, `${prompt.length} prompt tokens: want more than two 16-token pages`);
  const gen = () => { const ids = []; for (const st of s.generate(prompt, { maxTokens: 12 })) if (st.id >= 0) ids.push(st.id); return ids; };
  const first = gen();
  const d1 = s.diagnostics();
  const native = nativeGenerate(['--prompt-ids', Array.from(prompt).join(','), '-n', '12']);
  const kv = native.diagnostics.kv_cache;
  assert.deepEqual(first, native.ids);
  assert.equal(d1.tokensInCache, native.diagnostics.tokens_in_cache);
  assert.deepEqual([d1.kvPagesUsed, d1.kvPagesShared, d1.kvPagesCached, d1.kvPagesFree, d1.kvEvictions],
    [kv.pages_used, kv.pages_shared, kv.pages_cached, kv.pages_free, kv.evictions]);
  assert.equal(d1.kvPromptTokens, prompt.length);
  assert.equal(d1.kvReusedTokens, 0);
  assert.equal(d1.prefixHitRate, kv.prefix_hit_rate);
  assert.ok(d1.timeToFirstTokenMs > 0 && d1.timeToFirstTokenMs >= Math.fround(d1.prefillMs) * 0.999, JSON.stringify(d1));

  s.reset();
  const after = s.diagnostics();
  assert.equal(after.kvPagesUsed, 0);
  assert.ok(after.kvPagesCached >= 2, `${after.kvPagesCached} cached pages after the reset`);
  const second = gen();
  assert.deepEqual(second, first);
  const d2 = s.diagnostics();
  assert.equal(d2.kvPromptTokens, 2 * prompt.length);
  assert.ok(d2.kvReusedTokens >= 32 && d2.kvReusedTokens < prompt.length, `${d2.kvReusedTokens} reused`);
  assert.equal(d2.prefixHitRate, d2.kvReusedTokens / d2.kvPromptTokens);
  assert.equal(d2.kvPagesUsed + d2.kvPagesCached + d2.kvPagesFree, kv.pages_total);
  assert.ok(d2.timeToFirstTokenMs > 0);
  s.destroy();
  pkg.destroy();
});

test('logits view equals the native CLI logits', async () => {
  const { execFileSync } = await import('node:child_process');
  const { CLI } = await import('./fixtures.mjs');
  const native = JSON.parse(execFileSync(CLI, ['logits', testPackage(), '--prompt-ids', '1,403,407', '--json'], { encoding: 'utf8' }));
  const slm = await Slm.load({ bytes: wasmBytes(true), simd: true });
  const pkg = await slm.openPackage(fileSource(testPackage()));
  const s = pkg.createSession();
  s.prefill([1, 403, 407]);
  assert.deepEqual(Array.from(s.logits()), native.logits.map(Math.fround));
});

test('tokenize / detokenize with UTF-8 measured in bytes', async () => {
  const slm = await Slm.load({ bytes: wasmBytes(true), simd: true });
  const pkg = await slm.openPackage(fileSource(testPackage()));
  const text = 'Once upon a time — café, 日本, 🙂.';
  const ids = pkg.tokenize(text, true);
  assert.equal(ids[0], 1);
  assert.equal(pkg.detokenize(Array.from(ids).slice(1)), text);
  const d = pkg.describe();
  assert.equal(d.package_digest, pkg.digest);
  assert.equal(d.config.vocab_size, 512);
  // The module reports the version it was built as: the native CLI's (`slm --version`).
  assert.equal(`slm ${slm.version}`, execFileSync(CLI, ['--version']).toString().trim());
});

test('a corrupted package is an integrity error naming the tensor', async () => {
  const slm = await Slm.load({ bytes: wasmBytes(true), simd: true });
  testPackage();
  const before = slm.memoryBytes;
  await assert.rejects(slm.openPackage(fileSource(path.join(OUT, 'corrupt.slm'))), (e) => {
    assert.ok(e instanceof SlmError);
    assert.equal(e.code, Status.INTEGRITY_ERROR);
    assert.match(e.message, /corrupt\.slm/);
    return true;
  });
  // The buffer was freed: opening the good one reuses it.
  await slm.openPackage(fileSource(testPackage()));
  assert.ok(slm.memoryBytes - before < statSync(testPackage()).size * 1.5);
});

// An async iterable of `bytes` in random chunks of 1..max bytes (seeded), counting the chunks taken.
function chunked(bytes, max, seed = 1) {
  const it = { taken: 0 };
  it[Symbol.asyncIterator] = async function* () {
    let x = seed, at = 0;
    while (at < bytes.length) {
      x = (x * 1103515245 + 12345) >>> 0;
      const n = Math.min(bytes.length - at, 1 + (x % max));
      it.taken++;
      yield bytes.subarray(at, at + n);
      at += n;
    }
  };
  return it;
}

test('verify while streaming: any chunking opens the same package; a flipped byte gets open_memory\'s error', async () => {
  const slm = await Slm.load({ bytes: wasmBytes(true), simd: true });
  const bytes = readFileSync(testPackage());
  const whole = await slm.openPackage(bytes, { name: 'a.slm' });
  for (const max of [7, 4096, 1 << 20]) {
    const pkg = await slm.openPackage({ stream: chunked(bytes, max, max), size: bytes.length, name: 'a.slm' });
    assert.equal(pkg.digest, whole.digest);
    pkg.destroy();
  }
  // The same error as slm_package_open_memory on the same bytes, naming the tensor.
  const bad = Uint8Array.from(bytes);
  bad[bad.length - 100] ^= 1;
  const p = slm.alloc(bad.length);
  slm.u8().set(bad, p);
  let direct;
  try { slm.openPackageAt(p, bad.length, 'b.slm'); } catch (e) { direct = e; slm.free(p); }
  assert.equal(direct?.code, Status.INTEGRITY_ERROR);
  await assert.rejects(slm.openPackage({ stream: chunked(bad, 3000), size: bad.length, name: 'b.slm' }), (e) => {
    assert.equal(e.code, Status.INTEGRITY_ERROR);
    assert.equal(e.message, direct.message);
    assert.match(e.message, /b\.slm: tensor '[^']+' at offset \d+: SHA-256/);
    return true;
  });
  // Not an .slm: refused once the 64-byte header is in, the rest is not read.
  const junk = new Uint8Array(1 << 20).fill(120);
  const src = chunked(junk, 100);
  await assert.rejects(slm.openPackage({ stream: src, size: junk.length, name: 'junk.bin' }),
    (e) => e.code === Status.FORMAT_ERROR && /junk\.bin: header: offset 0: bad magic/.test(e.message));
  assert.ok(src.taken < 5, `${src.taken} chunks read after a refused header`);
  const before = slm.memoryBytes;
  await slm.openPackage(bytes);  // the failed opens freed their buffers
  assert.ok(slm.memoryBytes - before < bytes.length * 1.5);
});

test('too large, truncated and garbage inputs are clear errors', async () => {
  const slm = await Slm.load({ bytes: wasmBytes(true), simd: true });
  await assert.rejects(slm.openPackage({ stream: [], size: 5e9, name: 'huge.slm' }),
    (e) => e.code === Status.RESOURCE_EXHAUSTED && /huge\.slm/.test(e.message));
  await assert.rejects(slm.openPackage({ stream: [new Uint8Array(10)], size: 20, name: 'short.slm' }),
    (e) => e.code === Status.IO_ERROR && /10 of 20/.test(e.message));
  await assert.rejects(slm.openPackage(new Uint8Array(300).fill(120), { name: 'junk.slm' }),
    (e) => e.code === Status.FORMAT_ERROR && /junk\.slm/.test(e.message));
});

test('a module needing an import the shim lacks fails at instantiate, naming it', async () => {
  // (module (import "wasi_snapshot_preview1" "sock_accept" (func)) (import "env" "foo" (func)))
  const str = (s) => [s.length, ...new TextEncoder().encode(s)];
  const imp = (m, n) => [...str(m), ...str(n), 0x00, 0x00];
  const importsBody = [2, ...imp('wasi_snapshot_preview1', 'sock_accept'), ...imp('env', 'foo')];
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0,
    2, importsBody.length, ...importsBody]);
  await assert.rejects(Slm.load({ bytes }), /wasi_snapshot_preview1\.sock_accept, env\.foo/);
});

test('evaluation through slm.js writes the native evidence; packets verify both ways', async () => {
  const { CASES, deterministicPart, nativeEval, nativePacket, nativeVerify } = await import('./fixtures.mjs');
  const { verifyRelease } = await import('../../web/slm.js');
  const { writeFileSync } = await import('node:fs');
  const slm = await Slm.load({ bytes: wasmBytes(true), simd: true });
  const pkg = await slm.openPackage(fileSource(testPackage()));
  const s = pkg.createSession();
  const ev = s.evaluate(readFileSync(CASES, 'utf8'));
  let step;
  do { step = ev.step(); } while (step.done < step.total);
  assert.ok(step.total > 3);
  assert.equal(typeof step.lastCase.pass, 'boolean');
  const evidence = ev.evidence();
  assert.deepEqual(deterministicPart(evidence), deterministicPart(nativeEval().text));

  // The wasm-built packet verifies with the native CLI ...
  const archive = ev.release();
  const fromWasm = path.join(OUT, 'wasm-packet.tar');
  writeFileSync(fromWasm, archive);
  const v = nativeVerify(fromWasm);
  assert.ok(v.ok, v.output);
  assert.match(v.output, /bit-identical/);
  // ... and the native packet verifies in wasm.
  const r = verifyRelease(slm, readFileSync(nativePacket()), pkg);
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  assert.equal(r.cases, step.total);
  // A flipped byte in the archive's evidence is reported, not passed.
  const bad = new Uint8Array(archive);
  const at = Buffer.from(bad).indexOf('"output_text"');
  assert.ok(at > 0);
  bad[at + 20] ^= 1;
  const rb = verifyRelease(slm, bad, pkg);
  assert.equal(rb.ok, false);
  assert.ok(rb.problems.length > 0);
  ev.destroy();
  s.destroy();
  pkg.destroy();
});

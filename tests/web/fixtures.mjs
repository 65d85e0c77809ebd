// Shared by the node and browser tests: where the binaries, the wasm site and
// the models are, the test package (made by the native CLI) and the native
// CLI's reference runs. Anything missing is a failure that says what to do.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = process.env.SLM_CLI ?? path.join(ROOT, 'build/release/tools/cli/slm');
// The built site: slm.wasm, slm-scalar.wasm and a copy of web/ (the wasm preset).
export const SITE = process.env.SLM_WASM_DIR ?? path.join(ROOT, 'build/wasm/web');
export const MODELS = process.env.SLM_MODELS_DIR ?? path.join(ROOT, '../shared/models');
// A fresh directory per process: a pid alone can repeat and find an earlier run's files.
export const OUT = process.env.SLM_WEB_TEST_OUT ?? mkdtempSync(path.join(tmpdir(), 'slm-web-test-'));

export function requireFile(p, hint) {
  if (!existsSync(p)) throw new Error(`missing ${p}: ${hint}`);
  return p;
}

export function wasmBytes(simd = true) {
  const f = path.join(SITE, simd ? 'slm.wasm' : 'slm-scalar.wasm');
  return readFileSync(requireFile(f, 'build it with: cmake --preset wasm && cmake --build --preset wasm (or set SLM_WASM_DIR)'));
}

let made = null;
// stories260K.slm converted by the native CLI (once per process).
export function testPackage() {
  if (made) return made;
  requireFile(CLI, 'build the native CLI: cmake --preset release && cmake --build --preset release (or set SLM_CLI)');
  const bin = requireFile(path.join(MODELS, 'stories260K.bin'), 'set SLM_MODELS_DIR (see scripts/models.sh)');
  const tok = requireFile(path.join(MODELS, 'tok512.bin'), 'set SLM_MODELS_DIR (see scripts/models.sh)');
  mkdirSync(OUT, { recursive: true });
  const pkg = path.join(OUT, 'stories260K.slm');
  execFileSync(CLI, ['convert', bin, '--tokenizer', tok, '-o', pkg], { stdio: ['ignore', 'ignore', 'inherit'] });
  // A corrupted copy: one flipped byte in the last tensor.
  const bytes = readFileSync(pkg);
  bytes[bytes.length - 5] ^= 0x5a;
  writeFileSync(path.join(OUT, 'corrupt.slm'), bytes);
  made = pkg;
  return pkg;
}

// The runs the tests compare against, both prompt [1] (BOS), 60 tokens.
export const GREEDY = ['--prompt-ids', '1', '-n', '60'];
export const SAMPLED = ['--prompt-ids', '1', '-n', '60', '--temp', '0.8', '--top-k', '40', '--top-p', '0.9', '--seed', '42'];
export const SAMPLED_PARAMS = { temperature: 0.8, topK: 40, topP: 0.9, seed: 42 };

export function nativeGenerate(args) {
  const out = execFileSync(CLI, ['generate', testPackage(), ...args, '--json'], { encoding: 'utf8' });
  return JSON.parse(out);
}

export const CASES = path.join(ROOT, 'tests/data/eval/stories260K.jsonl');

// `slm eval` on the test package with the bundled cases (once per process):
// {path, text} of the evidence.
let evaluated = null;
export function nativeEval() {
  if (evaluated) return evaluated;
  const out = path.join(OUT, 'native-evidence.json');
  execFileSync(CLI, ['eval', testPackage(), '--cases', CASES, '-o', out, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
  evaluated = { path: out, text: readFileSync(out, 'utf8') };
  return evaluated;
}

// A packet archive built by the native CLI from nativeEval() (once per process).
let packet = null;
export function nativePacket() {
  if (packet) return packet;
  packet = path.join(OUT, 'native-packet.tar');
  rmSync(packet, { force: true });
  execFileSync(CLI, ['release', 'build', '--evidence', nativeEval().path, '--model', testPackage(), '--cases', CASES, '-o', packet],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  return packet;
}

// `slm release verify` on a packet: {ok, output}.
export function nativeVerify(packetPath) {
  try {
    const output = execFileSync(CLI, ['release', 'verify', packetPath, '--model', testPackage(), '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, output };
  } catch (e) {
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

// The evidence without its `environment` and `timing` sections (what must be
// identical between builds and runs).
export function deterministicPart(evidenceText) {
  const e = JSON.parse(evidenceText);
  delete e.environment;
  delete e.timing;
  return e;
}

// Adapters made by the native CLI from the fine-tune fixture (tests/adapter):
// {lowrank} a rank-8 child of the test package, {wrongBase} one made for the
// int8 export of stories260K (same shapes, other weights).
let adapters = null;
export function testAdapters() {
  if (adapters) return adapters;
  const tok = path.join(MODELS, 'tok512.bin');
  const run = (args) => execFileSync(CLI, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const child = path.join(OUT, 'child.slm'), q8 = path.join(OUT, 'stories260K-q8.slm');
  run(['convert', requireFile(path.join(ROOT, 'tests/adapter/child.bin'), 'the fine-tune fixture'), '--tokenizer', tok, '-o', child]);
  run(['convert', requireFile(path.join(MODELS, 'stories260K-q8.bin'), 'set SLM_MODELS_DIR'), '--tokenizer', tok, '-o', q8]);
  const lowrank = path.join(OUT, 'child-lowrank.slm'), wrongBase = path.join(OUT, 'wrong-base.slm');
  for (const f of [lowrank, wrongBase]) rmSync(f, { force: true });
  run(['adapter', 'diff', testPackage(), child, '--kind', 'lowrank', '--rank', '8', '-o', lowrank]);
  run(['adapter', 'diff', q8, child, '--kind', 'lowrank', '--rank', '2', '-o', wrongBase]);
  adapters = { lowrank, wrongBase };
  return adapters;
}

// A stories110M-shaped random-weight package in the `mixed` policy (q4_k and
// q6_k matmuls, f32 norms: dims of 768 are whole 256-value super-blocks,
// which stories260K's 64 are not), made by `slm synth` (once per process,
// ~10 s), and the native CLI's logits after `ids`.
let kquant = null;
export function kquantPackage() {
  if (kquant) return kquant;
  const pkg = path.join(OUT, 's110m-mixed.slm');
  rmSync(pkg, { force: true });
  execFileSync(CLI, ['synth', '--preset', 's110m', '--type', 'mixed', '--seed', '7', '-o', pkg], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ids = Array.from({ length: 24 }, (_, i) => 1 + ((i * 977) % 31999));
  const out = execFileSync(CLI, ['logits', pkg, '--prompt-ids', ids.join(','), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  kquant = { pkg, ids, logits: JSON.parse(out).logits };
  return kquant;
}

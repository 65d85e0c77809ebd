#!/usr/bin/env node
// Side-by-side native benchmark: slm vs llama.cpp's llama-bench on the same
// seeded random-weight models, in one run. See bench/README.md.
//
//   node bench/native.mjs [--models s110m,tl1b] [--types q8_0,q4_0,q4_k]
//        [--threads 1,2] [--reps 2] [--pp 128] [--tg 128] [--seed 1]
//        [--no-llama] [--slm PATH/TO/slm] [--out build/bench]
//
// Steps (each skipped when its output already exists):
//   1. build slm (Release) in build/bench/slm
//   2. the peer: npm-install node-llama-cpp (bench/peers/package.json, scripts
//      ignored) into build/peers/npm, clone the llama.cpp git bundle it ships
//      into build/peers/llama.cpp, build llama-bench (CPU only, GGML_NATIVE)
//   3. bench/membw.cc: streaming-read bandwidth at each thread count
//   4. slm synth the models in both formats (same seed -> same weights)
//   5. llama-bench and slm bench, then the table of ratios (slm / llama.cpp)
//      and decode as a percentage of the bandwidth bound
//      (weight bytes read per token / bandwidth).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

import { buildLlamaCpp, flag, llamaCppVersion, log, opt, root, run, slmCli } from './peer.mjs';

const models = opt('--models', 's110m,tl1b').split(',');
const types = opt('--types', 'q8_0,q4_0,q4_k').split(',');
const threads = opt('--threads', '1,2').split(',').map(Number);
const reps = Number(opt('--reps', '2'));
const pp = Number(opt('--pp', '128'));
const tg = Number(opt('--tg', '128'));
const seed = opt('--seed', '1');
const withLlama = !flag('--no-llama');
const out = resolve(root, opt('--out', 'build/bench'));
const peers = join(root, 'build/peers');
mkdirSync(join(out, 'models'), { recursive: true });

// 1. slm
const slm = slmCli(out);

// 2. llama-bench
const llamaBench = join(peers, 'llama.cpp/build/bin/llama-bench');
if (withLlama && !existsSync(llamaBench)) buildLlamaCpp(root, ['llama-bench']);
const llamaVersion = withLlama ? llamaCppVersion(root) : 'not run';

// 3. bandwidth
const membw = join(out, 'membw');
run('c++', ['-O3', '-march=native', '-pthread', join(root, 'bench/membw.cc'), '-o', membw]);
const bw = {};
for (const t of threads) {
  bw[t] = JSON.parse(run(membw, ['1024', String(t), '5'])).gbps;
  log(`bandwidth ${t}T: ${bw[t]} GB/s`);
}

// 4. models
const file = (m, t, ext) => join(out, 'models', `${m}-${t}-seed${seed}.${ext}`);
for (const m of models) {
  for (const t of types) {
    for (const ext of ['gguf', 'slm']) {
      if (existsSync(file(m, t, ext))) continue;
      log(`synth ${m} ${t} ${ext}`);
      run(slm, ['synth', '--preset', m, '--type', t, '--format', ext, '--seed', seed, '-o', file(m, t, ext)]);
    }
  }
}

// 5. measure
const rows = [];
const la0 = loadavg()[0];
for (const m of models) {
  for (const t of types) {
    let llama = [];
    if (withLlama) {
      log(`llama-bench ${m} ${t}`);
      try {
        llama = JSON.parse(run(llamaBench, ['-m', file(m, t, 'gguf'), '-p', String(pp), '-n', String(tg),
          '-t', threads.join(','), '-r', String(reps), '-o', 'json']));
      } catch (e) { log(`llama-bench failed: ${e.message}`); }
    }
    for (const th of threads) {
      log(`slm bench ${m} ${t} ${th}T`);
      let s = null;
      try {
        s = JSON.parse(run(slm, ['bench', file(m, t, 'slm'), '--prompt-tokens', String(pp), '--gen', String(tg),
          '--reps', String(reps), '--threads', String(th), '--json']));
      } catch (e) { log(`slm bench failed: ${e.message}`); }
      const l = (n_prompt, n_gen) =>
        llama.find((r) => r.n_threads === th && r.n_prompt === n_prompt && r.n_gen === n_gen)?.avg_ts ?? null;
      const bound = s ? (bw[th] * 1e9) / s.weight_bytes_per_token : null;
      rows.push({
        model: m, type: t, threads: th,
        llama_pp: l(pp, 0), slm_pp: s?.prefill_tok_s ?? null,
        llama_tg: l(0, tg), slm_tg: s?.decode_tok_s ?? null,
        bound_tg: bound, kernels: s?.kernels ?? '', peak_rss: s?.peak_rss_bytes ?? null,
        file_size: s?.file_size ?? null,
      });
    }
  }
}

// Table.
const f = (v, d = 1) => (v == null ? '—' : v.toFixed(d));
const ratio = (a, b) => (a == null || b == null ? '—' : (a / b).toFixed(2));
const pct = (a, b) => (a == null || b == null ? '—' : `${((100 * a) / b).toFixed(0)}%`);
const lines = [];
lines.push(`| model | type | thr | prefill llama.cpp | prefill slm | ratio | decode llama.cpp | decode slm | ratio | decode bound | slm % of bound | llama.cpp % of bound | slm kernels | slm peak RSS |`);
lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  lines.push(`| ${r.model} | ${r.type} | ${r.threads} | ${f(r.llama_pp)} | ${f(r.slm_pp)} | ${ratio(r.slm_pp, r.llama_pp)} | ` +
    `${f(r.llama_tg)} | ${f(r.slm_tg)} | ${ratio(r.slm_tg, r.llama_tg)} | ${f(r.bound_tg)} | ${pct(r.slm_tg, r.bound_tg)} | ` +
    `${pct(r.llama_tg, r.bound_tg)} | ${r.kernels} | ${r.peak_rss == null ? '—' : (r.peak_rss / 1048576).toFixed(0) + ' MiB'} |`);
}
let cpu = cpus()[0]?.model ?? 'unknown CPU';
const head = [
  `date: ${new Date().toISOString()}`,
  `cpu: ${cpu} (${cpus().length} logical CPUs)`,
  `slm: ${run('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).trim()}; peer: ${llamaVersion}`,
  `tokens: prefill ${pp}, decode ${tg} from an empty context; reps ${reps}; seed ${seed}`,
  `bandwidth (bench/membw.cc, 1 GiB streaming read): ${threads.map((t) => `${t}T ${bw[t]} GB/s`).join(', ')}`,
  `load average (1 min) at start / end of the measurements: ${la0.toFixed(1)} / ${loadavg()[0].toFixed(1)}`,
];
const md = head.map((h) => `- ${h}`).join('\n') + '\n\n' + lines.join('\n') + '\n';
writeFileSync(join(out, 'results.md'), md);
writeFileSync(join(out, 'results.json'), JSON.stringify({ head, bw, rows }, null, 1));
console.log(md);

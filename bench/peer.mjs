// The peer for bench/native.mjs and bench/agree.mjs: llama.cpp built from the
// source bundle the pinned node-llama-cpp npm package ships (bench/README.md).
// Each step is skipped when its output exists; nothing is committed.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository, and opt(name, default) over this process's flags.
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
export const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
export const flag = (name) => args.includes(name);

export const log = (...m) => console.error('[bench]', ...m);
export const run = (cmd, argv, o = {}) =>
  execFileSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'], ...o });

// The slm CLI: --slm PATH if given, else a Release build in dir/slm.
export function slmCli(dir) {
  if (opt('--slm', null)) return resolve(opt('--slm'));
  const b = join(dir, 'slm');
  log('building slm (Release)');
  run('cmake', ['-S', root, '-B', b, '-DCMAKE_BUILD_TYPE=Release', '-DSLM_BUILD_TESTS=OFF']);
  run('cmake', ['--build', b, '-j2', '--target', 'slm_cli']);
  return join(b, 'tools/cli/slm');
}

// Clones and configures llama.cpp (CPU only, static libraries) under
// root/build/peers and builds `targets`; returns its source directory.
export function buildLlamaCpp(root, targets) {
  const peers = join(root, 'build/peers');
  const npmDir = join(peers, 'npm');
  const bundle = join(npmDir, 'node_modules/node-llama-cpp/llama/gitRelease.bundle');
  if (!existsSync(bundle)) {
    log('installing node-llama-cpp (for its llama.cpp source bundle)');
    mkdirSync(npmDir, { recursive: true });
    copyFileSync(join(root, 'bench/peers/package.json'), join(npmDir, 'package.json'));
    run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: npmDir });
  }
  const src = join(peers, 'llama.cpp');
  if (!existsSync(join(src, 'CMakeLists.txt'))) run('git', ['clone', '-q', bundle, src]);
  if (!existsSync(join(src, 'build/CMakeCache.txt'))) {
    run('cmake', ['-S', src, '-B', join(src, 'build'), '-DCMAKE_BUILD_TYPE=Release', '-DGGML_NATIVE=ON',
      '-DLLAMA_CURL=OFF', '-DLLAMA_BUILD_SERVER=OFF', '-DLLAMA_BUILD_TESTS=OFF',
      '-DLLAMA_BUILD_EXAMPLES=OFF', '-DBUILD_SHARED_LIBS=OFF', '-DLLAMA_OPENSSL=OFF']);
  }
  log(`building llama.cpp ${targets.join(', ')} (CPU only; slow on 2 cores the first time)`);
  run('cmake', ['--build', join(src, 'build'), '-j2', '--target', ...targets]);
  return src;
}

// "llama.cpp <tag> from node-llama-cpp <version>".
export function llamaCppVersion(root) {
  const npm = join(root, 'build/peers/npm/node_modules/node-llama-cpp');
  try {
    const info = JSON.parse(readFileSync(join(npm, 'llama/llama.cpp.info.json'), 'utf8'));
    const pkg = JSON.parse(readFileSync(join(npm, 'package.json'), 'utf8'));
    return `llama.cpp ${info.tag} from node-llama-cpp ${pkg.version}`;
  } catch {
    return 'llama.cpp (version unknown)';
  }
}

// Runs a wasm32-wasi command module under Node's node:wasi with a models
// directory preopened as /models:  node run.mjs PROGRAM.wasm MODELS_DIR [args...]
// Exit code = the program's.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [wasmPath, modelsDir, ...args] = process.argv.slice(2);
if (!wasmPath || !modelsDir) {
  console.error('usage: node run.mjs PROGRAM.wasm MODELS_DIR [args...]');
  process.exit(2);
}
const wasi = new WASI({
  version: 'preview1',
  args: [wasmPath, ...args],
  env: {},
  preopens: { '/models': modelsDir },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);

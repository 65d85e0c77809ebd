#!/usr/bin/env bash
# The whole test suite: native release build + tests, the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the wasm32-wasi (SIMD128)
# build of the runtime library.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/models.sh
require_models stories260K.bin stories260K-q8.bin stories260K.gguf tok512.bin
scripts/setup.sh --wasm
jobs="$(nproc)"

# The wasm build comes first: the native Determinism.WasmSimd128AndScalarMatchNativeScalar
# test runs build/wasm/src/slm_determinism_wasm.wasm under node:wasi.
echo "== wasm32-wasi + SIMD128 (runtime library, reactor modules and the determinism program)"
cmake --preset wasm >/dev/null
cmake --build --preset wasm -j"$jobs"

echo "== native release"
cmake --preset release >/dev/null
cmake --build --preset release -j"$jobs"
ctest --preset release -j"$jobs"

echo "== native debug + ASan + UBSan"
cmake --preset asan >/dev/null
cmake --build --preset asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j"$jobs"

echo "== bounded fuzzing (libFuzzer + ASan + UBSan, every parser; scripts/fuzz.sh)"
# 15 targets x SLM_FUZZ_SECONDS (default 20 s) = 5 min, + the clang-19 build (~3-5 min).
scripts/fuzz.sh "${SLM_FUZZ_SECONDS:-20}"

echo "== browser: web/slm.js under Node, the workbench in Chromium (tests/web)"
scripts/setup.sh --browser
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$node_major" -lt 20 ]]; then
  echo "error: Node.js >= 20 is needed for the browser tests (found $(node --version))" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
SLM_CLI="$PWD/build/release/tools/cli/slm" SLM_WASM_DIR="$PWD/build/wasm/web" \
  SLM_WEB_ARTIFACTS="$PWD/build/web-artifacts" node --test --test-concurrency=1 tests/web/
echo "test.sh: all passed"

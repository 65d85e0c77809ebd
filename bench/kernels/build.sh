#!/usr/bin/env bash
# Builds the kernel labs against a release libslm.a: bench/kernels/build.sh [BUILD_DIR]
# (default build/release; configure it with -DCMAKE_BUILD_TYPE=Release first).
# -O3 like the Release library; vnni_lab.cc includes the AVX-512 kernel sources
# and gets that folder's flags (it needs an AVX-512 VNNI CPU to run).
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/release}"
cmake --build "$build" --target slm -j2
avx512="-mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vnni"
# wasm_lab.cc is the SIMD128 lab: build it against a wasm libslm.a instead:
#   clang++-19 --target=wasm32-wasi --sysroot=/usr -msimd128 -O3 -std=c++20 -fno-exceptions \
#     -ffp-contract=off -Isrc bench/kernels/wasm_lab.cc WASM_BUILD/src/libslm.a -fuse-ld=lld -o wasm_lab.wasm
#   node tests/wasm/run.mjs wasm_lab.wasm /tmp
for src in bench/kernels/*.cc; do
  [[ "$src" == *wasm_lab.cc ]] && continue
  out="$build/bench/$(basename "${src%.cc}")"
  flags=""
  [[ "$src" == *vnni_lab.cc ]] && flags="$avx512"
  mkdir -p "$(dirname "$out")"
  # shellcheck disable=SC2086
  g++ -std=c++20 -O3 -fno-exceptions -ffp-contract=off $flags -Isrc "$src" "$build/src/libslm.a" -lpthread -o "$out"
  echo "built $out"
done

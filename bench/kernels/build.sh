#!/usr/bin/env bash
# Builds the kernel lab against a release libslm.a: bench/kernels/build.sh [BUILD_DIR]
# (default build/release; configure it with -DCMAKE_BUILD_TYPE=Release first).
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/release}"
cmake --build "$build" --target slm -j"$(nproc)"
for src in bench/kernels/*.cc; do
  out="$build/bench/$(basename "${src%.cc}")"
  mkdir -p "$(dirname "$out")"
  g++ -std=c++20 -O2 -fno-exceptions -ffp-contract=off -Isrc "$src" "$build/src/libslm.a" -lpthread -o "$out"
  echo "built $out"
done

#!/usr/bin/env bash
# Builds the KV cache benchmark against a release libslm.a:
#   bench/kv/build.sh [BUILD_DIR]   (default build/release, configured Release)
# then: BUILD_DIR/bench/kv_bench prefix | batch [--threads N] [--group G]
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build/release}"
cmake --build "$build" --target slm -j2
out="$build/bench/kv_bench"
mkdir -p "$(dirname "$out")"
g++ -std=c++20 -O2 -fno-exceptions -ffp-contract=off -Isrc bench/kv/kv_bench.cc \
  "$build/src/libslm.a" -lpthread -o "$out"
echo "built $out"

#!/usr/bin/env bash
# The main job on the bundled default model: install what is missing, build,
# convert stories260K (llama2.c checkpoint + tokenizer) into a .slm package,
# inspect it and generate from it. Then one round of breeding: derive a child
# adapter from the project's fine-tune fixture (tests/adapter), evaluate base
# and child on the bundled cases, compare their fitness vectors, and build a
# release packet for the child and verify it by replaying every case.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/models.sh
require_models stories260K.bin tok512.bin
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target slm_cli
slm=build/release/tools/cli/slm
tok="$SLM_MODELS_DIR/tok512.bin"
mkdir -p out
$slm convert "$SLM_MODELS_DIR/stories260K.bin" --tokenizer "$tok" -o out/stories260K.slm
$slm validate out/stories260K.slm
$slm inspect out/stories260K.slm | sed -n '1,12p'
echo "--- slm generate out/stories260K.slm -n 120 (greedy from BOS)"
$slm generate out/stories260K.slm -n 120

echo "--- a child: the fine-tuned fixture as a low-rank adapter keeping 90% of the delta's energy"
$slm convert tests/adapter/child.bin --tokenizer "$tok" -o out/child-full.slm >/dev/null
rm -f out/child.slm
$slm adapter diff out/stories260K.slm out/child-full.slm --kind lowrank --energy 0.9 \
  --name "pip-the-frog" -o out/child.slm | tail -n 2
$slm adapter validate out/stories260K.slm out/child.slm
$slm adapter inspect out/child.slm | sed -n '1,8p'

echo "--- slm eval: base and child on the bundled cases (tests/data/eval/breeding.jsonl)"
cases=tests/data/eval/breeding.jsonl
$slm eval out/stories260K.slm --cases $cases -o out/eval-base.json
$slm eval out/stories260K.slm --adapter out/child.slm --cases $cases -o out/eval-child.json
echo "--- slm eval-compare base vs child"
$slm eval-compare out/eval-base.json out/eval-child.json --svg out/eval-compare.svg

echo "--- slm release build + verify (the child: base digest, adapter, cases, evidence)"
rm -rf out/child-packet.tar
$slm release build --evidence out/eval-child.json --model out/stories260K.slm \
  --adapter out/child.slm --cases $cases -o out/child-packet.tar
$slm release verify out/child-packet.tar --model out/stories260K.slm

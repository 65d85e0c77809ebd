#!/usr/bin/env bash
# The main job on the bundled default model: install what is missing, build,
# convert stories260K (llama2.c checkpoint + tokenizer) into a .slm package,
# inspect it, generate from it (greedy, from BOS), then run the evaluation loop:
# evaluate it on the bundled cases, compare with a sampled run, build a release
# packet and verify it by replaying every case.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/models.sh
require_models stories260K.bin tok512.bin
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target slm_cli
slm=build/release/tools/cli/slm
mkdir -p out
$slm convert "$SLM_MODELS_DIR/stories260K.bin" --tokenizer "$SLM_MODELS_DIR/tok512.bin" -o out/stories260K.slm
$slm validate out/stories260K.slm
$slm inspect out/stories260K.slm | head -12
echo "--- slm generate out/stories260K.slm -n 200 (greedy from BOS)"
$slm generate out/stories260K.slm -n 200
echo "--- slm eval: the bundled cases (tests/data/eval/stories260K.jsonl)"
cases=tests/data/eval/stories260K.jsonl
$slm eval out/stories260K.slm --cases $cases -o out/eval-greedy.json
$slm eval out/stories260K.slm --cases $cases --temp 0.8 --seed 7 --quiet -o out/eval-sampled.json
echo "--- slm eval-compare greedy vs sampled"
$slm eval-compare out/eval-greedy.json out/eval-sampled.json --svg out/eval-compare.svg
echo "--- slm release build + verify"
rm -rf out/packet
$slm release build --evidence out/eval-greedy.json --model out/stories260K.slm --cases $cases -o out/packet
$slm release verify out/packet --model out/stories260K.slm

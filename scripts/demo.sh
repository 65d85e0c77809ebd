#!/usr/bin/env bash
# The main job on the bundled default model: install what is missing, build,
# convert stories260K (llama2.c checkpoint + tokenizer) into a .slm package,
# inspect it, and generate from it (greedy, from BOS).
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

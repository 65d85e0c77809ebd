#!/usr/bin/env bash
# Installs what is missing on a fresh Debian 12 machine (as root, or via sudo).
#   scripts/setup.sh           native toolchain: cmake, g++, GoogleTest
#   scripts/setup.sh --wasm    also Debian's clang-19 wasm32-wasi toolchain
#   scripts/setup.sh --browser also the browser tests' tools: Debian's Chromium,
#                              llvm-19 (llvm-objdump) and Node.js >= 20 with npm
set -euo pipefail

pkgs=(cmake g++ make libgtest-dev)
if [[ "${1:-}" == "--wasm" ]]; then
  pkgs+=(clang-19 lld-19 wasi-libc libc++-19-dev-wasm32 libc++abi-19-dev-wasm32
         libclang-rt-19-dev-wasm32)
fi

if [[ "${1:-}" == "--browser" ]]; then
  pkgs=(chromium llvm-19)
  # Node.js: playwright-core needs >= 20 (Debian 12's nodejs is 18, so a newer
  # one may already be installed from elsewhere; only install when absent).
  if ! command -v node >/dev/null 2>&1; then pkgs+=(nodejs npm); fi
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null

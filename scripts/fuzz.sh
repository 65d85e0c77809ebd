#!/usr/bin/env bash
# Bounded libFuzzer runs over every parser (tests/fuzz/fuzz_*.cc).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default 60 s, all targets
# Builds build/fuzz with clang-19 (-fsanitize=fuzzer,address,undefined, the
# whole library instrumented), then runs each target for SECONDS with its seed
# corpus (tests/fuzz/corpus/<t>) and regression inputs (tests/fuzz/regressions/<t>);
# new coverage accumulates in build/fuzz/corpus/<t>. Allocations above
# SLM_FUZZ_MALLOC_MB (default 512) count as crashes: a parser must refuse a
# claimed size before allocating it. A crash is minimised (-minimize_crash=1)
# and kept as tests/fuzz/regressions/<t>/crash-<sha1> (commit it with the fix);
# the script then fails. Executions per run are appended to
# build/fuzz/execs.tsv (target, seconds, execs, result).
# SLM_FUZZ_NO_BUILD=1 skips the configure + build step (the binaries in
# build/fuzz are used as they are: long campaigns while the sources change).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/models.sh
require_models tok512.bin ggml-vocab-llama-spm.gguf ggml-vocab-gpt-2.gguf stories260K.bin

secs="${1:-60}"
shift || true

# Toolchain: clang-19 and its compiler-rt (libFuzzer + sanitizer runtimes).
pkgs=(clang-19 libclang-rt-19-dev cmake make)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [[ ${#missing[@]} -ne 0 ]]; then
  echo "fuzz: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

out=build/fuzz
if [[ "${SLM_FUZZ_NO_BUILD:-0}" != 1 ]]; then
flags="-O2 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE= \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DSLM_FUZZ_LIBFUZZER=ON -DSLM_BUILD_TOOLS=OFF -DSLM_WERROR=OFF \
  -DSLM_MODELS_DIR="$SLM_MODELS_DIR" >/dev/null
cmake --build "$out" --target fuzzers -j"$(nproc)"
fi

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  targets=()
  for f in tests/fuzz/fuzz_*.cc; do
    t="${f##*/fuzz_}"
    targets+=("${t%.cc}")
  done
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
malloc_mb="${SLM_FUZZ_MALLOC_MB:-512}"
failed=()
for t in "${targets[@]}"; do
  bin="$out/tests/fuzz/fuzz_$t"
  work="$out/corpus/$t"
  art="$out/artifacts/$t"
  mkdir -p "$work" "$art" "tests/fuzz/regressions/$t"
  log="$out/$t.log"
  echo "== fuzz $t (${secs}s)"
  set +e
  "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb="$malloc_mb" \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/" \
    "$work" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)"
  result=ok
  if [[ $rc -ne 0 ]]; then
    result=crash
    failed+=("$t")
    tail -n 60 "$log" >&2
    for c in "$art"/crash-* "$art"/leak-* "$art"/oom-* "$art"/timeout-*; do
      [[ -f "$c" ]] || continue
      min="$art/min-$(basename "$c")"
      kind=crash
      if [[ "$(basename "$c")" == timeout-* ]]; then
        # A hang: kept as found (minimising would rerun it thousands of times).
        kind=timeout
        min="$c"
      else
        "$bin" -minimize_crash=1 -runs=20000 -timeout=20 -malloc_limit_mb="$malloc_mb" \
          -exact_artifact_path="$min" "$c" >"$log.min" 2>&1 || true
      fi
      [[ -f "$min" ]] || min="$c"
      keep="tests/fuzz/regressions/$t/$kind-$(sha1sum "$min" | cut -c1-16)"
      cp "$min" "$keep"
      echo "fuzz: $t: kept minimised input as $keep" >&2
      rm -f "$c"
    done
  fi
  printf '%s\t%s\t%s\t%s\n' "$t" "$secs" "${execs:-0}" "$result" >>"$out/execs.tsv"
  echo "   $t: ${execs:-?} executions, $result"
done

if [[ ${#failed[@]} -ne 0 ]]; then
  echo "fuzz: crashes in: ${failed[*]} (see $out/<target>.log)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, no crash"

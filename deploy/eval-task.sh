#!/usr/bin/env bash
# One task of a population evaluation: candidate C, shard S of M.
# The task index (0 .. N*M-1) comes from the batch engine:
#   Kubernetes Indexed Job: JOB_COMPLETION_INDEX;  Slurm array: SLURM_ARRAY_TASK_ID;
#   or TASK_INDEX when run by hand.  candidate = index / M, shard = index % M.
# Environment:
#   CANDIDATES  file with one package path per line (N = its number of non-empty lines)
#   CASES       the cases file (JSONL, docs/eval.md)
#   SHARDS      M, shards per candidate
#   OUT         output directory (shared by all tasks)
#   SLM         the slm binary (default: slm on PATH)
#   EVAL_FLAGS  extra flags for slm eval, e.g. "--temp 0.8 --seed 7" (default: greedy)
# Writes $OUT/<name>/shard-S-of-M.json, <name> = c<C>-<package file name without .slm>.
set -euo pipefail
: "${CANDIDATES:?}" "${CASES:?}" "${SHARDS:?}" "${OUT:?}"
SLM=${SLM:-slm}
index=${TASK_INDEX:-${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:?no task index (TASK_INDEX, JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID)}}}
mapfile -t pkgs < <(grep -v '^[[:space:]]*$' "$CANDIDATES")
n=${#pkgs[@]}
c=$((index / SHARDS)); s=$((index % SHARDS))
if (( c >= n )); then echo "task $index: only $n candidates x $SHARDS shards" >&2; exit 2; fi
pkg=${pkgs[$c]}
name="c${c}-$(basename "$pkg" .slm)"
mkdir -p "$OUT/$name"
# shellcheck disable=SC2086  # EVAL_FLAGS is a flag list
"$SLM" eval "$pkg" --cases "$CASES" --shard "$s/$SHARDS" --quiet ${EVAL_FLAGS:-} \
  -o "$OUT/$name/shard-$s-of-$SHARDS.json"
echo "task $index: $name shard $s/$SHARDS done"

#!/usr/bin/env bash
# Usage: CANDIDATES=cands.txt CASES=cases.jsonl SHARDS=8 OUT=/shared/out \
#        SLM=/path/to/slm deploy/slurm/submit.sh
# Submits the N*M array, then the merge job with afterok on the whole array.
set -euo pipefail
: "${CANDIDATES:?}" "${CASES:?}" "${SHARDS:?}" "${OUT:?}"
here=$(cd "$(dirname "$0")" && pwd)
export DEPLOY_DIR=$(cd "$here/.." && pwd) CANDIDATES CASES SHARDS OUT SLM=${SLM:-slm} EVAL_FLAGS=${EVAL_FLAGS:-}
n=$(grep -cv '^[[:space:]]*$' "$CANDIDATES")
mkdir -p "$OUT"
array=$(sbatch --parsable --export=ALL --array=0-$((n * SHARDS - 1))%"${MAX_PARALLEL:-64}" "$here/eval-array.sbatch")
merge=$(sbatch --parsable --export=ALL --dependency=afterok:"$array" --job-name=slm-eval-merge \
  --output=slm-eval-merge-%j.log --wrap "$DEPLOY_DIR/merge.sh")
echo "submitted eval array $array ($n candidates x $SHARDS shards) and merge job $merge"
echo "results: $OUT/<candidate>.json, $OUT/compare.txt, $OUT/compare.svg"

#!/usr/bin/env bash
# The same N x M task grid on one machine, PARALLEL tasks at a time: a dry run
# of the cluster job, and the way the deploy scripts are tested.
# Usage: CANDIDATES=... CASES=... SHARDS=M OUT=dir [PARALLEL=4] [SLM=...] deploy/run-local.sh
set -euo pipefail
: "${CANDIDATES:?}" "${SHARDS:?}"
here=$(cd "$(dirname "$0")" && pwd)
n=$(grep -cv '^[[:space:]]*$' "$CANDIDATES")
total=$((n * SHARDS))
seq 0 $((total - 1)) | xargs -P "${PARALLEL:-4}" -I{} env TASK_INDEX={} "$here/eval-task.sh"
"$here/merge.sh"

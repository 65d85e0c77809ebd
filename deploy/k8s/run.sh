#!/usr/bin/env bash
# Submit the eval grid, wait for it, then merge and compare.
# Edit completions/SHARDS in the two manifests first (completions = N * M).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubectl delete job slm-eval slm-eval-merge --ignore-not-found
kubectl apply -f "$here/eval-indexed-job.yaml"
kubectl wait --for=condition=complete job/slm-eval --timeout="${TIMEOUT:-24h}"
kubectl apply -f "$here/merge-job.yaml"
kubectl wait --for=condition=complete job/slm-eval-merge --timeout=1h
kubectl logs job/slm-eval-merge

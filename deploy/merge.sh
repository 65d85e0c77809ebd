#!/usr/bin/env bash
# After every eval task: merge each candidate's shards into $OUT/<name>.json
# (identical to a single-process run outside environment/timing) and compare
# all candidates into $OUT/compare.txt and $OUT/compare.svg.
# Environment: CANDIDATES, SHARDS, OUT, SLM as for eval-task.sh.
set -euo pipefail
: "${CANDIDATES:?}" "${SHARDS:?}" "${OUT:?}"
SLM=${SLM:-slm}
mapfile -t pkgs < <(grep -v '^[[:space:]]*$' "$CANDIDATES")
merged=()
for c in "${!pkgs[@]}"; do
  name="c${c}-$(basename "${pkgs[$c]}" .slm)"
  shards=()
  for ((s = 0; s < SHARDS; s++)); do shards+=("$OUT/$name/shard-$s-of-$SHARDS.json"); done
  "$SLM" evidence merge "${shards[@]}" -o "$OUT/$name.json"
  merged+=("$OUT/$name.json")
done
"$SLM" eval-compare "${merged[@]}" --svg "$OUT/compare.svg" | tee "$OUT/compare.txt"

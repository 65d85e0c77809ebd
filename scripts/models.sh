#!/usr/bin/env bash
# Sourced by the other scripts: locates SLM_MODELS_DIR and checks the files a
# step needs, saying exactly what to fetch and where when one is missing.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SLM_MODELS_DIR="${SLM_MODELS_DIR:-$here/../shared/models}"

require_models() {
  local missing=0
  for f in "$@"; do
    if [[ ! -f "$SLM_MODELS_DIR/$f" ]]; then
      echo "error: missing model file $SLM_MODELS_DIR/$f" >&2
      missing=1
    fi
  done
  if [[ $missing -ne 0 ]]; then
    cat >&2 <<MSG
Models are read from SLM_MODELS_DIR (now: $SLM_MODELS_DIR).
Get stories260K.bin and tok512.bin from the Hugging Face repo karpathy/tinyllamas
(folder stories260K/), put them in that directory (or point SLM_MODELS_DIR at the
directory that has them), and run again. The test suite also uses the files listed
in ../shared/models/SOURCES.md (GGUF vocab files and their .inp/.out vectors).
MSG
    exit 1
  fi
}

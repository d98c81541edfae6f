#!/usr/bin/env bash
# Times tools/install.sh into a fresh virtual environment, with the mmcv wheel cache
# (the usual case) and, with --cold, also with an empty cache (mmcv is compiled).
#   bash benchmarks/install_time.sh [--cold] [--out benchmarks/install_time.json]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COLD=0
OUT="$ROOT/benchmarks/install_time.json"
while [ $# -gt 0 ]; do
  case "$1" in
    --cold) COLD=1 ;;
    --out) OUT="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

time_install() {  # $1 label, $2 cache dir
  local start=$SECONDS
  MMRAZOR_VENV="$scratch/venv-$1" MMRAZOR_CACHE="$2" bash "$ROOT/tools/install.sh" \
    >"$scratch/$1.log" 2>&1 || { tail -20 "$scratch/$1.log" >&2; exit 1; }
  echo $((SECONDS - start))
}

warm=$(time_install warm "${MMRAZOR_CACHE:-$HOME/.cache/mmrazor}")
cold=null
if [ "$COLD" = 1 ]; then
  cold=$(time_install cold "$scratch/empty-cache")
fi
printf '| install | wall time (s) |\n|---|---|\n| mmcv wheel cached | %s |\n| empty cache (mmcv compiled) | %s |\n' "$warm" "$cold"
printf '{"cached_s": %s, "cold_s": %s, "nproc": %s}\n' "$warm" "$cold" "$(nproc)" > "$OUT"
echo "wrote $OUT"

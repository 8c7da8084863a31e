#!/usr/bin/env bash
# Run QEMU's checkpatch.pl on every patch of the series: 0 errors, 0 warnings.
# Usage: checkpatch.sh [RESULTS_FILE]
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
RESULTS=${1:-/dev/null}
CP=$QEMU_TREE/scripts/checkpatch.pl
[ -x "$CP" ] || { echo "checkpatch: $CP missing; run 'make tree'" >&2; exit 1; }

fail=0 n=0
while read -r p; do
    case "$p" in ''|\#*) continue ;; esac
    n=$((n + 1))
    out=$(cd "$QEMU_TREE" && ./scripts/checkpatch.pl --no-color "$PATCHES/$p" 2>&1) || true
    total=$(printf '%s\n' "$out" | grep -E '^total:' || echo "total: ? errors")
    if printf '%s\n' "$total" | grep -q '^total: 0 errors, 0 warnings'; then
        echo "PASS checkpatch $p"
        echo "PASS checkpatch/$p" >>"$RESULTS"
    else
        printf '%s\n' "$out" | grep -E -A4 '^(ERROR|WARNING)' | head -n 40
        echo "FAIL checkpatch $p: $total"
        echo "FAIL checkpatch/$p" >>"$RESULTS"
        fail=1
    fi
done < <(cat "$PATCHES/series" 2>/dev/null)
echo "checkpatch: $n patches checked"
exit $fail

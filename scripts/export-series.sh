#!/usr/bin/env bash
# Write the commits of build/qemu after the base as a git format-patch series.
# Usage: export-series.sh OUTDIR
# The output depends only on the commits: zero commit ids, full blob ids, no
# numbering, no git version signature.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
TREE=$QEMU_TREE
OUT=$1

[ -d "$TREE/.git" ] || { echo "series: no $TREE; run 'make tree' first" >&2; exit 1; }
mkdir -p "$OUT"
rm -f "$OUT"/*.patch "$OUT/series"
git -C "$TREE" -c core.abbrev=12 -c diff.noprefix=false -c format.signoff=false \
    format-patch -q --zero-commit --no-signature --no-numbered --full-index \
    --no-attach --no-thread --encoding=UTF-8 -o "$OUT" base..HEAD >/dev/null
(cd "$OUT" && ls -1 -- *.patch 2>/dev/null || true) >"$OUT/series"

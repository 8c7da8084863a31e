#!/usr/bin/env bash
# Fail when the work tree (build/qemu) holds commits or uncommitted changes
# that the series (patches/) does not, or the other way round.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
TREE=$QEMU_TREE
T=${TREE#"$TOP"/} P=${PATCHES#"$TOP"/}
[ -d "$TREE/.git" ] || { echo "series-check: no $T, nothing to compare"; exit 0; }

dirty=$(git -C "$TREE" status --porcelain --untracked-files=normal)
if [ -n "$dirty" ]; then
    echo "series-check: $T has uncommitted changes:" >&2
    printf '%s\n' "$dirty" | head -n 20 >&2
    echo "series-check: commit them in $T, then 'make series'" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$TOP/scripts/export-series.sh" "$tmp"
mkdir -p "$PATCHES"
if ! diff -r -q "$tmp" "$PATCHES" >"$tmp.diff" 2>&1; then
    sed 's,'"$tmp"','"$T"',; s,'"$TOP"'/,,' "$tmp.diff" >&2
    rm -f "$tmp.diff"
    echo "series-check: $T and $P/ differ; 'make series' exports the tree," >&2
    echo "series-check: 'make tree' re-applies $P/ when the tree holds no work of its own" >&2
    exit 1
fi
rm -f "$tmp.diff"
echo "series-check: $P/ matches $T ($(git -C "$TREE" rev-list --count base..HEAD) commits)"

#!/usr/bin/env bash
# Fail when build/qemu holds commits or uncommitted changes that patches/ does
# not (or the other way round).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
TREE=$TOP/build/qemu
[ -d "$TREE/.git" ] || { echo "series-check: no build/qemu, nothing to compare"; exit 0; }

dirty=$(git -C "$TREE" status --porcelain --untracked-files=normal)
if [ -n "$dirty" ]; then
    echo "series-check: build/qemu has uncommitted changes:" >&2
    printf '%s\n' "$dirty" | head -n 20 >&2
    echo "series-check: commit them in build/qemu, then 'make series'" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$TOP/scripts/export-series.sh" "$tmp"
mkdir -p "$TOP/patches"
if ! diff -r -q "$tmp" "$TOP/patches" >"$tmp.diff" 2>&1; then
    sed 's,'"$tmp"',build/qemu,; s,'"$TOP"'/,,' "$tmp.diff" >&2
    rm -f "$tmp.diff"
    echo "series-check: build/qemu and patches/ differ; 'make series' exports the tree," >&2
    echo "series-check: 'make tree' re-applies patches/ when the tree holds no work of its own" >&2
    exit 1
fi
rm -f "$tmp.diff"
echo "series-check: patches/ matches build/qemu ($(git -C "$TREE" rev-list --count base..HEAD) commits)"

#!/usr/bin/env bash
# Write the commits of the work tree after the base as a git format-patch
# series, with its cover letter.
# Usage: export-series.sh OUTDIR
# The output depends only on the commits and on the cover letter's text: zero
# commit ids, full blob ids, no numbering, no git version signature. The
# cover letter's subject and text are kept from the series' own
# 0000-cover-letter.patch (edit them there); its shortlog and diffstat are
# made anew. The series file lists the patches to apply, not the letter.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
TREE=$QEMU_TREE
OUT=$1
COVER=$PATCHES/0000-cover-letter.patch

[ -d "$TREE/.git" ] || { echo "series: no $TREE; run 'make tree' first" >&2; exit 1; }
mkdir -p "$OUT"
saved=
if [ -f "$COVER" ]; then
    saved=$(mktemp)
    cp "$COVER" "$saved"
fi
rm -f "$OUT"/*.patch "$OUT/series"
letter=()
[ -n "$saved" ] && letter=(--cover-letter)
git -C "$TREE" -c core.abbrev=12 -c diff.noprefix=false -c format.signoff=false \
    format-patch -q --zero-commit --no-signature --no-numbered --full-index \
    --no-attach --no-thread --encoding=UTF-8 "${letter[@]}" -o "$OUT" base..HEAD >/dev/null
if [ -n "$saved" ]; then
    python3 - "$saved" "$OUT/0000-cover-letter.patch" "$BASE_DATE" <<'PY'
import email.utils, re, sys
from datetime import datetime
old, new, date = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3]
subject = re.search(r'^Subject: \[PATCH[^\]]*\] (.*(?:\n .*)*)', old, re.M).group(1)
head, body = old.split('\n\n', 1)
# the text runs to the shortlog ("Name (N):") that format-patch writes
blurb = re.split(r'^\S.* \(\d+\):$', body, maxsplit=1, flags=re.M)[0].rstrip('\n')
when = email.utils.format_datetime(datetime.fromisoformat(date.replace('Z', '+00:00')))
new = re.sub(r'^Date: .*$', 'Date: ' + when, new, count=1, flags=re.M)
new = new.replace('*** SUBJECT HERE ***', subject, 1)
new = new.replace('*** BLURB HERE ***', blurb, 1)
open(sys.argv[2], 'w').write(new)
PY
    rm -f "$saved"
fi
(cd "$OUT" && ls -1 -- *.patch 2>/dev/null | grep -v '^0000-cover-letter\.patch$' || true) >"$OUT/series"

#!/usr/bin/env bash
# Fetch the base (scripts/base.sh: QEMU 10.2.2) as shipped in Debian's
# source package `qemu` (the orig
# tarball only; Debian's patch stack is not used), verify it and cache it in
# build/. QEMU_TARBALL=/path/to/the-orig-tarball skips the download; when the
# archive no longer serves the version, a verified copy in ../shared/base/ is
# used.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
NAME=$BASE_TARBALL
OUT=$BDIR/$NAME

verify() {
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$got" != "$BASE_SHA256" ]; then
        echo "fetch-base: checksum mismatch for $1" >&2
        echo "fetch-base:   expected $BASE_SHA256" >&2
        echo "fetch-base:   got      $got" >&2
        echo "fetch-base: this is not Debian's $NAME; remove it or point QEMU_TARBALL at the right file" >&2
        return 1
    fi
}

mkdir -p "$BDIR"
if [ -n "${QEMU_TARBALL:-}" ]; then
    [ -f "$QEMU_TARBALL" ] || { echo "fetch-base: QEMU_TARBALL=$QEMU_TARBALL does not exist" >&2; exit 1; }
    verify "$QEMU_TARBALL"
    [ "$(readlink -f "$QEMU_TARBALL")" = "$(readlink -f "$OUT")" ] || cp "$QEMU_TARBALL" "$OUT.tmp"
    [ -f "$OUT.tmp" ] && mv "$OUT.tmp" "$OUT"
    echo "fetch-base: using $QEMU_TARBALL"
    exit 0
fi

if [ -f "$OUT" ]; then
    verify "$OUT"
    exit 0
fi

echo "fetch-base: downloading Debian's source package $BASE_APT (apt-get source --download-only)"
dl=$BDIR/apt-source
rm -rf "$dl" && mkdir -p "$dl"
if (cd "$dl" && apt-get source --download-only "$BASE_APT" >"$dl/log" 2>&1) && [ -f "$dl/$NAME" ]; then
    verify "$dl/$NAME"
    mv "$dl/$NAME" "$OUT"
elif [ -f "$TOP/../shared/base/$NAME" ]; then
    tail -n 3 "$dl/log" >&2
    echo "fetch-base: the archive did not give $NAME; using the copy in ../shared/base/"
    verify "$TOP/../shared/base/$NAME"
    cp "$TOP/../shared/base/$NAME" "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
else
    tail -n 5 "$dl/log" >&2
    echo "fetch-base: apt-get source $BASE_APT did not give $NAME; run scripts/deps.sh" >&2
    echo "fetch-base: (it adds the deb-src entries) or set QEMU_TARBALL=/path/to/$NAME" >&2
    exit 1
fi
rm -rf "$dl"
echo "fetch-base: $OUT verified"

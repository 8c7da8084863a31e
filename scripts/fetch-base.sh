#!/usr/bin/env bash
# Fetch the base: QEMU 7.2.0 as shipped in Debian's source package `qemu`
# (the orig tarball only; Debian's patch stack is not used), verify it and
# cache it in build/. QEMU_TARBALL=/path/to/qemu_7.2+dfsg.orig.tar.xz skips
# the download.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
NAME=qemu_7.2+dfsg.orig.tar.xz
SHA256=91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f
OUT=$TOP/build/$NAME

verify() {
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$got" != "$SHA256" ]; then
        echo "fetch-base: checksum mismatch for $1" >&2
        echo "fetch-base:   expected $SHA256" >&2
        echo "fetch-base:   got      $got" >&2
        echo "fetch-base: this is not Debian's $NAME; remove it or point QEMU_TARBALL at the right file" >&2
        return 1
    fi
}

mkdir -p "$TOP/build"
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

echo "fetch-base: downloading Debian's qemu source package (apt-get source --download-only)"
dl=$TOP/build/apt-source
rm -rf "$dl" && mkdir -p "$dl"
if ! (cd "$dl" && apt-get source --download-only qemu >"$dl/log" 2>&1); then
    tail -n 5 "$dl/log" >&2
    echo "fetch-base: apt-get source failed; run scripts/deps.sh (it adds a deb-src entry)" >&2
    echo "fetch-base: or set QEMU_TARBALL=/path/to/$NAME" >&2
    exit 1
fi
[ -f "$dl/$NAME" ] || { echo "fetch-base: apt-get source did not produce $NAME" >&2; ls "$dl" >&2; exit 1; }
verify "$dl/$NAME"
mv "$dl/$NAME" "$OUT"
rm -rf "$dl"
echo "fetch-base: $OUT verified"

#!/bin/bash
# Build the series with AddressSanitizer and UndefinedBehaviorSanitizer
# (--enable-asan --enable-ubsan: 10.2 names them so) in
# build/asan, a clone of build/qemu's master, and run the series' qtests
# there. Any sanitizer report fails the run. Not part of `make check`: a
# cold build takes most of an hour on two cores.
#
# usage: scripts/sanitize.sh [test ...]   (default: the four DMA qtests)
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
. "$TOP/scripts/ccache-env.sh"

A=$BDIR/asan
B=$A/build
tests=${*:-"sun4m-dma-test dma-rw-test am53c974-test pcnet-dma-test iopmem-test"}

[ -d "$QEMU_TREE/.git" ] ||
    { echo "sanitize: no build/qemu; run 'make tree' first" >&2; exit 1; }
[ -x "$TOOLS/root/usr/bin/meson" ] ||
    { echo "sanitize: no meson in build/tools; run scripts/deps.sh" >&2; exit 1; }
export PATH=$TOOLS/root/usr/bin:$PATH
export PYTHONPATH=$TOOLS_PY${PYTHONPATH:+:$PYTHONPATH}

[ -d "$A/.git" ] || git clone -q --shared "$QEMU_TREE" "$A"
git -C "$A" fetch -q "$QEMU_TREE" master
git -C "$A" checkout -q -f FETCH_HEAD
echo "sanitize: $(git -C "$A" log -1 --format='%h %s')"
# the empty edk2 placeholders meson wants, as tree.sh makes them
for f in "$QEMU_TREE"/pc-bios/edk2-*.fd.bz2; do
    cp "$f" "$A/pc-bios/"
done

if [ ! -f "$B/build.ninja" ]; then
    mkdir -p "$B"
    cc=gcc
    command -v ccache >/dev/null && cc="ccache gcc"
    if ! (cd "$B" && ../configure --cc="$cc" \
            --target-list=sparc-softmmu,i386-softmmu --enable-asan --enable-ubsan \
            --disable-docs --disable-tools --disable-install-blobs \
            --disable-guest-agent --disable-werror --disable-download \
            --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu \
            --python=/usr/bin/python3 >"$B/configure.log" 2>&1); then
        tail -n 20 "$B/configure.log" >&2
        rm -f "$B/build.ninja"
        exit 1
    fi
fi
targets="qemu-system-sparc qemu-system-i386"
for t in $tests; do
    targets="$targets tests/qtest/$t"
done
ninja -C "$B" $targets >"$B/ninja.log" 2>&1 ||
    { tail -n 20 "$B/ninja.log" >&2; exit 1; }
# Debian's firmware, where the uninstalled binaries look (as build.sh does)
for d in usr/share/qemu usr/share/seabios usr/lib/ipxe/qemu; do
    mkdir -p "$(dirname "$B/qemu-bundle/$d")"
    ln -sfn "/$d" "$B/qemu-bundle/$d"
done

export ASAN_OPTIONS=detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1
failed=0
for t in $tests; do
    case $t in sun4m*) q=qemu-system-sparc ;; *) q=qemu-system-i386 ;; esac
    log=$B/sanitize-$t.log
    rc=0
    (cd "$B" && QTEST_QEMU_BINARY=./$q "./tests/qtest/$t") >"$log" 2>&1 || rc=$?
    reports=$(grep -c -E 'runtime error:|ERROR: AddressSanitizer' "$log" || true)
    echo "sanitize: $t: $(grep -c '^ok' "$log") ok, exit $rc, $reports sanitizer reports ($log)"
    [ "$rc" = 0 ] && [ "$reports" = 0 ] || failed=1
done
exit $failed

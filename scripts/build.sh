#!/usr/bin/env bash
# Configure (once) and build a QEMU source tree in SRC/build.
# Usage: build.sh SRC
# Same options for the patched tree (build/qemu) and stock (build/stock), so
# that ccache shares the objects of every file the series does not touch.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
SRC=$(cd "$1" && pwd)
B=$SRC/build
TARGETS=sparc-softmmu,sparc64-softmmu,i386-softmmu
JOBS=${JOBS:-$(nproc)}

# shellcheck source=scripts/base.sh
. "$TOP/scripts/base.sh"
# shellcheck source=scripts/ccache-env.sh
. "$TOP/scripts/ccache-env.sh"

# QEMU 10.2 configures with meson >= 1.5 and pycotap, unpacked into
# build/tools by scripts/deps.sh, and Debian's python3 (the default python3
# may be an interpreter that does not see them).
[ -x "$TOOLS/root/usr/bin/meson" ] ||
    { echo "build: no meson in build/tools; run scripts/deps.sh" >&2; exit 1; }
export PATH=$TOOLS/root/usr/bin:$PATH
export PYTHONPATH=$TOOLS_PY${PYTHONPATH:+:$PYTHONPATH}

if [ ! -f "$B/build.ninja" ]; then
    echo "build: configuring $SRC ($TARGETS)"
    mkdir -p "$B"
    cc=gcc
    command -v ccache >/dev/null && cc="ccache gcc"
    if ! (cd "$B" && ../configure --cc="$cc" --target-list=$TARGETS \
            --enable-linux-aio --enable-linux-io-uring --enable-slirp \
            --disable-docs --disable-install-blobs --disable-guest-agent --disable-werror \
            --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu \
            --python=/usr/bin/python3 --disable-download \
            >"$B/configure.log" 2>&1); then
        tail -n 20 "$B/configure.log" >&2
        rm -f "$B/build.ninja"
        echo "build: configure failed, see $B/configure.log (missing packages? run scripts/deps.sh)" >&2
        exit 1
    fi
fi

# The build's own venv reruns meson when a meson.build changes: let it find
# the meson from build/tools before bookworm's, whoever runs ninja.
for d in "$B"/pyvenv/lib/python3*/site-packages; do
    echo "$TOOLS_PY" >"$d/dma-rw-tools.pth"
done

# Let meson regenerate first when a meson.build changed, so that the list
# below includes new tests.
ninja -C "$B" build.ninja >/dev/null

# What the project runs: the emulators, qemu-img and the storage daemon the
# qtests use, and the qtest binaries (not the softfloat and unit tests).
meson=meson
[ -x "$B/pyvenv/bin/meson" ] && meson=$B/pyvenv/bin/meson
targets=$("$meson" introspect --tests "$B" | python3 -c '
import json, os, sys
b = sys.argv[1]
out = {"qemu-system-" + t.split("-")[0] for t in sys.argv[2].split(",")}
out |= {"qemu-img", "storage-daemon/qemu-storage-daemon"}
for t in json.load(sys.stdin):
    if any(s.startswith("qemu:qtest") for s in t["suite"]):
        out.add(os.path.relpath(t["cmd"][0], b))
print(" ".join(sorted(out)))' "$B" "$TARGETS")

echo "build: building $SRC (ninja -j$JOBS; log in $B/build.log)"
start=$(date +%s)
# Show progress every 100 steps, and the errors if it fails.
set +e
# shellcheck disable=SC2086
ninja -C "$B" -j"$JOBS" $targets 2>&1 | tee "$B/build.log" |
    awk '/^\[[0-9]+\/[0-9]+\]/ { split(substr($1, 2), a, "/"); if (a[1] % 100 == 0 || a[1] == a[2]) { printf "build:   %s\n", $1; fflush() } }'
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
    grep -E -B2 -A12 'error:|FAILED' "$B/build.log" | cut -c1-300 | head -n 60 >&2
    echo "build: failed, see $B/build.log" >&2
    exit 1
fi
# The uninstalled binaries look for --firmwarepath inside qemu-bundle/:
# point those directories at Debian's firmware packages.
for d in usr/share/qemu usr/share/seabios usr/lib/ipxe/qemu; do
    mkdir -p "$(dirname "$B/qemu-bundle/$d")"
    ln -sfn "/$d" "$B/qemu-bundle/$d"
done
echo "build: $SRC built in $(( $(date +%s) - start ))s"

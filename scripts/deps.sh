#!/usr/bin/env bash
# Install every Debian package the project needs. Idempotent; uses sudo when
# not root. Adds the apt entries the base needs: deb-src for unstable (the
# source package of QEMU 10.2.2) and bookworm-backports, whose meson and
# pycotap QEMU 10.2 needs. Those two are unpacked into build/tools, not
# installed over bookworm's.
set -euo pipefail

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

PKGS=(
    # building QEMU
    build-essential git python3 python3-venv ninja-build meson pkg-config
    libglib2.0-dev libpixman-1-dev libslirp-dev libaio-dev liburing-dev
    zlib1g-dev libfdt-dev flex bison ccache perl dpkg-dev xz-utils
    device-tree-compiler
    # firmware the built binaries and the qtests load
    qemu-system-data seabios ipxe-qemu
    # the demo guest: sparc32 Linux cross-built, ext2 images
    gcc-sparc64-linux-gnu linux-source-6.1 bc kmod cpio e2fsprogs
    # benchmarks: plot
    gnuplot-nox
)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

SRC_LIST=/etc/apt/sources.list.d/dma-rw-src.sources
need_update=0
if ! grep -qs '^Suites: sid' "$SRC_LIST" || ! grep -qs 'bookworm-backports' "$SRC_LIST"; then
    echo "deps: adding deb-src for sid and bookworm-backports to $SRC_LIST"
    $SUDO python3 - "$SRC_LIST" <<'PY'
import glob, re, sys
uri, key = None, None
for f in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
    for stanza in open(f).read().split('\n\n'):
        m = re.search(r'^URIs:\s*(\S*debian/?)\s*$', stanza, re.M)
        if m and 'security' not in m.group(1) and 'dma-rw' not in f:
            uri = m.group(1)
            k = re.search(r'^Signed-By:\s*(\S+)', stanza, re.M)
            key = k.group(1) if k else None
            break
    if uri:
        break
if not uri:
    for f in ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list')):
        try:
            for l in open(f):
                m = re.match(r'^deb\s+(\S*debian/?)\s', l.strip())
                if m and 'security' not in m.group(1):
                    uri = uri or m.group(1)
        except FileNotFoundError:
            pass
if not uri:
    raise SystemExit('deps: no Debian apt source found to derive the entries from')
key = key or '/usr/share/keyrings/debian-archive-keyring.gpg'
ent = lambda t, s: 'Types: %s\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' % (t, uri, s, key)
open(sys.argv[1], 'w').write('\n'.join([ent('deb-src', 'sid'), ent('deb', 'bookworm-backports')]))
PY
    need_update=1
fi

if [ ${#missing[@]} -gt 0 ] || [ $need_update = 1 ]; then
    echo "deps: apt-get update"
    # An index that fails to update (unstable's, during a mirror sync) must
    # not stop the rest: what it serves is only the base's source, which
    # scripts/fetch-base.sh can also take from ../shared/base/.
    $SUDO apt-get update -qq || echo "deps: apt-get update reported errors; going on" >&2
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# QEMU 10.2 wants meson >= 1.5 and pycotap; bookworm-backports has them.
# Unpacked where scripts/build.sh puts them on PATH and PYTHONPATH.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
if [ ! -x "$TOOLS/root/usr/bin/meson" ] || [ ! -d "$TOOLS_PY/pycotap" ]; then
    echo "deps: unpacking meson and pycotap from bookworm-backports into build/tools"
    rm -rf "$TOOLS" && mkdir -p "$TOOLS/debs"
    if (cd "$TOOLS/debs" && apt-get download -qq meson/bookworm-backports \
            python3-pycotap/bookworm-backports); then
        for d in "$TOOLS"/debs/*.deb; do dpkg-deb -x "$d" "$TOOLS/root"; done
    else
        echo "deps: could not download meson and python3-pycotap from bookworm-backports;" >&2
        echo "deps: QEMU 10.2 cannot be configured without them" >&2
        exit 1
    fi
fi
echo "deps: all packages present (meson $(PYTHONPATH=$TOOLS_PY \
    /usr/bin/python3 "$TOOLS/root/usr/bin/meson" --version 2>/dev/null \
    || echo '?') in build/tools)"

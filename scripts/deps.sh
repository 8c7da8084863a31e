#!/usr/bin/env bash
# Install every Debian package the project needs. Idempotent; uses sudo when
# not root. Adds a deb-src entry when apt has none (for `apt-get source qemu`).
set -euo pipefail

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

PKGS=(
    # building QEMU
    build-essential git python3 python3-venv ninja-build meson pkg-config
    libglib2.0-dev libpixman-1-dev libslirp-dev libaio-dev liburing-dev
    zlib1g-dev libfdt-dev flex bison ccache perl dpkg-dev xz-utils
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

has_src() {
    grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/
}

need_update=0
if ! has_src; then
    echo "deps: adding a deb-src entry for the configured Debian suites"
    $SUDO python3 - <<'PY'
import glob, re
out = []
for f in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
    for stanza in open(f).read().split('\n\n'):
        if not re.search(r'^URIs:.*debian', stanza, re.M):
            continue
        if 'nodesource' in stanza or 'cloud' in stanza:
            continue
        lines = [l for l in stanza.splitlines() if not l.startswith('#')]
        lines = ['Types: deb-src' if l.startswith('Types:') else l for l in lines]
        out.append('\n'.join(lines))
for f in ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list')):
    try:
        for l in open(f):
            m = re.match(r'^deb\s+(.*debian.*)$', l.strip())
            if m:
                out.append('Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s'
                           % tuple([m.group(1).split()[0], m.group(1).split()[1],
                                    ' '.join(m.group(1).split()[2:])]))
    except FileNotFoundError:
        pass
if not out:
    raise SystemExit('deps: no Debian apt source found to derive a deb-src entry from')
open('/etc/apt/sources.list.d/dma-rw-src.sources', 'w').write('\n\n'.join(out) + '\n')
PY
    need_update=1
fi

if [ ${#missing[@]} -gt 0 ] || [ $need_update = 1 ]; then
    echo "deps: apt-get update"
    $SUDO apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "deps: all packages present"

#!/usr/bin/env bash
# Build the demo guest into build/guest/ (sun4m), or with "sparc64" into
# build/guest64/ (sun4u):
#   vmlinux   Linux 6.1 (Debian's linux-source-6.1, cross-built)
#   root.img  ext2 root filesystem holding the freestanding /init
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
ARCH64=${1:-}
if [ "$ARCH64" = sparc64 ]; then
    OUT=$TOP/build/guest64
    DEFCONFIG=tinyconfig
    FRAGMENT=$TOP/guest/kernel64.config
    INIT_CFLAGS=(-m64 -mcmodel=medlow)
else
    OUT=$TOP/build/guest
    DEFCONFIG=sparc32_defconfig
    FRAGMENT=$TOP/guest/kernel.config
    INIT_CFLAGS=(-m32 -mcpu=v8)
fi
SRC=$TOP/build/linux-src
KB=$OUT/linux
JOBS=${JOBS:-$(nproc)}
CROSS=sparc64-linux-gnu-
# shellcheck source=scripts/ccache-env.sh
. "$TOP/scripts/ccache-env.sh"
KCC=${CROSS}gcc
command -v ccache >/dev/null && KCC="ccache $KCC"
KMAKE=(make -C "$SRC" O="$KB" ARCH=sparc CROSS_COMPILE=$CROSS "CC=$KCC")

mkdir -p "$OUT"
tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || { echo "guest: $tarball missing; run scripts/deps.sh" >&2; exit 1; }

if [ ! -f "$SRC/.dma-rw-ready" ]; then
    echo "guest: extracting $tarball"
    rm -rf "$SRC" "$SRC.tmp"
    mkdir -p "$SRC.tmp"
    tar -xJf "$tarball" -C "$SRC.tmp" --strip-components=1
    make -s -C "$SRC.tmp" ARCH=sparc mrproper
    touch "$SRC.tmp/.dma-rw-ready"
    mv "$SRC.tmp" "$SRC"
fi

# Kernel configuration: the defconfig, no modules (their =m would turn
# into =y), then our fragment.
cfg=$KB/.config
if [ ! -f "$cfg" ] || [ "$FRAGMENT" -nt "$cfg" ]; then
    echo "guest: configuring Linux ($DEFCONFIG + ${FRAGMENT#$TOP/})"
    mkdir -p "$KB"
    "${KMAKE[@]}" -s $DEFCONFIG
    sed -i 's/^\(CONFIG_[A-Za-z0-9_]*\)=m$/# \1 is not set/' "$cfg"
    "$SRC/scripts/kconfig/merge_config.sh" -m -O "$KB" "$cfg" "$FRAGMENT" >/dev/null
    "${KMAKE[@]}" -s olddefconfig
    # every line of the fragment must have survived
    while read -r line; do
        case "$line" in
            CONFIG_*) grep -qx "$line" "$cfg" || { echo "guest: $line did not stick" >&2; exit 1; } ;;
        esac
    done <"$FRAGMENT"
fi

echo "guest: building Linux (make -j$JOBS vmlinux; about 4 minutes on 2 cores when cold)"
start=$(date +%s)
log=$OUT/linux-build.log
set +e
"${KMAKE[@]}" -j"$JOBS" vmlinux 2>&1 | tee "$log" |
    awk '/^  (CC|AS|LD|AR) / { if (++n % 250 == 0) { printf "guest:   %d objects\n", n; fflush() } }'
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
    grep -E -A5 'error|Error' "$log" | head -n 40 >&2
    echo "guest: kernel build failed, see $log" >&2
    exit 1
fi
cp "$KB/vmlinux" "$OUT/vmlinux.tmp" && mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
echo "guest: Linux built in $(( $(date +%s) - start ))s"

echo "guest: building /init and the root filesystem"
root=$OUT/rootfs
rm -rf "$root" && mkdir -p "$root"/{dev,proc,sys}
${CROSS}gcc "${INIT_CFLAGS[@]}" -O2 -static -nostdlib -ffreestanding -fno-builtin \
    -fno-pic -no-pie -fno-stack-protector -Wall -Wextra -Werror \
    -Wl,-e,_start -o "$root/init" "$TOP/guest/init.c"
rm -f "$OUT/root.img"
mke2fs -q -t ext2 -F -d "$root" -L dma-rw-root "$OUT/root.img" 8M
echo "guest: $OUT/vmlinux and $OUT/root.img ready"

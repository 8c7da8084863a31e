# Sourced by the scripts: which QEMU base and which series they work on.
# DMA_RW_BASE=7.2 (default): patches/ on QEMU 7.2.0, trees in build/qemu and
# build/stock. DMA_RW_BASE=10.2: v2/patches/ on QEMU 10.2.2, trees in
# build/v2/qemu and build/v2/stock. Both bases are Debian's orig tarballs of
# the source package `qemu`; Debian's own patch stack is not used.
# Expects TOP to be set.
case "${DMA_RW_BASE:-7.2}" in
7.2)
    BASE_VERSION=7.2.0
    BASE_TARBALL=qemu_7.2+dfsg.orig.tar.xz
    BASE_SHA256=91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f
    BASE_APT=qemu/bookworm
    BASE_DATE=2022-12-14T00:00:00Z
    PATCHES=$TOP/patches
    BDIR=$TOP/build
    ;;
10.2)
    BASE_VERSION=10.2.2
    BASE_TARBALL=qemu_10.2.2+ds.orig.tar.xz
    BASE_SHA256=be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb
    BASE_APT=qemu=1:10.2.2+ds-1
    BASE_DATE=2026-03-01T00:00:00Z
    PATCHES=$TOP/v2/patches
    BDIR=$TOP/build/v2
    ;;
*)
    echo "DMA_RW_BASE=$DMA_RW_BASE: the bases are 7.2 and 10.2" >&2
    exit 1
    ;;
esac
QEMU_TREE=$BDIR/qemu
STOCK_TREE=$BDIR/stock
# Tools that bookworm is too old for (meson, pycotap for 10.2), unpacked
# from bookworm-backports by scripts/deps.sh; see scripts/build.sh.
TOOLS=$TOP/build/tools
TOOLS_PY=$TOOLS/root/usr/lib/python3/dist-packages

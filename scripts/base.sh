# Sourced by the scripts: the QEMU base the series applies to, and where
# things live. The base is Debian's orig tarball of the source package
# `qemu`; Debian's own patch stack is not used.
# Expects TOP to be set.
BASE_VERSION=10.2.2
BASE_TARBALL=qemu_10.2.2+ds.orig.tar.xz
BASE_SHA256=be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb
BASE_APT=qemu=1:10.2.2+ds-1
BASE_DATE=2026-03-01T00:00:00Z
PATCHES=$TOP/patches
BDIR=$TOP/build
QEMU_TREE=$BDIR/qemu
STOCK_TREE=$BDIR/stock
# Tools that bookworm is too old for (meson >= 1.5, pycotap), unpacked from
# bookworm-backports by scripts/deps.sh; see scripts/build.sh.
TOOLS=$BDIR/tools
TOOLS_PY=$TOOLS/root/usr/lib/python3/dist-packages

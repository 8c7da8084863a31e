# Sourced by the build scripts: one ccache for stock and patched trees.
# Paths are rewritten relative to build/, so build/qemu/build and
# build/stock/build share every object whose source is the same.
if command -v ccache >/dev/null; then
    export CCACHE_DIR=${CCACHE_DIR:-$HOME/.ccache}
    export CCACHE_BASEDIR=$TOP/build
    export CCACHE_NOHASHDIR=1
    export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
fi

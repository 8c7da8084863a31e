#!/bin/bash
# Check that every prefix of the series builds and passes the DMA qtests.
#
#   scripts/series-bisect.sh [FIRST]
#
# Checks out each commit of build/qemu from FIRST (a revision; default: the
# first commit after the base) to master, builds the sparc, sparc64 and i386
# system emulators incrementally and runs am53c974-test, ide-test and, where
# they exist, dma-rw-test, sun4m-dma-test, pcnet-dma-test, sun4u-dma-test and
# iopmem-test.
# About a minute per commit on 2 cores, warm.
# build/qemu must have no uncommitted changes; master is checked out again
# at the end, whatever happens.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
TREE=$QEMU_TREE
B=$TREE/build
[ -d "$TREE/.git" ] && [ -x "$B/qemu-system-sparc" ] ||
    { echo "series-bisect: no built tree; run 'make build' first" >&2; exit 1; }
if [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
    echo "series-bisect: build/qemu has uncommitted changes; commit them first" >&2
    exit 1
fi

first=$(git -C "$TREE" rev-parse "${1:-$(git -C "$TREE" rev-list --reverse base..master | head -n 1)}")
trap 'git -C "$TREE" checkout -q master' EXIT

failed=0
for c in $first $(git -C "$TREE" rev-list --reverse "$first"..master); do
    git -C "$TREE" checkout -q "$c"
    echo "== $(git -C "$TREE" log -1 --format='%h %s')"
    tests="tests/qtest/am53c974-test tests/qtest/ide-test"
    for t in dma-rw-test sun4m-dma-test pcnet-dma-test sun4u-dma-test iopmem-test; do
        [ -f "$TREE/tests/qtest/$t.c" ] && tests="$tests tests/qtest/$t"
    done
    log="$B/bisect-build-$(git -C "$TREE" log -1 --format=%h).log"
    if ! ninja -C "$B" qemu-system-sparc qemu-system-sparc64 qemu-system-i386 \
            $tests >"$log" 2>&1; then
        echo "   BUILD FAILED ($log)"
        grep -m5 'error' "$log" | sed 's/^/   /' || true
        failed=1
        continue
    fi
    for t in $tests; do
        case $t in
        *sun4m*) q=qemu-system-sparc ;;
        *sun4u*) q=qemu-system-sparc64 ;;
        *) q=qemu-system-i386 ;;
        esac
        [ -x "$B/$t" ] || continue
        if out=$(cd "$B" && QTEST_QEMU_BINARY=./$q timeout 900 "./$t" 2>&1); then
            echo "   $(basename "$t"): $(grep -c '^ok' <<<"$out") ok"
        else
            echo "   $(basename "$t"): FAILED"
            grep -E '^not ok|ERROR' <<<"$out" | head -n 3 | sed 's/^/     /'
            failed=1
        fi
    done
done
exit $failed

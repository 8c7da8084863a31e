#!/usr/bin/env bash
# Create the work tree build/qemu: a git repository whose first commit is
# the pristine base and whose next commits are `git am` of patches/ in order.
# Usage: tree.sh [DIR [--no-patches]]   (default DIR: the work tree)
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
DIR=${1:-$QEMU_TREE}
APPLY=1
[ "${2:-}" = --no-patches ] && APPLY=0
TARBALL=$BDIR/$BASE_TARBALL

# Fixed identity and dates: the same base and series give the same commits.
export GIT_AUTHOR_NAME="dma-rw developers" GIT_AUTHOR_EMAIL="dma-rw@users.noreply.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"

apply_series() {
    local n=0 p
    [ -s "$PATCHES/series" ] || return 0
    while read -r p; do
        case "$p" in ''|\#*) continue ;; esac
        n=$((n + 1))
        if ! git am -q --committer-date-is-author-date "$PATCHES/$p"; then
            echo "tree: patch $p does not apply" >&2
            git am --abort || true
            return 1
        fi
    done <"$PATCHES/series"
    echo "tree: applied $n patches"
}

# A tree made from another base (an older checkout of this project) is
# not reused: its build and its commits belong to that base.
BASE_SUBJECT="QEMU $BASE_VERSION (Debian $BASE_TARBALL)"
if [ -d "$DIR/.git" ]; then
    have_base=$(git -C "$DIR" log -1 --format=%s base 2>/dev/null || true)
    if [ "$have_base" != "$BASE_SUBJECT" ]; then
        echo "tree: $DIR is built on '${have_base:-no base}', not QEMU $BASE_VERSION;" >&2
        echo "tree: move it away (its work is in its own commits), then retry" >&2
        exit 1
    fi
    [ $APPLY = 1 ] || exit 0
fi

# An existing tree is brought up to date with patches/ when it holds no work
# of its own (its export is what was last applied or exported).
if [ -d "$DIR/.git" ]; then
    cd "$DIR"
    want=$("$TOP/scripts/series-hash.sh" "$PATCHES")
    tmp=$(mktemp -d)
    "$TOP/scripts/export-series.sh" "$tmp"
    have=$("$TOP/scripts/series-hash.sh" "$tmp")
    rm -rf "$tmp"
    if [ "$have" = "$want" ]; then
        echo "tree: $DIR is up to date with $PATCHES"
        exit 0
    fi
    last=$(cat .git/dma-rw-series 2>/dev/null || true)
    if [ "$have" != "$last" ] || [ -n "$(git status --porcelain)" ]; then
        echo "tree: $DIR holds work that $PATCHES does not, and that changed too;" >&2
        echo "tree: export it ('make series') or move the tree away, then retry" >&2
        exit 1
    fi
    echo "tree: re-applying $PATCHES on the base in $DIR"
    git checkout -q master
    git reset -q --hard base
    apply_series
    echo "$want" >.git/dma-rw-series
    exit 0
elif [ -e "$DIR" ]; then
    echo "tree: $DIR exists; remove it first" >&2
    exit 1
fi
"$TOP/scripts/fetch-base.sh"

echo "tree: extracting the base into $DIR"
rm -rf "$DIR.tmp"
mkdir -p "$DIR.tmp"
tar -xJf "$TARBALL" -C "$DIR.tmp" --strip-components=1
cd "$DIR.tmp"
git init -q -b master .
git config user.name "$GIT_AUTHOR_NAME"
git config user.email "$GIT_AUTHOR_EMAIL"
git config core.autocrlf false
git add -A -f .
GIT_AUTHOR_DATE=$BASE_DATE GIT_COMMITTER_DATE=$BASE_DATE \
    git commit -q -m "$BASE_SUBJECT"
git tag base

# Base preparation, not part of the series: meson wants the edk2 images,
# which the dfsg tarball lacks. Empty placeholders, ignored by git.
for f in $(sed -n "s/^ *'\(edk2-[a-z0-9_-]*\.fd\)',.*/\1/p" pc-bios/meson.build); do
    bzip2 -c </dev/null >"pc-bios/$f.bz2"
    echo "pc-bios/$f.bz2" >>.git/info/exclude
done

if [ $APPLY = 1 ]; then
    apply_series
    "$TOP/scripts/series-hash.sh" "$PATCHES" >.git/dma-rw-series
fi
cd "$TOP"
mv "$DIR.tmp" "$DIR"
echo "tree: $DIR ready ($(git -C "$DIR" rev-list --count base..HEAD) commits on the base)"

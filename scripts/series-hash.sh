#!/usr/bin/env bash
# Print one hash of a patch series directory (its series file and patches).
set -euo pipefail
dir=$1
[ -s "$dir/series" ] || { echo empty; exit 0; }
{
    cat "$dir/series"
    while read -r p; do
        case "$p" in ''|\#*) continue ;; esac
        cat "$dir/$p"
    done <"$dir/series"
} | sha256sum | cut -d' ' -f1

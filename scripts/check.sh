#!/usr/bin/env bash
# Everything CI runs (make check): checkpatch on every patch, series-check,
# the sparc and sparc64 qtest suites, the i386 qtests of the devices the
# series touches, a quick self-test of the benchmark's workload drivers, and
# the demo guest on SS-5, SS-20 and sun4u.
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
# No "set -e": a failing step is recorded and the next one still runs.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/base.sh"
OUT=$BDIR/check
QB=$QEMU_TREE/build
mkdir -p "$OUT"
RES=$OUT/results
: >"$RES"
start=$(date +%s)

step() { echo; echo "=== check: $* ==="; }
record() { # record PASS|FAIL name
    echo "$1 $2" >>"$RES"
    echo "$1 $2"
}
qtests() { # qtests TARGET ARGS...: a runner that dies without a verdict fails
    local before
    before=$(grep -c '^FAIL' "$RES")
    if ! "$TOP/scripts/qtests.py" --build "$QB" --target "$@" --results "$RES" &&
            [ "$(grep -c '^FAIL' "$RES")" = "$before" ]; then
        record FAIL "qtests-$1"
    fi
}

step "checkpatch.pl on patches/"
"$TOP/scripts/checkpatch.sh" "$RES"

step "series-check"
if "$TOP/scripts/series-check.sh"; then record PASS series-check; else record FAIL series-check; fi

step "qtests: sparc (all)"
qtests sparc \
    --may-be-empty qos-test --may-be-empty cdrom-test all

step "qtests: sparc64 (all)"
qtests sparc64 \
    --may-be-empty qos-test --may-be-empty cdrom-test all

step "qtests: i386, the devices this series touches"
i386=(am53c974-test ide-test ahci-test qos-test:pcnet
      fuzz-lsi53c895a-test fuzz-megasas-test fuzz-virtio-scsi-test fuzz-e1000e-test)
# and the series' own
i386+=(dma-rw-test pcnet-dma-test iopmem-test)
qtests i386 "${i386[@]}"

step "bench workload drivers (quick self-test)"
"$TOP/bench/selftest.py" "$QB/qemu-system-sparc" | tee -a "$RES.selftest"
selftest_rc=${PIPESTATUS[0]}
grep -E '^(PASS|FAIL) ' "$RES.selftest" | cut -d: -f1 >>"$RES"
if [ "$selftest_rc" != 0 ] && ! grep -q '^FAIL ' "$RES.selftest"; then
    record FAIL bench-selftest     # it died before reporting a failure
fi
rm -f "$RES.selftest"

for m in SS-5 SS-20 sun4u; do
    step "demo guest on $m"
    q=$QB/qemu-system-sparc
    [ "$m" = sun4u ] && q=$QB/qemu-system-sparc64
    if "$TOP/scripts/run-guest.py" --machine "$m" --quiet --qemu "$q" \
            --log "$OUT/guest-$m.log" --json "$OUT/guest-$m.json"; then
        record PASS "guest/$m"
    else
        record FAIL "guest/$m"
        tail -n 30 "$OUT/guest-$m.log" 2>/dev/null
    fi
done

passed=$(grep -c '^PASS' "$RES")
failed=$(grep -c '^FAIL' "$RES")
echo
grep '^FAIL' "$RES" | sed 's/^/  /'
echo "check: finished in $(( $(date +%s) - start ))s; details in ${OUT#$TOP/}/"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]

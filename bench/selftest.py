#!/usr/bin/env python3
"""Quick check of the benchmark's workload drivers (part of make check).

Runs every ESP and Lance workload briefly on one binary (with both kinds of
driver: over qtest, and build/espfw.bin or build/lancefw.bin on the guest
CPU), and the sun4u IDE workload (into RAM and into an iopmem BAR) on the
qemu-system-sparc64 beside it, and
proves that the data checks bite: each driver, handed a corrupted byte,
must refuse to report a figure. Usage: selftest.py QEMU_BINARY
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import esp        # noqa: E402
import ide        # noqa: E402
import lance      # noqa: E402
from sun4m import DataError  # noqa: E402


def main():
    qemu = sys.argv[1]
    failed = 0

    def check(name, fn, expect_error=False):
        nonlocal failed
        try:
            r = fn()
            ok = not expect_error
            what = 'accepted corrupted data' if expect_error else r
        except DataError as e:
            ok = expect_error
            what = e
        except Exception as e:  # pylint: disable=broad-except
            ok = False
            what = '%s: %s' % (type(e).__name__, e)
        print('%s bench-selftest/%s: %s' % ('PASS' if ok else 'FAIL', name, what), flush=True)
        failed += not ok

    with tempfile.TemporaryDirectory(dir=os.environ.get('TMPDIR', '/var/tmp')) as d:
        img = os.path.join(d, 'disk.img')
        esp.make_image(img, 32 << 20)
        for op in ('read', 'write'):
            for size, total in ((512, 4096), (64 << 10, 1 << 20), (esp.MAX_COUNT, 1)):
                check('esp-%s-%d' % (op, size),
                      lambda op=op, size=size, total=total: esp.run(qemu, img, op, size, total))
            check('esp-%s-detects-corruption' % op,
                  lambda op=op: esp.run(qemu, img, op, 64 << 10, 1 << 20, corrupt=True), True)
            for size in (64 << 10, esp.MAX_COUNT):
                check('esp-guest-%s-%d' % (op, size),
                      lambda op=op, size=size: esp.run(qemu, img, op, size, 1, guest=True))
            # one DMA per 4 KiB, the last one short
            check('esp-split-%s-%d' % (op, 65 << 10),
                  lambda op=op: esp.run(qemu, img, op, 65 << 10, 1 << 20, guest=True,
                                        chunk=4096))
            check('esp-split-%s-detects-corruption' % op,
                  lambda op=op: esp.run(qemu, img, op, 65 << 10, 1 << 20, corrupt=True,
                                        guest=True, chunk=4096), True)
            if op == 'read':
                for chunk in (0, 4096):
                    check('esp-guest-read-chunk%d-detects-late-data' % chunk,
                          lambda chunk=chunk: esp.run(qemu, img, 'read', 64 << 10, 256 << 10,
                                                      corrupt='late', guest=True,
                                                      chunk=chunk), True)
            check('esp-guest-%s-detects-corruption' % op,
                  lambda op=op: esp.run(qemu, img, op, 64 << 10, 1 << 20, corrupt=True,
                                        guest=True), True)
        for d_ in ('tx', 'rx', 'sink', 'guest'):
            for size in (64, 1514):
                check('lance-%s-%d' % (d_, size),
                      lambda d_=d_, size=size: lance.run(qemu, d_, size, 300))
            check('lance-%s-detects-corruption' % d_,
                  lambda d_=d_: lance.run(qemu, d_, 64, 300, corrupt=True), True)
        check('lance-guest-detects-corruption-last-ring',
              lambda: lance.run(qemu, 'guest', 64, 300, corrupt='late'), True)
        check('lance-guest-detects-fault',
              lambda: lance.run(qemu, 'guest', 64, 300, corrupt='fault'), True)
        qemu64 = qemu + '64'
        for op in ('read', 'write'):
            for size in (512, 1 << 20):
                check('ide-%s-%d' % (op, size),
                      lambda op=op, size=size: ide.run(qemu64, img, op, size, size))
            check('ide-%s-detects-corruption' % op,
                  lambda op=op: ide.run(qemu64, img, op, 64 << 10, 64 << 10, corrupt=True),
                  True)
            check('ide-p2p-%s' % op,
                  lambda op=op: ide.run(qemu64, img, op, 1 << 20, 1 << 20, target='iopmem'))
            check('ide-p2p-%s-detects-corruption' % op,
                  lambda op=op: ide.run(qemu64, img, op, 64 << 10, 64 << 10, corrupt=True,
                                        target='iopmem'),
                  True)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()

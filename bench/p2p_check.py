#!/usr/bin/env python3
"""Disk -> iopmem peer to peer on sun4u, checked from outside the guest.

Boots qemu-system-sparc64 -M sun4u over qtest with an iopmem device whose
memory backend is a shared file, has the cmd646 READ DMA a range of the
disk image straight into the iopmem BAR (bench/ide.py's driver, PRDs
pointing at the BAR), quits, and prints the SHA-256 of the file's first
bytes against that of the image's range, with the cmd646's DMA counters
(bytes moved in place, bytes bounced). Exits 1 if the checksums differ,
anything bounced or less than the transfer moved in place.

Usage: p2p_check.py [--qemu QEMU] [--size BYTES] [--lba N]
"""

import argparse
import hashlib
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import esp        # noqa: E402
import ide        # noqa: E402

MiB = 1 << 20


def qom_cmd646(vm, prop):
    for child in vm.cmd('qom-list', path='/machine/unattached'):
        if child['type'] == 'child<cmd646-ide>':
            return vm.cmd('qom-get', path='/machine/unattached/' + child['name'],
                          property=prop)
    raise RuntimeError('no cmd646')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--qemu', default=os.path.join(os.path.dirname(HERE),
                                                   'build/qemu/build/qemu-system-sparc64'))
    ap.add_argument('--size', type=int, default=8 * MiB)
    ap.add_argument('--lba', type=int, default=2048)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='dma-rw-p2p.') as d:
        image = os.path.join(d, 'disk.img')
        esp.make_image(image, 128 * MiB)
        m = ide.IDE(a.qemu, image, max_bytes=a.size, target='iopmem')
        try:
            t, st = m.command('read', a.lba, a.size)
            if st & (ide.BM_ERR | ide.BM_INTR) != ide.BM_INTR:
                sys.exit('p2p: bus master status 0x%x' % st)
            in_place = qom_cmd646(m.vm, 'x-dma-in-place-bytes')
            bounced = qom_cmd646(m.vm, 'x-dma-bounced-bytes')
            mem = m.mem
            with open(mem, 'rb') as f:
                got = hashlib.sha256(f.read(a.size)).hexdigest()
        finally:
            m.vm.shutdown()
        with open(image, 'rb') as f:
            f.seek(a.lba * 512)
            want = hashlib.sha256(f.read(a.size)).hexdigest()
        os.unlink(mem)
    print('READ DMA of %d bytes from LBA %d into iopmem: %.1f ms' % (a.size, a.lba, t * 1e3))
    print('cmd646 x-dma-in-place-bytes %d, x-dma-bounced-bytes %d' % (in_place, bounced))
    print('sha256 iopmem file  %s' % got)
    print('sha256 disk range   %s' % want)
    ok = got == want and bounced == 0 and in_place == a.size
    print('OK' if ok else 'MISMATCH')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()

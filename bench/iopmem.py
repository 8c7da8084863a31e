#!/usr/bin/env python3
"""How long a durability request of iopmem keeps the guest waiting.

A sun4u (qemu-system-sparc64, over qtest) with an iopmem device on bus 2
whose memory backend is a shared file on disk. All of the BAR is written,
then the guest asks for durability (CMD SYNC) and keeps reading the status
register until BUSY clears, each read timed on the host. The same reads are
timed with nothing running first.

A device that wrote back on the thread that runs the guest's register
accesses (as the 2016 iopmem did with blk_pwrite) would hold one read for
the whole write-back; iopmem's runs in a worker thread, so the reads during
it should take as long as idle ones. Register layout: hw/misc/iopmem.c.
"""

import os
import statistics
import time

from ide import PCI_MEM, Sun4u, iopmem_setup

REGS_BAR, MEM_BAR = 0x30000000, 0x40000000
REG_ID, REG_STATUS, REG_CMD = 0x0, 0x4, 0xc
ID_VALUE, BUSY, DONE, SYNC = 0x6d706f69, 1, 2, 1


def swap32(v):
    return int.from_bytes(v.to_bytes(4, 'little'), 'big')


class Machine(Sun4u):
    """A sun4u with iopmem on bus 2, backed by the shared file @path."""

    def __init__(self, qemu, path, size):
        super().__init__(qemu, ['-m', '256', '-object',
                                'memory-backend-file,id=pm,mem-path=%s,size=%d,share=on'
                                % (path, size),
                                '-device', 'iopmem,memdev=pm,persistent=on,bus=pciB,addr=2.0'],
                         'iopmem')
        self.batch(iopmem_setup(MEM_BAR, size, REGS_BAR))

    def reg(self, off):
        return swap32(int(self.batch(['readl 0x%x' % (PCI_MEM + REGS_BAR + off)])[0].split()[1],
                          16))


def run(qemu, size=256 << 20, directory=None, idle_reads=2000):
    """{'sync_ms', 'reads_during', 'idle_median_us', 'idle_max_us', 'during_median_us',
    'during_max_us'}"""
    directory = directory or os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), 'build/bench')
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, 'iopmem-%d.img' % os.getpid())
    m = Machine(qemu, path, size)
    try:
        if m.reg(REG_ID) != ID_VALUE:
            raise RuntimeError('iopmem: no device at the BAR')
        m.batch(['memset 0x%x 0x%x 0x5a' % (PCI_MEM + MEM_BAR, size)])
        idle = []
        for _ in range(idle_reads):
            t0 = time.perf_counter()
            m.reg(REG_ID)
            idle.append(time.perf_counter() - t0)
        during = []
        t_start = time.perf_counter()
        m.batch(['writel 0x%x 0x%x' % (PCI_MEM + REGS_BAR + REG_CMD, swap32(SYNC))])
        while True:
            t0 = time.perf_counter()
            st = m.reg(REG_STATUS)
            during.append(time.perf_counter() - t0)
            if not st & BUSY:
                break
        sync = time.perf_counter() - t_start
        if not st & DONE:
            raise RuntimeError('iopmem: status 0x%x after the write-back' % st)
    finally:
        m.close()
        os.unlink(path)
    us = 1e6
    return {'sync_ms': sync * 1e3, 'reads_during': len(during),
            'idle_median_us': statistics.median(idle) * us, 'idle_max_us': max(idle) * us,
            'during_median_us': statistics.median(during) * us,
            'during_max_us': max(during) * us}


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--qemu', default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), 'build/qemu/build/qemu-system-sparc64'))
    ap.add_argument('--size-mib', type=int, default=256)
    a = ap.parse_args()
    r = run(a.qemu, a.size_mib << 20)
    print('write-back of %d MiB: %.0f ms; %d status reads meanwhile, median %.0f us, '
          'max %.0f us (idle: median %.0f us, max %.0f us)' % (
              a.size_mib, r['sync_ms'], r['reads_during'], r['during_median_us'],
              r['during_max_us'], r['idle_median_us'], r['idle_max_us']))


if __name__ == '__main__':
    main()

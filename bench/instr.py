#!/usr/bin/env python3
"""Instructions per split ESP data phase, or per Lance frame, stock vs patched.

Wall-clock figures on this machine spread by 10-30%; instruction counts do
not. This runs the same READs on both binaries over qtest (no guest CPU),
each data phase programmed one 4 KiB page at a time as Linux's esp_scsi
programs a buffer the sun4m IOMMU mapped page by page (bench.py's
esp-split workload), and counts with valgrind's callgrind only what runs
inside the ESP's and ESPDMA's register handlers: there both binaries
translate and copy each phase. The refills of scsi-disk's buffer complete
outside them and are not counted. (Whole data phases are not compared this
way: the series moves them from the block layer's threads.) Each READ's
data is checked against the image. It prints the instructions per data
phase and per KiB, and the functions whose counts differ most.

With --linux it replays what Linux does for a 1 MiB read(2) with
O_DIRECT instead: the sun4m IOMMU code flushes each page of the buffer as
it maps it and again as it unmaps it, and esp_scsi programs the DMA 64 KiB
at a time (its 16-bit count), so every such READ is a split data phase.
It counts what runs in the ESP's, ESPDMA's and the IOMMU's register
handlers and in scsi-disk's read completions, per MiB.

With --lance it counts instead what runs inside pcnet_transmit() and
pcnet_receive() per Lance frame, transmitted and received through LEDMA
and the IOMMU by bench/lance.py over a UDP socket netdev (the frames are
checked there): the device's own cost per frame, which the socket and the
harness hide in its frames/s.

With --ide it counts, per MiB, what runs in the cmd646's bus master
command register writes (where a DMA command starts: PRD table, mapping,
submission) and in the thread pool's completion bottom half (where each
round of I/O ends: unmapping, the next round, the command's completion),
for 1 MiB READ DMA EXT and WRITE DMA EXT commands on sun4u (bench/ide.py's
driver, on the qemu-system-sparc64 beside each binary), data checked.

With --ide --p2p it compares, on the series, the same commands into guest
RAM and into an iopmem BAR on the other PCI segment (peer to peer).

Usage: instr.py [--stock Q] [--patched Q] [--commands N]
                [--linux | --ide [--p2p] | --lance [--frames N]]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import esp                                            # noqa: E402
import ide                                            # noqa: E402
import lance                                          # noqa: E402
from sun4m import DVMA_BASE, IOMMU, PAGE, DataError, ESPDriver, Sun4m  # noqa: E402

PAGES = 64                      # a 256 KiB READ per command


# QEMU 10.2 waits for its main loop's file descriptors in io_uring, whose
# completions valgrind 3.19 never delivers: the process sleeps forever in
# io_uring_enter(). Failing io_uring_queue_init() makes QEMU fall back to
# epoll, as it does on a host without io_uring; both binaries get the same.
NO_URING_C = '''
#include <errno.h>
struct io_uring;
int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags)
{
    return -ENOSYS;
}
'''


def no_uring_preload(d):
    """A library for LD_PRELOAD in @d that refuses io_uring_queue_init()."""
    src, lib = os.path.join(d, 'no-uring.c'), os.path.join(d, 'no-uring.so')
    if not os.path.exists(lib):
        with open(src, 'w') as f:
            f.write(NO_URING_C)
        subprocess.run(['cc', '-shared', '-fPIC', '-O2', '-o', lib, src], check=True)
    return lib


def callgrind(qemu, out, functions):
    """A wrapper that runs @qemu under callgrind, counting into @out only
    what runs inside @functions"""
    d = os.path.dirname(out)
    wrapper = os.path.join(d, 'qemu-callgrind.sh')
    with open(wrapper, 'w') as f:
        f.write('#!/bin/sh\nLD_PRELOAD=%s exec valgrind --tool=callgrind '
                '--callgrind-out-file=%s --collect-atstart=no %s %s "$@"\n'
                % (no_uring_preload(d), out,
                   ' '.join('--toggle-collect=' + fn for fn in functions), qemu))
    os.chmod(wrapper, 0o755)
    return wrapper


def check_read(m, image, pages, c, nbytes, status):
    """READ @c of @nbytes ended well, and its data is the image's."""
    if status != (0, 0):
        raise DataError('READ %d: status %r' % (c, status))
    with open(image, 'rb') as f:
        f.seek(c * nbytes)
        if m.gather(pages, nbytes) != f.read(nbytes):
            raise DataError('READ %d: guest RAM differs from the image' % c)


def run(qemu, image, commands, out):
    """READs through the ESP with @qemu under callgrind; counts into @out."""
    wrapper = callgrind(qemu, out, ('esp_reg_write', 'dma_mem_write'))
    m = Sun4m(wrapper, args=['-drive', 'file=%s,if=scsi,bus=0,unit=0,format=raw' % image],
              name='instr')
    try:
        m.iommu_init()
        pages = m.scattered_pages(PAGES, 1)
        m.iommu_map(DVMA_BASE, pages)
        drv = ESPDriver(m)
        nbytes = PAGES * PAGE
        for c in range(commands):
            status = drv.read10(c * nbytes // 512, DVMA_BASE, nbytes, chunk=PAGE)
            check_read(m, image, pages, c, nbytes, status)
    finally:
        m.close()
    return commands * PAGES


IOMMU_PGFLUSH = IOMMU + 0x18     # the page flush register
LINUX_BYTES = 1 << 20           # a read(2) of 1 MiB
LINUX_CHUNK = 64 << 10          # what esp_scsi programs at a time


def run_linux(qemu, image, commands, out):
    """1 MiB READs as Linux issues them, with @qemu under callgrind."""
    wrapper = callgrind(qemu, out, ('esp_reg_write', 'dma_mem_write', 'iommu_mem_write',
                                    'scsi_read_complete'))
    m = Sun4m(wrapper, args=['-drive', 'file=%s,if=scsi,bus=0,unit=0,format=raw' % image],
              name='instr')
    npages = LINUX_BYTES // PAGE
    flush = ['writel 0x%x 0x%x' % (IOMMU_PGFLUSH, DVMA_BASE + i * PAGE) for i in range(npages)]
    try:
        m.iommu_init()
        pages = m.scattered_pages(npages, 1)
        m.iommu_map(DVMA_BASE, pages)
        drv = ESPDriver(m)
        for c in range(commands):
            m.batch(flush)          # mapped
            status = drv.read10(c * LINUX_BYTES // 512, DVMA_BASE, LINUX_BYTES,
                                chunk=LINUX_CHUNK)
            m.batch(flush)          # unmapped
            check_read(m, image, pages, c, LINUX_BYTES, status)
    finally:
        m.close()


def main_linux(a):
    with tempfile.TemporaryDirectory(prefix='dma-rw-instr.') as d:
        image = os.path.join(d, 'disk.img')
        esp.make_image(image, a.commands * LINUX_BYTES)
        res = {}
        for name, q in (('stock', a.stock), ('patched', a.patched)):
            out = os.path.join(d, '%s.callgrind' % name)
            run_linux(q, image, a.commands, out)
            res[name] = functions(out)
    print('%d READs of 1 MiB as Linux issues them: DMA programmed 64 KiB at a time, '
          'each page flushed before and after' % a.commands)
    print('instructions in the ESP, ESPDMA and IOMMU register handlers and the read '
          'completions, per MiB:')
    for name, (total, _) in res.items():
        print('  %-8s %10.0f' % (name, total / a.commands))
    print('  ratio    %10.2f  (patched / stock)' % (res['patched'][0] / res['stock'][0]))
    s, p = res['stock'][1], res['patched'][1]
    diff = sorted(((p.get(f, 0) - s.get(f, 0), f) for f in set(s) | set(p)),
                  key=lambda x: -abs(x[0]))
    print('largest differences, patched - stock (instructions per MiB):')
    for d_, f in diff[:a.top]:
        print('  %+8.0f  %s' % (d_ / a.commands, f))


def functions(out):
    """{function: instructions} and the total, from callgrind_annotate."""
    text = subprocess.run(['callgrind_annotate', '--threshold=100', out],
                          capture_output=True, text=True, check=True).stdout
    total = int(re.search(r'([\d,]+) \(100.0%\)\s+PROGRAM TOTALS', text).group(1)
                .replace(',', ''))
    funcs = {}
    for line in text.splitlines():
        mt = re.match(r'\s*([\d,]+) \([\d. ]+%\)\s+(\S+?):(\S+)', line)
        if mt and '=>' not in line:
            name = mt.group(3)
            funcs[name] = funcs.get(name, 0) + int(mt.group(1).replace(',', ''))
    return total, funcs


def run_lance(qemu, direction, size, frames, out):
    """Lance frames with @qemu under callgrind; counts into @out."""
    lance.run(callgrind(qemu, out, ('pcnet_transmit', 'pcnet_receive')),
              direction, size, frames)


def main_lance(a):
    print('Lance frames through LEDMA and the IOMMU, %d each way and size' % a.frames)
    print('instructions per frame in pcnet_transmit() and pcnet_receive():')
    print('  %-8s %6s %10s %10s %7s' % ('', 'size', 'stock', 'patched', 'ratio'))
    with tempfile.TemporaryDirectory(prefix='dma-rw-instr.') as d:
        for direction in ('tx', 'rx'):
            for size in (64, 1514):
                per = {}
                for name, q in (('stock', a.stock), ('patched', a.patched)):
                    out = os.path.join(d, '%s-%s-%d.callgrind' % (name, direction, size))
                    run_lance(q, direction, size, a.frames, out)
                    per[name] = functions(out)[0] / a.frames
                print('  %-8s %6d %10.0f %10.0f %7.2f' % (direction, size, per['stock'],
                                                          per['patched'],
                                                          per['stock'] / per['patched']))
    print('ratio = stock / patched (above 1: the series does less work per frame)')


IDE_BYTES = 1 << 20


def run_ide(qemu64, image, op, commands, out, target='ram'):
    """1 MiB IDE DMA commands with @qemu64 under callgrind, between the disk
    and @target (see bench/ide.py); counts into @out."""
    wrapper = callgrind(qemu64, out, ('bmdma_cmd_writeb', 'thread_pool_completion_bh'))
    m = ide.IDE(wrapper, image, '', IDE_BYTES, target=target)
    try:
        fd = os.open(image, os.O_RDONLY)
        for c in range(commands):
            data = os.urandom(IDE_BYTES) if op == 'write' else bytes(IDE_BYTES)
            m.buffer(IDE_BYTES, data)
            _, st = m.command(op, c * IDE_BYTES // 512, IDE_BYTES)
            if st & (ide.BM_ERR | ide.BM_INTR) != ide.BM_INTR:
                raise DataError('IDE %s %d: bus master status 0x%x' % (op, c, st))
            want = data if op == 'write' else m.buffer(IDE_BYTES)
            if os.pread(fd, IDE_BYTES, c * IDE_BYTES) != want:
                raise DataError('IDE %s %d: the data differ' % (op, c))
        os.close(fd)
    finally:
        m.close()


def main_ide(a):
    if a.p2p:
        runs = (('RAM', a.patched, 'ram'), ('iopmem', a.patched, 'iopmem'))
        print('%d IDE DMA commands of 1 MiB each way on sun4u, the series only: into '
              'guest RAM behind the IOMMU and into an iopmem BAR (peer to peer)'
              % a.commands)
    else:
        runs = (('stock', a.stock, 'ram'), ('patched', a.patched, 'ram'))
        print('%d IDE DMA commands of 1 MiB each way on sun4u (the cmd646 behind the '
              'sabre IOMMU)' % a.commands)
    print('instructions per MiB in bmdma_cmd_writeb() and thread_pool_completion_bh():')
    print('  %-6s %10s %10s %7s' % ('', runs[0][0], runs[1][0], 'ratio'))
    with tempfile.TemporaryDirectory(prefix='dma-rw-instr.') as d:
        image = os.path.join(d, 'disk.img')
        esp.make_image(image, a.commands * IDE_BYTES)
        for op in ('read', 'write'):
            per = []
            for name, q, target in runs:
                out = os.path.join(d, '%s-%s.callgrind' % (name, op))
                run_ide(q + '64', image, op, a.commands, out, target)
                per.append(functions(out)[0] / a.commands)
            print('  %-6s %10.0f %10.0f %7.2f' % (op, per[0], per[1], per[1] / per[0]))
    print('ratio = %s / %s' % (runs[1][0], runs[0][0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--stock', default=os.path.join(TOP, 'build/stock/build/qemu-system-sparc'))
    ap.add_argument('--patched', default=os.path.join(TOP, 'build/qemu/build/qemu-system-sparc'))
    ap.add_argument('--commands', type=int, default=4)
    ap.add_argument('--top', type=int, default=12)
    ap.add_argument('--lance', action='store_true',
                    help='count per Lance frame instead of per ESP data phase')
    ap.add_argument('--frames', type=int, default=2048)
    ap.add_argument('--linux', action='store_true',
                    help='replay the ESP and IOMMU accesses of Linux\'s 1 MiB O_DIRECT reads')
    ap.add_argument('--ide', action='store_true',
                    help='count per MiB of sun4u IDE DMA instead')
    ap.add_argument('--p2p', action='store_true',
                    help='with --ide: the series into RAM against into iopmem')
    a = ap.parse_args()
    if a.ide:
        main_ide(a)
        return
    if a.lance:
        main_lance(a)
        return
    if a.linux:
        main_linux(a)
        return
    with tempfile.TemporaryDirectory(prefix='dma-rw-instr.') as d:
        image = os.path.join(d, 'disk.img')
        esp.make_image(image, a.commands * PAGES * PAGE)
        res = {}
        for name, q in (('stock', a.stock), ('patched', a.patched)):
            out = os.path.join(d, '%s.callgrind' % name)
            phases = run(q, image, a.commands, out)
            res[name] = (phases,) + functions(out)
    kib = a.commands * PAGES * PAGE // 1024
    print('%d READs of %d KiB, one DMA programming per 4 KiB page'
          % (a.commands, PAGES * PAGE // 1024))
    print('instructions in the ESP and ESPDMA register handlers:')
    for name, (phases, total, _) in res.items():
        print('  %-8s %10d total, %7.0f per data phase, %6.0f per KiB'
              % (name, total, total / phases, total / kib))
    s, p = res['stock'][2], res['patched'][2]
    diff = sorted(((p.get(f, 0) - s.get(f, 0), f) for f in set(s) | set(p)),
                  key=lambda x: -abs(x[0]))
    print('largest differences, patched - stock (instructions per data phase):')
    for d_, f in diff[:a.top]:
        print('  %+8.0f  %s' % (d_ / res['patched'][0], f))


if __name__ == '__main__':
    main()

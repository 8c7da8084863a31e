#!/usr/bin/env python3
"""IDE bus-master DMA on sun4u (Ultra 5), driven over qtest as libata drives it.

The cmd646 sits behind the simba bridge and the sabre's IOMMU. This module
plays the OS: it sets up the bridge, the cmd646 and the IOMMU as OpenBIOS
and psycho_iommu_init() leave them, maps a buffer of scattered 8K pages,
and issues READ DMA EXT / WRITE DMA EXT through a PRD table of 64 KiB
entries (ata_bmdma_setup(), ata_bmdma_start()). Each command is timed on
the host from the start bit to the bus master status showing the
interrupt, and its data is checked against the image.

Register layouts are those of the Ultra 5 (hw/sparc64/sun4u.c), the
UltraSPARC-IIi IOMMU (Linux's psycho_common.c) and SFF-8038i bus master
IDE; nothing here is taken from the code under test. There is no shared
memory backend on sun4u, so buffers go through the qtest socket, outside
the timed part.

With target='iopmem' the buffer is instead an iopmem device's BAR on bus 2
(behind the other simba), at a bus address in that bridge's window: the
PRDs point there, the sabre hands the DMA to the peer before its IOMMU,
and the disk's data move between the disk and the device's memory
backend, a shared file in /dev/shm: peer-to-peer DMA. 'iopmem-ram' backs
the BAR with anonymous memory instead, as guest RAM is (with transparent
huge pages, which this host's tmpfs does not give the shared file).
"""

import base64
import os
import random
import struct
import time

from sun4m import DataError, qemu_python

SABRE = 0x1fe00000000
PCI_CFG = SABRE + 0x1000000
PCI_IO = SABRE + 0x2000000
IOMMU_CTRL, IOMMU_TSB = SABRE + 0x200, SABRE + 0x208
CTRL_ENAB = 0x1
TSB_SIZE = 3                    # 8K TTEs for 64 MiB of DVMA
TTE_V, TTE_CACHE, TTE_W = 1 << 63, 0x10, 0x2

SIMBA_A, CMD646 = (1 << 3) | 1, 3 << 3      # devfn 1.1 on bus 0, 3.0 on bus 1
SIMBA_B, IOPMEM = 1 << 3, 2 << 3            # devfn 1.0 on bus 0, 2.0 on bus 2
PCI_MEM = SABRE + 0x100000000
P2P_BAR, P2P_SIZE = 0x20000000, 64 << 20
IDE_IO, IDE_CTL, IDE_BM = 0x1000, 0x1010, 0x1020
ATA_READ_DMA_EXT, ATA_WRITE_DMA_EXT = 0x25, 0x35
BM_START, BM_TO_MEM = 0x01, 0x08
BM_ACTIVE, BM_ERR, BM_INTR = 0x01, 0x02, 0x04

PAGE = 8192
DVMA = 0xc0000000
TSB = 0x00400000
PRDT = DVMA                     # DVMA page 0; the buffer follows
BUF = DVMA + PAGE
MAX_BYTES = 65536 * 512         # LBA48's largest command: 512 PRDs of 64 KiB


def pci_cfg(bus, devfn, reg, size, v):
    """The qtest command writing @size bytes of @v to a configuration register"""
    cmd = {1: 'writeb', 2: 'writew', 4: 'writel'}[size]
    v = int.from_bytes(v.to_bytes(size, 'little'), 'big')   # PCI is little-endian
    return '%s 0x%x 0x%x' % (cmd, PCI_CFG + (bus << 16 | devfn << 8 | reg), v)


def iopmem_setup(mem_bar, mem_size, regs_bar=None):
    """The qtest commands that number bus 2 behind simba B and place iopmem's
    BAR2 (and BAR0 at @regs_bar) in the bridge's windows"""
    cmds = [pci_cfg(0, SIMBA_B, 0x19, 1, 2), pci_cfg(0, SIMBA_B, 0x1a, 1, 2),
            pci_cfg(0, SIMBA_B, 0x24, 2, mem_bar >> 16),
            pci_cfg(0, SIMBA_B, 0x26, 2, (mem_bar + mem_size - 1) >> 16),
            pci_cfg(0, SIMBA_B, 0x04, 2, 0x2),
            pci_cfg(2, IOPMEM, 0x18, 4, mem_bar), pci_cfg(2, IOPMEM, 0x1c, 4, 0)]
    if regs_bar is not None:
        cmds += [pci_cfg(0, SIMBA_B, 0x20, 2, regs_bar >> 16),
                 pci_cfg(0, SIMBA_B, 0x22, 2, regs_bar >> 16),
                 pci_cfg(2, IOPMEM, 0x10, 4, regs_bar)]
    return cmds + [pci_cfg(2, IOPMEM, 0x04, 2, 0x2)]


class Sun4u:
    """qemu-system-sparc64 -M sun4u under qtest, with the options @args."""

    def __init__(self, qemu, args, name):
        qemu_python()
        from qemu.machine.qtest import QEMUQtestMachine
        self.vm = QEMUQtestMachine(
            qemu, args=['-M', 'sun4u', '-nodefaults', '-display', 'none',
                        '-qtest-log', '/dev/null'] + args,
            name='%s-%d' % (name, os.getpid()), base_temp_dir='/tmp')
        self.vm.launch()

    def close(self):
        self.vm.shutdown()

    def batch(self, cmds):
        q = self.vm._qtest  # pylint: disable=protected-access
        q._sock.sendall(''.join(c + '\n' for c in cmds).encode())
        out = [q._sockfile.readline() for _ in cmds]
        for c, r in zip(cmds, out):
            if not r.startswith('OK'):
                raise RuntimeError('qtest %r: %r' % (c, r))
        return out

    def memwrite(self, addr, data):
        self.batch(['b64write 0x%x 0x%x %s' % (addr, len(data),
                                                base64.b64encode(data).decode())])

    def memread(self, addr, n):
        return base64.b64decode(self.batch(['b64read 0x%x 0x%x' % (addr, n)])[0].split()[1])


class IDE(Sun4u):
    """A sun4u with a disk on the cmd646."""

    def __init__(self, qemu, image, drive_opts='', max_bytes=MAX_BYTES, seed=1,
                 target='ram'):
        opts = ',' + drive_opts if drive_opts else ''
        args = ['-m', '512',
                '-drive', 'file=%s,if=ide,index=0,format=raw%s' % (image, opts)]
        self.target = target
        self.mem = None
        if target == 'iopmem':
            shm = '/dev/shm' if os.access('/dev/shm', os.W_OK) else '/tmp'
            self.mem = os.path.join(shm, 'dma-rw-iopmem-%d' % os.getpid())
            args += ['-object', 'memory-backend-file,id=pm,mem-path=%s,size=%d,share=on'
                     % (self.mem, P2P_SIZE)]
        elif target == 'iopmem-ram':
            args += ['-object', 'memory-backend-ram,id=pm,size=%d' % P2P_SIZE]
        if target != 'ram':
            assert max_bytes <= P2P_SIZE
            args += ['-device', 'iopmem,memdev=pm,bus=pciB,addr=2.0']
        super().__init__(qemu, args, 'ide')
        npages = -(-max_bytes // PAGE)
        frames = list(range((64 << 20) // PAGE, (512 << 20) // PAGE, 2))
        self.pages = [f * PAGE for f in random.Random(seed).sample(frames, npages + 1)]
        self.setup()

    def close(self):
        super().close()
        if self.mem:
            os.unlink(self.mem)

    def setup(self):
        cfg = pci_cfg
        self.batch([cfg(0, SIMBA_A, 0x19, 1, 1), cfg(0, SIMBA_A, 0x1a, 1, 1),
                    cfg(0, SIMBA_A, 0x1c, 1, IDE_IO >> 8), cfg(0, SIMBA_A, 0x1d, 1, IDE_IO >> 8),
                    cfg(0, SIMBA_A, 0x04, 2, 0x7),
                    cfg(1, CMD646, 0x10, 4, IDE_IO), cfg(1, CMD646, 0x14, 4, IDE_CTL),
                    cfg(1, CMD646, 0x20, 4, IDE_BM), cfg(1, CMD646, 0x04, 2, 0x5)])
        if self.target != 'ram':
            self.batch(iopmem_setup(P2P_BAR, P2P_SIZE))
        tsb = bytearray((1024 << TSB_SIZE) * 8)
        for i, pa in enumerate(self.pages):
            struct.pack_into('>Q', tsb, 8 * i, TTE_V | TTE_CACHE | TTE_W | pa)
        self.memwrite(TSB, bytes(tsb))
        self.batch(['writeq 0x%x 0x%x' % (IOMMU_TSB, TSB),
                    'writeq 0x%x 0x%x' % (IOMMU_CTRL, TSB_SIZE << 16 | CTRL_ENAB)])

    def buffer(self, nbytes, data=None):
        """Write @data into the buffer's pages, or read @nbytes of them"""
        if self.target != 'ram':
            if data is None:
                return self.memread(PCI_MEM + P2P_BAR, nbytes)
            self.memwrite(PCI_MEM + P2P_BAR, data)
            return b''
        out = bytearray()
        for i in range(0, nbytes, PAGE):
            pa = self.pages[1 + i // PAGE]
            if data is None:
                out += self.memread(pa, min(PAGE, nbytes - i))
            else:
                self.memwrite(pa, data[i:i + PAGE])
        return bytes(out)

    def command(self, op, lba, nbytes):
        """One DMA command; (seconds from start to interrupt, bus master status)"""
        prd = bytearray()
        for off in range(0, nbytes, 65536):
            n = min(65536, nbytes - off)
            last = 0x80000000 if off + n == nbytes else 0
            base = P2P_BAR if self.target != 'ram' else BUF
            prd += struct.pack('<II', base + off, (n & 0xffff) | last)
        self.memwrite(self.pages[0], bytes(prd))
        nsect = nbytes // 512
        to_mem = BM_TO_MEM if op == 'read' else 0

        def io(port, v):
            return 'writeb 0x%x 0x%x' % (PCI_IO + port, v)
        prdt = int.from_bytes(PRDT.to_bytes(4, 'little'), 'big')
        self.batch([io(IDE_BM, 0), io(IDE_BM + 2, BM_ERR | BM_INTR),
                    'writel 0x%x 0x%x' % (PCI_IO + IDE_BM + 4, prdt),
                    io(IDE_BM, to_mem), io(IDE_IO + 6, 0x40),
                    io(IDE_IO + 2, nsect >> 8 & 0xff), io(IDE_IO + 3, lba >> 24 & 0xff),
                    io(IDE_IO + 4, 0), io(IDE_IO + 5, 0),
                    io(IDE_IO + 2, nsect & 0xff), io(IDE_IO + 3, lba & 0xff),
                    io(IDE_IO + 4, lba >> 8 & 0xff), io(IDE_IO + 5, lba >> 16 & 0xff),
                    io(IDE_IO + 7, ATA_READ_DMA_EXT if op == 'read' else ATA_WRITE_DMA_EXT)])
        t0 = time.perf_counter()
        self.batch([io(IDE_BM, to_mem | BM_START)])
        poll = 'readb 0x%x' % (PCI_IO + IDE_BM + 2)
        while True:
            st = int(self.batch([poll])[0].split()[1], 16)
            if st & BM_INTR or not st & BM_ACTIVE:
                break
        t = time.perf_counter() - t0
        self.batch([io(IDE_BM, to_mem), 'readb 0x%x' % (PCI_IO + IDE_IO + 7)])
        return t, st


def run(qemu, image, op, size, total, drive_opts='', seed=1, corrupt=False, target='ram'):
    """Move at least @total bytes in @size commands between the disk and
    @target ('ram' behind the IOMMU, 'iopmem' or 'iopmem-ram'); return the
    measurement.
    @corrupt (self-test) alters the last command's data: the run must raise
    DataError."""
    assert op in ('read', 'write') and size % 512 == 0 and 0 < size <= MAX_BYTES
    img_size = os.path.getsize(image)
    m = IDE(qemu, image, drive_opts, size, seed, target)
    rnd = random.Random(seed)
    fd = os.open(image, os.O_RDONLY)
    try:
        ncmd = max(1, -(-total // size))
        slots = img_size // size
        busy = 0.0
        for i in range(ncmd + 1):           # the first is an untimed warm-up
            off = (i % slots) * size
            if op == 'write':
                data = rnd.randbytes(size)
                m.buffer(size, data)
            else:
                m.buffer(size, bytes(size))
            t, st = m.command(op, off // 512, size)
            if st & (BM_ERR | BM_INTR) != BM_INTR:
                raise DataError('%s at %d: bus master status 0x%x' % (op, off, st))
            busy += t if i else 0
            got = bytearray(m.buffer(size))
            disk = bytearray(os.pread(fd, size, off))
            if corrupt and i == ncmd:
                (got if op == 'read' else disk)[size // 2] ^= 0xff
            if op == 'read' and got != disk:
                raise DataError('READ DMA of %d bytes at %d: guest RAM differs from the image'
                                % (size, off))
            if op == 'write' and disk != data:
                raise DataError('WRITE DMA of %d bytes at %d: the image differs from guest RAM'
                                % (size, off))
    finally:
        os.close(fd)
        m.close()
    nbytes = ncmd * size
    return {'bytes': nbytes, 'seconds': busy, 'MBps': nbytes / busy / 1e6, 'commands': ncmd}


def main():
    import argparse
    import sys
    import tempfile
    import esp
    ap = argparse.ArgumentParser(description='One IDE workload on one binary: MB/s, or the '
                                 'data check that failed')
    ap.add_argument('--qemu', default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), 'build/qemu/build/qemu-system-sparc64'))
    ap.add_argument('--op', default='read', choices=['read', 'write'])
    ap.add_argument('--size', type=int, default=1 << 20)
    ap.add_argument('--total', type=int, default=64 << 20)
    ap.add_argument('--target', default='ram', choices=['ram', 'iopmem', 'iopmem-ram'])
    a = ap.parse_args()
    shm = '/dev/shm' if os.access('/dev/shm', os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix='dma-rw-ide.', dir=shm) as d:
        image = os.path.join(d, 'disk.img')
        esp.make_image(image, 128 << 20)
        try:
            r = run(a.qemu, image, a.op, a.size, a.total, target=a.target)
        except DataError as e:
            sys.exit('ide: %s' % e)
    print('%s %d bytes x %d: %.1f MB/s' % (a.op, a.size, r['commands'], r['MBps']))


if __name__ == '__main__':
    main()

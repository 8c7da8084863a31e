"""ESP SCSI READ(10)/WRITE(10) through ESPDMA and the sun4m IOMMU.

Every command's buffer is a DVMA range mapped onto scattered, non-adjacent
physical pages. Each command is checked byte for byte against the disk image
(READ: guest RAM vs the image; WRITE: the image vs what we put in guest RAM)
before the next one starts; a mismatch raises DataError and the run yields no
figure. Only the commands themselves are timed, not the filling and checking.
"""

import os
import random
import time

from sun4m import DVMA_BASE, PAGE, TOP, DataError, ESPDriver, GuestESPDriver, Sun4m

MAX_COUNT = 0xfffe00    # the largest whole-sector count of the 24-bit counter
# one-sector commands that bring QEMU's coroutine pool to its steady state
# (see run(); `strace -e mmap` counts 258 fresh stacks, then none)
COROUTINE_POOL_WARMUP = 300


def make_image(path, size):
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    rnd = random.Random(0xd15c)
    with open(path + '.tmp', 'wb') as f:
        for _ in range(size >> 20):
            f.write(rnd.randbytes(1 << 20))
    os.rename(path + '.tmp', path)


FIRMWARE = os.path.join(TOP, 'build/espfw.bin')


def run(qemu, image, op, size, total, drive_opts='', seed=1, corrupt=False, guest=False,
        chunk=0):
    """Move at least @total bytes in @size commands; return the measurement.

    The driver is this process over qtest, or with @guest the firmware
    build/espfw.bin on the guest CPU, which also times the commands and
    programs the DMA @chunk bytes at a time (0: the whole command), and
    checks that a READ's data has landed when its status comes. @corrupt
    (self-test) alters the last command's data, or with 'late' makes the
    firmware's landing check see its sentinel: the run must raise
    DataError."""
    assert op in ('read', 'write') and size % 512 == 0 and 0 < size <= MAX_COUNT
    assert corrupt != 'late' or (guest and op == 'read'), 'only the firmware checks landing'
    img_size = os.path.getsize(image)
    opts = ',' + drive_opts if drive_opts else ''
    m = Sun4m(qemu, args=['-drive', 'file=%s,if=scsi,bus=0,unit=0,format=raw%s'
                          % (image, opts)], name='esp', firmware=FIRMWARE if guest else None)
    try:
        m.iommu_init()
        pages = m.scattered_pages((size + PAGE - 1) // PAGE, seed)
        m.iommu_map(DVMA_BASE, pages)
        esp = GuestESPDriver(m, chunk=chunk) if guest else ESPDriver(m)
        rnd = random.Random(seed)
        fd = os.open(image, os.O_RDONLY)
        ncmd = max(1, -(-total // size))
        slots = img_size // size
        busy = 0.0
        # one untimed command first: the first one pays for cold caches
        status, msg = (esp.read10 if op == 'read' else esp.write10)(0, DVMA_BASE, size)
        if status != 0 or msg != 0:
            raise DataError('%s warm-up: SCSI status 0x%x message 0x%x' % (op, status, msg))
        # then enough one-sector commands to bring QEMU's coroutine pool to
        # its steady state. Each request's coroutine is created on the vCPU
        # thread and ends on the main loop's, so the vCPU thread gets a fresh
        # stack (an mmap and its page faults, tens of microseconds) for every
        # command until the coroutines that ended on the main loop come back
        # to it through the global pool, in batches of 128. A guest that has
        # been up a while is past that.
        for _ in range(COROUTINE_POOL_WARMUP):
            status, msg = esp.read10(0, DVMA_BASE, 512)
            if status != 0 or msg != 0:
                raise DataError('warm-up: SCSI status 0x%x message 0x%x' % (status, msg))
        for i in range(ncmd):
            off = (i % slots) * size
            if op == 'write':
                data = rnd.randbytes(size)
                m.scatter(pages, data)
            else:
                m.scatter(pages, bytes(size))  # no stale data can pass the check
                want = os.pread(fd, size, off)
            t0 = time.perf_counter()
            if op == 'read' and guest:
                # the firmware checks that all of it landed before the status
                status, msg = esp.read10(off // 512, DVMA_BASE, size, want,
                                         corrupt == 'late' and i == ncmd - 1)
            elif op == 'read':
                status, msg = esp.read10(off // 512, DVMA_BASE, size)
            else:
                status, msg = esp.write10(off // 512, DVMA_BASE, size)
            busy += esp.seconds if guest else time.perf_counter() - t0
            if status != 0 or msg != 0:
                raise DataError('%s at %d: SCSI status 0x%x message 0x%x'
                                % (op, off, status, msg))
            got = m.gather(pages, size)
            if corrupt is True and i == ncmd - 1:
                got[size // 2] ^= 0xff
            if op == 'read':
                if got != want:
                    raise DataError('READ of %d bytes at %d: guest RAM differs from the image'
                                    % (size, off))
            else:
                disk = bytearray(os.pread(fd, size, off))
                if corrupt is True and i == ncmd - 1:
                    disk[0] ^= 0xff
                if disk != data or got != data:
                    raise DataError('WRITE of %d bytes at %d: the image differs from guest RAM'
                                    % (size, off))
        os.close(fd)
        counters = dma_counters(m)
    finally:
        m.close()
    nbytes = ncmd * size
    LAST_COUNTERS[qemu] = counters
    return {'bytes': nbytes, 'seconds': busy, 'MBps': nbytes / busy / 1e6,
            'commands': ncmd, 'counters': counters}


# the DMA counters of the last run() of each binary (None: not exposed)
LAST_COUNTERS = {}


def dma_counters(m):
    """ESPDMA's bus master counters, or None on a QEMU without them."""
    out = {}
    for prop in ('zero-copy-bytes', 'copied-bytes', 'bounced-bytes'):
        r = m.vm.qmp('qom-get', path='espdma', property=prop)
        if 'return' not in r:
            return None
        out[prop] = r['return']
    return out

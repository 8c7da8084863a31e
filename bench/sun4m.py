"""Drive a sun4m machine (SS-5) over the qtest protocol, as a guest driver would.

The machine runs with '-accel qtest': no CPU, no firmware. This module plays
the guest: it builds an IOMMU page table, programs ESPDMA/ESP and LEDMA/Lance
registers and waits for their status bits, the way Linux's sun_esp/esp_scsi
and sunlance drivers do. Guest RAM is a shared memory file mapped here too,
so buffers are filled and checked without going through the qtest socket.

Register layouts are those of the SS-5 (hw/sparc/sun4m.c, ss5_hwdef) and of
the chips' data sheets; nothing here is taken from the code under test.
"""

import mmap
import os
import random
import socket
import struct
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# SS-5 physical addresses
IOMMU = 0x10000000
ESPDMA = 0x78400000
LEDMA = 0x78400010
ESP = 0x78800000
LANCE = 0x78c00000

# sun4m IOMMU (Sun-4M System Architecture, IOMMU chapter)
IOMMU_CTRL, IOMMU_BASE, IOMMU_TLBFLUSH = 0x0, 0x4, 0x14
IOMMU_AFSR, IOMMU_AFAR = 0x1000, 0x1004
IOMMU_CTRL_ENAB = 0x1
IOMMU_RNGE_64MB = 0x8
IOPTE_VALID, IOPTE_WRITE = 0x2, 0x4
PAGE = 4096

# the ESP's interrupt controller input (hw/sparc/sun4m.c)
ESP_IRQ = 18

# DMA2 (ESPDMA, LEDMA) CSR
DMA_INTREN, DMA_RESET, DMA_WRITE_MEM, DMA_EN = 0x10, 0x80, 0x100, 0x200

# NCR53C9x registers (byte wide, 4 bytes apart on SBus)
ESP_TCLO, ESP_TCMID, ESP_FIFO, ESP_CMD, ESP_STAT, ESP_BUSID, ESP_INTR = 0, 1, 2, 3, 4, 4, 5
ESP_CFG1, ESP_CFG2, ESP_TCHI = 8, 0xb, 0xe
CMD_DMA, CMD_RESET, CMD_TI, CMD_ICCS, CMD_MSGACC, CMD_SELATN = 0x80, 0x02, 0x10, 0x11, 0x12, 0x42
STAT_INT, STAT_TC, STAT_PHASE = 0x80, 0x10, 0x7
PHASE_DO, PHASE_DI, PHASE_ST = 0, 1, 3
CFG2_FENAB = 0x40           # features enable: 24-bit transfer counter

# DVMA window (64 MiB at the top of the address space, as Linux uses)
DVMA_BASE = 0xfc000000
PT_PHYS = 0x00100000        # IOMMU page table: 64 KiB for 64 MiB of DVMA


def qemu_python():
    path = os.path.join(TOP, 'build/qemu/python')
    if path not in sys.path:
        sys.path.insert(0, path)


class DataError(Exception):
    """The data a workload moved is not the data it should have moved."""


class Sun4m:
    """One qemu-system-sparc -M SS-5, guest RAM shared with us.

    By default the machine runs under qtest and this module is its driver.
    With @firmware it runs that PROM image on its CPU instead, stopped until
    start(), so that the host can prepare guest RAM first."""

    def __init__(self, qemu, ram_mb=256, args=(), name='bench', firmware=None):
        qemu_python()
        self.ram_size = ram_mb << 20
        self.firmware = firmware
        self.irq_level = {}
        self.shm = '/dev/shm/dma-rw-%s-%d' % (name, os.getpid())
        fd = os.open(self.shm, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.ftruncate(fd, self.ram_size)
        self.ram = mmap.mmap(fd, self.ram_size)
        self.ram_words = memoryview(self.ram).cast('I')
        os.close(fd)
        base = ['-machine', 'SS-5,memory-backend=ram', '-m', '%dM' % ram_mb,
                '-object', 'memory-backend-file,id=ram,size=%dM,mem-path=%s,share=on'
                % (ram_mb, self.shm),
                '-display', 'none', '-nodefaults']
        if firmware:
            from qemu.machine import QEMUMachine
            self.vm = QEMUMachine(qemu, args=base + ['-bios', firmware, '-S'] + list(args),
                                  name='%s-%d' % (name, os.getpid()), base_temp_dir='/tmp')
        else:
            from qemu.machine.qtest import QEMUQtestMachine
            # qtest logs every command to stderr by default, which the
            # machine class saves to a file: a formatted write per
            # register access that would be timed with the device
            base += ['-qtest-log', '/dev/null']
            self.vm = QEMUQtestMachine(qemu, args=base + list(args),
                                       name='%s-%d' % (name, os.getpid()), base_temp_dir='/tmp')
        self.vm.launch()

    def start(self):
        """Let the CPU run (firmware mode)."""
        self.vm.qmp('cont')

    def close(self):
        try:
            self.vm.shutdown()
        finally:
            self.ram_words.release()
            self.ram.close()
            os.unlink(self.shm)

    # --- qtest accessors -------------------------------------------------
    # The socket is read here rather than through the machine class, because
    # once interrupts are intercepted qtest interleaves "IRQ raise/lower N"
    # lines with the answers to our commands.
    def _line(self):
        """The next line from qtest; None for an interrupt report."""
        line = self.vm._qtest._sockfile.readline()  # pylint: disable=protected-access
        if not line:
            raise RuntimeError('qtest: connection closed')
        if line.startswith('IRQ '):
            _, what, num = line.split()
            self.irq_level[int(num)] = what == 'raise'
            return None
        return line

    def _answer(self):
        while True:
            line = self._line()
            if line is not None:
                return line

    def _cmd(self, s):
        return self.batch([s])[0]

    def batch(self, cmds):
        """Send several qtest commands at once; return their answers.

        Pipelining keeps the socket round trips, which cost as much as a
        small DMA, out of the measurement as far as a real driver's own
        register accesses allow."""
        q = self.vm._qtest  # pylint: disable=protected-access
        q._sock.sendall(''.join(c + '\n' for c in cmds).encode())
        out = [self._answer() for _ in cmds]
        for c, r in zip(cmds, out):
            if not r.startswith('OK'):
                raise RuntimeError('qtest %r: %r' % (c, r))
        return out

    def intercept_irqs(self):
        """Have qtest report the interrupt controller's inputs to us.

        A driver sleeps until its device interrupts; polling a status
        register instead would keep a host CPU busy answering us while the
        device model's I/O threads wait for one."""
        r = self.vm.qmp('qom-list', path='/machine/unattached')
        intctl = [c['name'] for c in r['return'] if c['type'] == 'child<slavio_intctl>']
        self.irq_level = {}
        self._cmd('irq_intercept_in /machine/unattached/' + intctl[0])

    def wait_irq(self, num, timeout=60.0):
        """Sleep until interrupt line @num is raised."""
        sock = self.vm._qtest._sock  # pylint: disable=protected-access
        sock.settimeout(timeout)
        try:
            while not self.irq_level.get(num):
                line = self._line()
                if line is not None:
                    raise RuntimeError('qtest: unexpected %r' % line)
        except (socket.timeout, TimeoutError):
            raise RuntimeError('no interrupt on line %d' % num) from None
        finally:
            sock.settimeout(None)

    def readb(self, a):
        return int(self._cmd('readb 0x%x' % a).split()[1], 16)

    def writeb(self, a, v):
        self._cmd('writeb 0x%x 0x%x' % (a, v))

    def readw(self, a):
        return int(self._cmd('readw 0x%x' % a).split()[1], 16)

    def writew(self, a, v):
        self._cmd('writew 0x%x 0x%x' % (a, v))

    def readl(self, a):
        return int(self._cmd('readl 0x%x' % a).split()[1], 16)

    def writel(self, a, v):
        self._cmd('writel 0x%x 0x%x' % (a, v))

    # --- IOMMU -------------------------------------------------------------
    def iommu_init(self):
        """Enable a 64 MiB DVMA window at 0xfc000000, every IOPTE invalid."""
        self.ram[PT_PHYS:PT_PHYS + 0x10000] = bytes(0x10000)
        if self.firmware:
            return      # the firmware enables it as it starts
        self.writel(IOMMU + IOMMU_BASE, PT_PHYS >> 4)
        self.writel(IOMMU + IOMMU_CTRL, IOMMU_RNGE_64MB | IOMMU_CTRL_ENAB)
        self.writel(IOMMU + IOMMU_TLBFLUSH, 0)

    def iommu_map(self, dvma, phys_pages, writable=True):
        """Map consecutive DVMA pages onto the given physical pages."""
        idx = (dvma - DVMA_BASE) // PAGE
        for i, pa in enumerate(phys_pages):
            pte = ((pa >> 4) & 0xffffff00) | IOPTE_VALID | (IOPTE_WRITE if writable else 0)
            off = PT_PHYS + 4 * (idx + i)
            self.ram[off:off + 4] = struct.pack('>I', pte)
        if not self.firmware:
            self.writel(IOMMU + IOMMU_TLBFLUSH, 0)   # the firmware flushes as it starts

    def scattered_pages(self, n, seed, low=16 << 20):
        """n distinct, pairwise non-adjacent physical pages above @low."""
        frames = list(range(low // PAGE, self.ram_size // PAGE, 2))
        if n > len(frames):
            raise ValueError('not enough RAM for %d scattered pages' % n)
        return [f * PAGE for f in random.Random(seed).sample(frames, n)]

    def gather(self, pages, length):
        """The bytes of a DVMA buffer mapped onto @pages, as the device sees them."""
        out = bytearray(length)
        mv = memoryview(out)
        for i, pa in enumerate(pages):
            off = i * PAGE
            if off >= length:
                break
            n = min(PAGE, length - off)
            mv[off:off + n] = self.ram[pa:pa + n]
        return out

    def scatter(self, pages, data):
        mv = memoryview(data)
        for i, pa in enumerate(pages):
            off = i * PAGE
            if off >= len(data):
                break
            n = min(PAGE, len(data) - off)
            self.ram[pa:pa + n] = mv[off:off + n]


class ESPDriver:
    """The on-board ESP behind ESPDMA, driven like Linux's sun_esp."""

    def __init__(self, m, target=0):
        self.m = m
        self.target = target
        m.intercept_irqs()
        m.writel(ESPDMA, DMA_RESET)                 # a pulse, as Linux gives it
        m.writel(ESPDMA, 0)
        m.writeb(ESP + 4 * ESP_CMD, CMD_RESET)
        m.writeb(ESP + 4 * ESP_CFG1, 7)            # own SCSI id 7
        m.writeb(ESP + 4 * ESP_CFG2, CFG2_FENAB)
        self.reg(ESP_INTR)
        m.writel(ESPDMA, DMA_INTREN)
        # The first command after power-on reports UNIT ATTENTION
        for _ in range(3):
            if self.command(bytes(6), 0, 0, True) == (0, 0):
                break

    def reg(self, r):
        return self.m.readb(ESP + 4 * r)

    def setreg(self, r, v):
        self.m.writeb(ESP + 4 * r, v)

    def wait_int(self, timeout=60.0):
        """Sleep until the ESP interrupts; return (status, interrupt)."""
        self.m.wait_irq(ESP_IRQ, timeout)
        st, intr = (int(r.split()[1], 16) for r in self.m.batch(
            ['readb 0x%x' % (ESP + 4 * ESP_STAT), 'readb 0x%x' % (ESP + 4 * ESP_INTR)]))
        if not st & STAT_INT:
            raise RuntimeError('ESP: interrupt without INT in status 0x%02x' % st)
        return st, intr

    def command(self, cdb, dvma, count, to_memory, chunk=0):
        """Run one SCSI command with a DMA data phase, programmed @chunk
        bytes at a time (0: all at once, else as Linux's esp_scsi does per
        scatter-gather entry); return (status, msg)."""
        m = self.m
        # Select with ATN: IDENTIFY + CDB through the FIFO
        m.batch(['writeb 0x%x 0x%x' % (ESP + 4 * ESP_FIFO, b) for b in bytes([0x80]) + cdb] +
                ['writeb 0x%x 0x%x' % (ESP + 4 * ESP_BUSID, self.target),
                 'writeb 0x%x 0x%x' % (ESP + 4 * ESP_CMD, CMD_SELATN)])
        st, _ = self.wait_int()
        if st & STAT_PHASE == PHASE_ST:
            return self.status_phase()
        want = PHASE_DI if to_memory else PHASE_DO
        if st & STAT_PHASE != want:
            raise RuntimeError('ESP: phase %d after selection, expected %d' % (st & 7, want))
        # Data phase: ESPDMA direction, then per DMA programming its address,
        # the ESP's count and TI with DMA
        csr = ['writel 0x%x 0x%x' % (ESPDMA, DMA_INTREN | DMA_EN |
                                     (DMA_WRITE_MEM if to_memory else 0))]
        done = 0
        while True:
            n = min(chunk, count - done) if chunk else count
            m.batch(csr + ['writel 0x%x 0x%x' % (ESPDMA + 4, dvma + done),
                           'writeb 0x%x 0x%x' % (ESP + 4 * ESP_TCLO, n & 0xff),
                           'writeb 0x%x 0x%x' % (ESP + 4 * ESP_TCMID, (n >> 8) & 0xff),
                           'writeb 0x%x 0x%x' % (ESP + 4 * ESP_TCHI, (n >> 16) & 0xff),
                           'writeb 0x%x 0x%x' % (ESP + 4 * ESP_CMD, CMD_DMA | CMD_TI)])
            csr = []
            st, _ = self.wait_int()
            done += n
            if st & STAT_PHASE == PHASE_ST or done >= count:
                break
        while st & STAT_PHASE != PHASE_ST:
            st, _ = self.wait_int()
        return self.status_phase(['writel 0x%x 0x%x' % (ESPDMA, DMA_INTREN)])

    def status_phase(self, before=()):
        """Status and message in, then accept the message."""
        m = self.m
        m.batch(list(before) + ['writeb 0x%x 0x%x' % (ESP + 4 * ESP_CMD, CMD_ICCS)])
        self.wait_int()
        status, msg, _ = m.batch(['readb 0x%x' % (ESP + 4 * ESP_FIFO)] * 2 +
                                 ['writeb 0x%x 0x%x' % (ESP + 4 * ESP_CMD, CMD_MSGACC)])
        self.wait_int()
        return int(status.split()[1], 16), int(msg.split()[1], 16)

    def read10(self, lba, dvma, nbytes, chunk=0):
        cdb = struct.pack('>BBIBHB', 0x28, 0, lba, 0, nbytes // 512, 0)
        return self.command(cdb, dvma, nbytes, True, chunk)

    def write10(self, lba, dvma, nbytes, chunk=0):
        cdb = struct.pack('>BBIBHB', 0x2a, 0, lba, 0, nbytes // 512, 0)
        return self.command(cdb, dvma, nbytes, False, chunk)


# The firmware's mailbox (bench/fw/espfw.c)
FW_MBOX = 0x10000
MB_MAGIC, MB_GO, MB_DONE, MB_OP, MB_LBA, MB_LEN, MB_DVMA, MB_TARGET, MB_TICKS, MB_STATUS, \
    MB_PT, MB_CHUNK, MB_RUNS, MB_SENTINEL = range(0, 0x38, 4)
FW_TRAP = 0x10040           # the trap type, if the firmware took a trap
MB_READY = 0x45535046
FW_ERRORS = {1: 'unexpected phase after selection', 2: 'ESPDMA error',
             3: 'status before the data: a page end still held the sentinel'}


def page_end_words(dvma, want):
    """The last word of each page of @want, to land at @dvma, as the
    firmware checks them (pages holding less than a word are skipped)."""
    assert dvma % 4 == 0
    out, a, end = [], dvma, dvma + len(want)
    while a < end:
        e = min((a | (PAGE - 1)) + 1, end)
        if e - a >= 4:
            out.append(int.from_bytes(want[e - 4 - dvma:e - dvma], 'big'))
        a = (a | (PAGE - 1)) + 1
    return out


def page_end_sentinel(dvma, want, bad=False):
    """A word that no page end of @want holds (0 means no check). With
    @bad (self-test), one that a page end does hold."""
    ends = set(page_end_words(dvma, want))
    if bad:
        held = sorted(ends - {0})
        if not held:
            raise RuntimeError('self-test: every page end of the data is 0')
        return held[-1]
    v = 0x5e471e10
    while v in ends:
        v += 1
    return v


# a job whose time by the counter cannot be right is run again, this often
TIMING_TRIES = 3


class Mailbox:
    """A firmware's mailbox in guest RAM at FW_MBOX: big-endian words."""

    def __init__(self, m, timeout):
        self.m = m
        self.timeout = timeout
        m.ram[FW_MBOX:FW_MBOX + 0x44] = bytes(0x44)

    def get(self, off):
        return struct.unpack_from('>I', self.m.ram, FW_MBOX + off)[0]

    def set(self, off, v):
        # one aligned 32-bit store: struct.pack_into() zero-fills first,
        # and the firmware would see the word pass through 0
        self.m.ram_words[(FW_MBOX + off) // 4] = int.from_bytes(v.to_bytes(4, 'big'),
                                                                sys.byteorder)

    def go(self, seq, ticks, runs, what):
        """Have the firmware do job @seq (both firmwares keep GO at 0x04 and
        DONE at 0x08); return its time by the machine's counter, read at
        @ticks and checked against the host's clock and the job count at
        @runs, or None if that time cannot be right."""
        t0 = time.perf_counter()
        self.set(MB_GO, seq)
        self.wait(MB_DONE, seq, '%s %d did not finish' % (what, seq))
        wall = time.perf_counter() - t0
        seconds = self.get(ticks) * 500e-9
        if self.get(runs) != seq:
            raise RuntimeError('firmware did %d %ss for %d' % (self.get(runs), what, seq))
        # The counter wraps after 2.1 s, and the host's clock bounds the
        # time. Near a wrap, the counter can also read stale: QEMU holds it
        # at its limit from the moment the wrap is due until the main loop
        # runs the timer, so a job that starts then looks longer than it
        # was. Such a time measures nothing: None, for the caller to run
        # the job again.
        if wall > 2.0 or seconds > wall:
            return None
        return seconds

    def wait(self, off, value, what, failed=None):
        """Until word @off holds @value; not if it holds @failed."""
        deadline = time.monotonic() + self.timeout
        while self.get(off) != value:
            trap = struct.unpack_from('>I', self.m.ram, FW_TRAP)[0]
            if trap or time.monotonic() > deadline or self.get(off) == failed:
                raise RuntimeError('%s (mailbox %s, trap 0x%x)' % (
                    what, self.m.ram[FW_MBOX:FW_MBOX + 0x40].hex(), trap))
            time.sleep(0.0001)


class GuestESPDriver:
    """The on-board ESP driven by bench/fw/espfw.c on the guest CPU.

    The host only passes commands through a mailbox in guest RAM; the
    firmware programs the chips and times each command with the machine's
    own counter, so no socket round trip is in the measurement.
    seconds holds the time of the last command."""

    def __init__(self, m, target=0, timeout=30.0, chunk=0):
        self.m = m
        self.seq = 0
        self.seconds = 0.0
        self.mb = Mailbox(m, timeout)
        self.mb.set(MB_TARGET, target)
        self.mb.set(MB_PT, PT_PHYS)
        self.mb.set(MB_CHUNK, chunk)      # bytes per DMA programming, 0: all
        m.start()
        self.mb.wait(MB_MAGIC, MB_READY, 'the firmware did not start')

    def command(self, op, lba, dvma, nbytes, want=None, bad_sentinel=False):
        """Run a command; with @want, the data a READ must have landed
        (whole, checked at each page end) when its status comes.
        @bad_sentinel (self-test): pick a word a page end of the data
        holds, which the check must take for data that came late."""
        self.mb.set(MB_SENTINEL, page_end_sentinel(dvma, want, bad_sentinel) if want else 0)
        self.mb.set(MB_OP, op)
        self.mb.set(MB_LBA, lba)
        self.mb.set(MB_LEN, nbytes)
        self.mb.set(MB_DVMA, dvma)
        for _ in range(TIMING_TRIES):
            self.seq += 1
            self.seconds = self.mb.go(self.seq, MB_TICKS, MB_RUNS, 'command')
            r = self.mb.get(MB_STATUS)
            if r >> 16 == 3:
                raise DataError('command %d: %s' % (self.seq, FW_ERRORS[3]))
            if r >> 16:
                raise RuntimeError('firmware: %s' % FW_ERRORS.get(r >> 16, r >> 16))
            if self.seconds is not None:
                return r & 0xff, (r >> 8) & 0xff
        raise RuntimeError('command %d: the counter disagreed with the host clock %d times'
                           % (self.seq, TIMING_TRIES))

    def read10(self, lba, dvma, nbytes, want=None, bad_sentinel=False):
        return self.command(0x28, lba, dvma, nbytes, want, bad_sentinel)

    def write10(self, lba, dvma, nbytes):
        return self.command(0x2a, lba, dvma, nbytes)


# Am7990 (Lance)
CSR0_INIT, CSR0_STRT, CSR0_STOP, CSR0_TDMD = 0x1, 0x2, 0x4, 0x8
CSR0_IDON, CSR0_TINT, CSR0_RINT, CSR0_MISS, CSR0_MERR = 0x100, 0x200, 0x400, 0x1000, 0x800
CSR3_BSWP, CSR3_ACON, CSR3_BCON = 0x4, 0x2, 0x1
MODE_PROM, MODE_INTL, MODE_LOOP = 0x8000, 0x0040, 0x0004
DESC_OWN, DESC_ERR, DESC_STP, DESC_ENP = 0x8000, 0x4000, 0x0200, 0x0100
RING_LOG2 = 7                   # 128 descriptors, the Am7990 maximum
RING = 1 << RING_LOG2
BUF = 1536

# Lance's 24-bit view, offset into the 16 MiB DVMA slice LEDMA's high
# address register selects (0xff000000).
LE_DVMA = 0xff000000
LE_IB, LE_RXRING, LE_TXRING = 0x0, 0x100, 0x800
LE_RXBUF, LE_TXBUF = 0x10000, 0x40000
LE_SPAN = 0x80000


class LanceDriver:
    """The on-board Lance behind LEDMA, set up like Linux's sunlance."""

    CSR3 = CSR3_BSWP | CSR3_ACON | CSR3_BCON

    def __init__(self, m, seed=2, mode=MODE_PROM):
        """On a machine with firmware, only lay out guest RAM for it."""
        self.m = m
        self.pages = m.scattered_pages(LE_SPAN // PAGE, seed)
        m.iommu_map(LE_DVMA, self.pages)
        ib = struct.pack('>12H', mode, 0, 0, 0, 0, 0, 0, 0,
                         LE_RXRING & 0xffff, RING_LOG2 << 13 | LE_RXRING >> 16,
                         LE_TXRING & 0xffff, RING_LOG2 << 13 | LE_TXRING >> 16)
        self.put(LE_IB, ib)
        for i in range(RING):
            self.rx_desc(i, own=False)
            self.tx_desc(i, 0, own=False)
        if m.firmware:
            return
        m.writel(LEDMA + 0xc, LE_DVMA)         # LEDMA high address register
        m.writel(LEDMA, DMA_INTREN)
        self.csr(0, CSR0_STOP)
        self.csr(3, self.CSR3)
        self.csr(1, LE_IB & 0xffff)
        self.csr(2, LE_IB >> 16)
        self.csr(0, CSR0_INIT)
        deadline = time.monotonic() + 5
        while not self.rcsr(0) & CSR0_IDON:
            if time.monotonic() > deadline:
                raise RuntimeError('Lance: no IDON after INIT')
        self.csr(0, CSR0_IDON | CSR0_STRT)

    # register access: RAP at +2, RDP at +0, 16 bits
    def csr(self, n, v):
        self.m.batch(['writew 0x%x 0x%x' % (LANCE + 2, n), 'writew 0x%x 0x%x' % (LANCE, v)])

    def rcsr(self, n):
        self.m.writew(LANCE + 2, n)
        return self.m.readw(LANCE)

    # guest memory through the IOMMU mapping, in the Lance's address space
    def _phys(self, le):
        return self.pages[le // PAGE] + le % PAGE

    def put(self, le, data):
        mv = memoryview(data)
        while len(mv):
            n = min(len(mv), PAGE - le % PAGE)
            pa = self._phys(le)
            self.m.ram[pa:pa + n] = mv[:n]
            mv, le = mv[n:], le + n

    def get(self, le, n):
        out = bytearray()
        while n:
            k = min(n, PAGE - le % PAGE)
            pa = self._phys(le)
            out += self.m.ram[pa:pa + k]
            n, le = n - k, le + k
        return bytes(out)

    def rx_desc(self, i, own=True):
        a = LE_RXBUF + i * BUF
        self.put(LE_RXRING + 8 * i, struct.pack('>4H', a & 0xffff,
                                                (DESC_OWN if own else 0) | a >> 16,
                                                (-BUF) & 0xffff, 0))

    def tx_desc(self, i, length, own=True):
        a = LE_TXBUF + i * BUF
        flags = (DESC_OWN if own else 0) | DESC_STP | DESC_ENP
        self.put(LE_TXRING + 8 * i, struct.pack('>4H', a & 0xffff, flags | a >> 16,
                                                (-length) & 0xffff, 0))

    def desc(self, ring, i):
        return struct.unpack('>4H', self.get(ring + 8 * i, 8))


# The Lance firmware's mailbox (bench/fw/lancefw.c)
LB_MAGIC, _, _, LB_ROUNDS, LB_NDESC, LB_TXRING, LB_TICKS, LB_BAD, LB_PT, LB_IB, \
    LB_DVMA_HI, LB_CSR3, LB_RUNS = range(0, 0x34, 4)
LB_READY, LB_NO_IDON = 0x4c4e4346, 0x4e4f4944


class GuestLance(LanceDriver):
    """The on-board Lance driven by bench/fw/lancefw.c on the guest CPU.

    The host lays out the init block, the ring and the frames before the
    CPU starts; the firmware then hands the whole transmit ring to the chip
    and kicks it, round after round, and times each run of rounds with the
    machine's own counter. seconds holds the time of the last run."""

    def __init__(self, m, frames, timeout=30.0):
        assert m.firmware and len(frames) == RING, 'the chip goes round the whole ring'
        super().__init__(m)
        for i, f in enumerate(frames):
            self.put(LE_TXBUF + i * BUF, f)
            self.tx_desc(i, len(f), own=False)
        self.ndesc = len(frames)
        self.runs = 0
        self.seconds = 0.0
        self.mb = Mailbox(m, timeout)
        for off, v in ((LB_NDESC, self.ndesc), (LB_TXRING, self._phys(LE_TXRING)),
                       (LB_PT, PT_PHYS), (LB_IB, LE_IB), (LB_DVMA_HI, LE_DVMA),
                       (LB_CSR3, self.CSR3)):
            self.mb.set(off, v)
        m.start()
        self.mb.wait(LB_MAGIC, LB_READY, 'the Lance firmware did not start', LB_NO_IDON)

    def send(self, rounds):
        """Send the ring @rounds times; return the frames sent."""
        self.mb.set(LB_ROUNDS, rounds)
        for _ in range(TIMING_TRIES):
            self.runs += 1
            self.seconds = self.mb.go(self.runs, LB_TICKS, LB_RUNS, 'run')
            bad = self.mb.get(LB_BAD)
            if bad:
                raise DataError('run %d: %d descriptors came back owned or in error'
                                % (self.runs, bad))
            if self.seconds is not None:
                return rounds * self.ndesc
        raise RuntimeError('run %d: the counter disagreed with the host clock %d times'
                           % (self.runs, TIMING_TRIES))

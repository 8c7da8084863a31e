"""Lance frames through LEDMA and the sun4m IOMMU.

Transmit ('tx'): the ring is filled with numbered frames, TDMD is written
and the harness receives them on the peer of a UDP socket netdev. Receive
('rx'): the harness sends numbered frames to that netdev and collects them
from the receive ring. Each frame carries its sequence number and a
per-slot payload; a lost, reordered or altered frame raises DataError and
the run yields no figure.

Both of those time the host's UDP stack and this harness as much as the
device: a few microseconds a frame each. 'sink' transmits into a hub port
that nothing else is connected to, so that what is timed is mostly the
device: the TDMD write returns after the chip walked the whole ring. The
first ring goes through a filter-dump on the port and is checked there;
the filter is then turned off for the timed rings.

Even there, each ring costs a qtest round trip as long as the device's work
on it. 'guest' sends into the same dead-end hub port, but build/lancefw.bin
(bench/fw/lancefw.c) drives the chip from the guest CPU, as a guest's driver
would: it hands the ring back and kicks it round after round, and times
whole runs of rings itself. The first ring is checked as in 'sink', and
so is one more after the timed runs; in the timed runs, the firmware checks
that every descriptor came back done.
"""

import os
import random
import socket
import struct
import tempfile
import time

from sun4m import (CSR0_TDMD, DESC_ERR, DESC_OWN, LANCE, LE_RXBUF, LE_RXRING, LE_TXBUF,
                   LE_TXRING, BUF, RING, TOP,
                   DataError, GuestLance, LanceDriver, Sun4m)

RX_GROUP = 16
FIRMWARE = os.path.join(TOP, 'build/lancefw.bin')
ROUNDS_PER_RUN = 256        # 32768 frames: well within the firmware's counter
HDR = bytes.fromhex('525400123457' '525400123456' '88b5')


def frames_for(size, seed):
    """Per-slot frame templates (the sequence number goes at offset 14)."""
    rnd = random.Random(seed)
    return [bytearray(HDR + bytes(4) + rnd.randbytes(size - len(HDR) - 4)) for _ in range(RING)]


def numbered(tpl, seq):
    tpl[14:18] = struct.pack('>I', seq)
    return bytes(tpl)


def pcap_frames(path):
    """The frames a filter-dump wrote to @path."""
    with open(path, 'rb') as f:
        data = f.read()
    out, pos = [], 24                           # past the global header
    while pos < len(data):
        incl = struct.unpack_from('<I', data, pos + 8)[0]
        out.append(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl
    return out


def run_sink(qemu, size, nframes, seed=3, corrupt=False):
    """Transmit into a hub port that delivers nowhere. Each timed ring also
    costs a qtest round trip, as long as the device's work on 128 frames."""
    assert 64 <= size <= 1514 and nframes > RING, 'the first ring is not timed'
    tpl = frames_for(size, seed)
    with tempfile.TemporaryDirectory(prefix='dma-rw-lance.') as d:
        pcap = os.path.join(d, 'tx.pcap')
        m = Sun4m(qemu, args=sink_args(pcap), name='lance')
        seq = 0
        busy = 0.0
        try:
            m.iommu_init()
            le = LanceDriver(m)
            while seq < nframes:
                batch = min(RING, nframes - seq)
                for i in range(batch):
                    le.put(LE_TXBUF + i * BUF, numbered(tpl[i], seq + i))
                    le.tx_desc(i, size)
                t0 = time.perf_counter()
                le.m.writew(LANCE, CSR0_TDMD)
                if seq:
                    busy += time.perf_counter() - t0
                for i in range(batch):
                    d_ = le.desc(LE_TXRING, i)
                    if d_[1] & (DESC_OWN | DESC_ERR):
                        raise DataError('tx descriptor %d not completed (0x%04x)' % (i, d_[1]))
                if not seq:
                    check_ring(m, pcap, [numbered(tpl[i], i) for i in range(batch)],
                               corrupt)
                seq += batch
        finally:
            m.close()
    timed = nframes - RING
    return {'frames': timed, 'seconds': busy, 'fps': timed / busy,
            'MBps': timed * size / busy / 1e6}


def sink_args(pcap):
    """A hub port with nothing else on the hub, dumping to @pcap."""
    return ['-netdev', 'hubport,id=n0,hubid=0',
            '-object', 'filter-dump,id=dump,netdev=n0,file=' + pcap,
            '-net', 'nic,model=lance,netdev=n0']


def check_ring(m, pcap, want, corrupt, skip=0):
    """The frames the dump saw after the first @skip against @want, frame
    for frame (a ring that lost frames fails too); then stop dumping."""
    got = pcap_frames(pcap)[skip:]
    if corrupt:
        got[-1] = got[-1][:-1] + bytes([got[-1][-1] ^ 0xff])
    if got != want:
        raise DataError('tx: the %s ring left the chip altered'
                        % ('last' if skip else 'first'))
    m.vm.qmp('qom-set', path='/objects/dump', property='status', value='off')


def run_guest(qemu, size, nframes, seed=3, corrupt=False):
    """Transmit into a dead-end hub port, driven by the guest CPU. The
    first and the last ring (both untimed) go through the dump. Self-test:
    @corrupt True alters a frame of the first ring, 'late' one of the last;
    with 'fault', the last descriptor of the timed rings points to a buffer
    behind an invalid IOPTE, which the firmware must notice."""
    assert 64 <= size <= 1514 and nframes > 0
    frames = [numbered(t, i) for i, t in enumerate(frames_for(size, seed))]
    sent, busy = 0, 0.0
    with tempfile.TemporaryDirectory(prefix='dma-rw-lance.') as d:
        pcap = os.path.join(d, 'tx.pcap')
        m = Sun4m(qemu, args=sink_args(pcap), name='lance', firmware=FIRMWARE)
        try:
            m.iommu_init()
            le = GuestLance(m, frames)
            le.send(1)                      # untimed, through the dump
            check_ring(m, pcap, frames, corrupt is True)
            if corrupt == 'fault':
                le.put(LE_TXRING + 8 * (RING - 1) + 3, b'\xf0')    # address bits 23:16
            while sent < nframes:
                sent += le.send(min(ROUNDS_PER_RUN, -(-(nframes - sent) // RING)))
                busy += le.seconds
            # one more, untimed: the frames still leave the chip whole
            m.vm.qmp('qom-set', path='/objects/dump', property='status', value='on')
            le.send(1)
            check_ring(m, pcap, frames, corrupt == 'late', skip=len(frames))
        finally:
            m.close()
    return {'frames': sent, 'seconds': busy, 'fps': sent / busy,
            'MBps': sent * size / busy / 1e6}


def run(qemu, direction, size, nframes, seed=3, corrupt=False):
    if direction == 'sink':
        return run_sink(qemu, size, nframes, seed, corrupt)
    if direction == 'guest':
        return run_guest(qemu, size, nframes, seed, corrupt)
    assert direction in ('tx', 'rx') and 64 <= size <= 1514
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    peer.bind(('127.0.0.1', 0))
    qport = socket.socket()
    qport.bind(('127.0.0.1', 0))
    qemu_port = qport.getsockname()[1]
    qport.close()
    netdev = 'socket,id=n0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d' % (
        peer.getsockname()[1], qemu_port)
    m = Sun4m(qemu, args=['-netdev', netdev, '-net', 'nic,model=lance,netdev=n0'], name='lance')
    tpl = frames_for(size, seed)
    seq = 0
    busy = 0.0
    try:
        m.iommu_init()
        le = LanceDriver(m)
        peer.settimeout(10)
        while seq < nframes:
            batch = min(RING, nframes - seq)
            if direction == 'tx':
                for i in range(batch):
                    le.put(LE_TXBUF + i * BUF, numbered(tpl[i], seq + i))
                    le.tx_desc(i, size)
                t0 = time.perf_counter()
                le.m.writew(LANCE, CSR0_TDMD)
                got = [peer.recv(4096) for _ in range(batch)]
                busy += time.perf_counter() - t0
                for i in range(batch):
                    d = le.desc(LE_TXRING, i)
                    if d[1] & (DESC_OWN | DESC_ERR):
                        raise DataError('tx descriptor %d not completed (0x%04x)' % (i, d[1]))
                for i, f in enumerate(got):
                    if corrupt and seq + i == nframes - 1:
                        f = f[:-1] + bytes([f[-1] ^ 0xff])
                    if f != numbered(tpl[i], seq + i):
                        raise DataError('tx frame %d arrived altered or out of order' % (seq + i))
            else:
                for i in range(batch):
                    le.rx_desc(i)
                t0 = time.perf_counter()
                # In groups small enough for QEMU's UDP socket buffer: a
                # frame the host kernel drops is not the NIC's doing.
                for g in range(0, batch, RX_GROUP):
                    last = min(batch, g + RX_GROUP)
                    for i in range(g, last):
                        peer.sendto(numbered(tpl[i], seq + i), ('127.0.0.1', qemu_port))
                    deadline = time.monotonic() + 10
                    while le.desc(LE_RXRING, last - 1)[1] & DESC_OWN:
                        if time.monotonic() > deadline:
                            raise DataError('rx: frames did not reach the ring')
                busy += time.perf_counter() - t0
                for i in range(batch):
                    d = le.desc(LE_RXRING, i)
                    if d[1] & (DESC_OWN | DESC_ERR):
                        raise DataError('rx descriptor %d: status 0x%04x' % (i, d[1]))
                    f = le.get(LE_RXBUF + i * BUF, size)
                    if corrupt and seq + i == nframes - 1:
                        f = f[:-1] + bytes([f[-1] ^ 0xff])
                    if f != numbered(tpl[i], seq + i):
                        raise DataError('rx frame %d landed altered or out of order' % (seq + i))
            # a whole ring was used: the chip is back at slot 0
            seq += batch
    finally:
        m.close()
        peer.close()
    return {'frames': nframes, 'seconds': busy, 'fps': nframes / busy,
            'MBps': nframes * size / busy / 1e6}

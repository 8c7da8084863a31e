"""Lance frames through LEDMA and the sun4m IOMMU, against a UDP socket netdev.

Transmit: the ring is filled with numbered frames, TDMD is written and the
harness receives them on the netdev's UDP peer. Receive: the harness sends
numbered frames to the netdev and collects them from the receive ring. Each
frame carries its sequence number and a per-slot payload; a lost, reordered
or altered frame raises DataError and the run yields no figure.
"""

import os
import random
import socket
import struct
import time

from sun4m import (CSR0_TDMD, DESC_ERR, DESC_OWN, LANCE, LE_RXBUF, LE_RXRING, LE_TXBUF,
                   LE_TXRING, BUF, RING,
                   DataError, LanceDriver, Sun4m)

RX_GROUP = 16
HDR = bytes.fromhex('525400123457' '525400123456' '88b5')


def frames_for(size, seed):
    """Per-slot frame templates (the sequence number goes at offset 14)."""
    rnd = random.Random(seed)
    return [bytearray(HDR + bytes(4) + rnd.randbytes(size - len(HDR) - 4)) for _ in range(RING)]


def numbered(tpl, seq):
    tpl[14:18] = struct.pack('>I', seq)
    return bytes(tpl)


def run(qemu, direction, size, nframes, seed=3, corrupt=False):
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

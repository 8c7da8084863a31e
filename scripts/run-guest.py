#!/usr/bin/env python3
"""Boot the demo guest on qemu-system-sparc (sun4m) or qemu-system-sparc64
(--machine sun4u) and verify what it reports.

The guest (guest/init.c) reads a data disk, writes and reads back a scratch
disk and moves data both ways over TCP with the peer this script runs on the
host. Every figure the guest prints is checked here against the host's own
computation: the data image's CRC-32, the scratch image after QEMU exits, the
bytes the peer received and sent. The last line is the verdict.
"""

import argparse
import atexit
import json
import os
import random
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MiB = 1024 * 1024
GUEST_PORT = 5555


def xorshift_stream(seed, size):
    """The guest's pattern: xorshift32 states, each written little endian."""
    out = bytearray()
    x = seed
    words = []
    for _ in range(size // 4):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        words.append(x)
        if len(words) == 65536:
            out += struct.pack('<65536I', *words)
            words = []
    out += struct.pack('<%dI' % len(words), *words)
    return bytes(out)


def pattern_crc(seed, size, cache={}):
    if (seed, size) not in cache:
        cache[(seed, size)] = zlib.crc32(xorshift_stream(seed, size))
    return cache[(seed, size)]


def data_image(path, size):
    """A deterministic pseudo-random data disk, made once and reused."""
    if not os.path.exists(path) or os.path.getsize(path) != size:
        rnd = random.Random(0x5eed)
        with open(path + '.tmp', 'wb') as f:
            for _ in range(size // MiB):
                f.write(rnd.randbytes(MiB))
        os.rename(path + '.tmp', path)
    crc = 0
    with open(path, 'rb') as f:
        while True:
            b = f.read(MiB)
            if not b:
                break
            crc = zlib.crc32(b, crc)
    return crc


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Peer(threading.Thread):
    """Host side of the TCP checks.

    First the guest connects to 10.0.2.2:port (slirp maps it to
    127.0.0.1:port), sends its pattern and half-closes; we answer with the
    CRC we computed. Then we connect to the hostfwd port and send ours.
    """

    def __init__(self, rx_seed, rx_bytes, fwd_port):
        super().__init__(daemon=True)
        self.lsock = socket.socket()
        self.lsock.bind(('127.0.0.1', 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.fwd_port = fwd_port
        self.rx_data = xorshift_stream(rx_seed, rx_bytes)
        self.got_bytes = None
        self.got_crc = None
        self.sent_bytes = None
        self.error = None
        self.stop = False

    def run(self):
        try:
            conn, _ = self.lsock.accept()
            crc, n = 0, 0
            while True:
                b = conn.recv(MiB)
                if not b:
                    break
                crc = zlib.crc32(b, crc)
                n += len(b)
            self.got_bytes, self.got_crc = n, crc
            conn.sendall(b'%08x' % crc)
            conn.close()
            # The guest listens before it connects out, so it is ready; slirp
            # may still refuse while the guest side is busy: retry briefly.
            for _ in range(50):
                if self.stop:
                    return
                s = socket.create_connection(('127.0.0.1', self.fwd_port))
                try:
                    s.sendall(self.rx_data)
                    s.shutdown(socket.SHUT_WR)
                    while s.recv(4096):
                        pass
                    self.sent_bytes = len(self.rx_data)
                    return
                except (BrokenPipeError, ConnectionResetError) as e:
                    self.error = 'host->guest: %s' % e
                    time.sleep(0.2)
                finally:
                    s.close()
            self.error = 'could not deliver the host->guest stream'
        except OSError as e:
            self.error = str(e)


def parse(lines):
    res = {}
    for line in lines:
        if not line.startswith('dma-rw: '):
            continue
        words = line.split()
        if len(words) >= 2 and words[1] == 'verdict':
            res['verdict'] = words[2:]
            continue
        if len(words) >= 2 and words[1] == 'net-stats':
            # eth0's /proc/net/dev line: receive bytes packets errs drop fifo frame ...
            iface, _, counts = line.split(None, 2)[2].partition(':')
            rx = [int(v) for v in counts.split()[:6]]
            res['net-stats'] = {'iface': iface, 'rx_bytes': rx[0], 'rx_packets': rx[1],
                                'rx_errors': rx[2], 'rx_dropped': rx[3],
                                'rx_fifo': rx[4], 'rx_frame': rx[5]}
            continue
        kv = dict(w.split('=', 1) for w in words[2:] if '=' in w)
        kv['ok'] = words[-1] == 'PASS'
        res[words[1]] = kv
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--qemu', help='default: build/qemu/build/qemu-system-sparc, or '
                    'qemu-system-sparc64 for sun4u')
    ap.add_argument('--machine', default='SS-5')
    ap.add_argument('--memory', default='256')
    ap.add_argument('--guest', help='default: build/guest, or build/guest64 for sun4u')
    ap.add_argument('--data-mib', type=int, default=32)
    ap.add_argument('--scratch-mib', type=int, default=8)
    ap.add_argument('--tx-mib', type=int, default=4)
    ap.add_argument('--rx-mib', type=int, default=4)
    ap.add_argument('--reads', default='direct,buffered')
    ap.add_argument('--drive-opts', default='',
                    help='extra -drive options for the data disk, e.g. aio=native,cache.direct=on')
    ap.add_argument('--image-dir',
                    help='where to keep the data and scratch disks (default: the data disk '
                         'in --guest, the scratch disk in a temporary directory)')
    ap.add_argument('--timeout', type=int, default=300)
    ap.add_argument('--quiet', action='store_true',
                    help='print only the dma-rw lines and the verdict')
    ap.add_argument('--max-rx-errors', type=int, default=0,
                    help="receive errors, drops, FIFO and frame errors eth0 may count "
                         "(-1: do not check; stock QEMU misses frames)")
    ap.add_argument('--json', help='write the results here')
    ap.add_argument('--log', help='write the full console log here')
    ap.add_argument('qemu_args', nargs='*', help='extra QEMU arguments (after --)')
    a = ap.parse_args()
    sun4u = a.machine == 'sun4u'
    if not a.qemu:
        a.qemu = os.path.join(TOP, 'build/qemu/build/qemu-system-sparc' + ('64' if sun4u else ''))
    if not a.guest:
        a.guest = os.path.join(TOP, 'build/guest64' if sun4u else 'build/guest')

    for f in (a.qemu, os.path.join(a.guest, 'vmlinux'), os.path.join(a.guest, 'root.img')):
        if not os.path.exists(f):
            sys.exit('run-guest: %s is missing; run "make build guest%s"'
                     % (f, '64' if sun4u else ''))

    data = os.path.join(a.image_dir or a.guest, 'data-%dM.img' % a.data_mib)
    data_crc = data_image(data, a.data_mib * MiB)
    tmp = tempfile.mkdtemp(prefix='dma-rw-run.', dir=a.image_dir)
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)   # on every way out
    scratch = os.path.join(tmp, 'scratch.img')
    with open(scratch, 'wb') as f:
        f.truncate((a.scratch_mib + 1) * MiB)

    rx_seed, tx_seed, scratch_seed = 3, 2, 1
    fwd = free_port()
    peer = Peer(rx_seed, a.rx_mib * MiB, fwd)
    peer.start()
    rx_crc = zlib.crc32(peer.rx_data)

    append = ' '.join([
        'console=ttyS0', 'root=/dev/sda', 'rw', 'rootfstype=ext2', 'init=/init',
        # sun4u: the cmd646's primary slave, then its secondary master, which
        # libata puts on a SCSI host of its own
        'dmarw.disks=0:0:1:0,1:0:0:0' if sun4u else 'esp_scsi.esp_bus_reset_settle=0',
        'dmarw.data=%d,0x%08x' % (a.data_mib * MiB, data_crc),
        'dmarw.reads=%s' % a.reads,
        'dmarw.scratch=%d' % (a.scratch_mib * MiB),
        'dmarw.net=%d,%d,%d,0x%08x' % (peer.port, a.tx_mib * MiB, a.rx_mib * MiB, rx_crc),
    ])
    if not sun4u and len(append) > 255:
        sys.exit('run-guest: the kernel command line is %d characters; sparc32 keeps 255'
                 % len(append))
    dopts = (',' + a.drive_opts) if a.drive_opts else ''
    if sun4u:
        disks = ['if=ide,index=0', 'if=ide,index=1', 'if=ide,index=2']
        nic = 'sunhme'
    else:
        disks = ['if=scsi,bus=0,unit=0', 'if=scsi,bus=0,unit=1', 'if=scsi,bus=0,unit=2']
        nic = 'lance'
    cmd = [a.qemu, '-M', a.machine, '-m', a.memory,
           '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
           '-kernel', os.path.join(a.guest, 'vmlinux'), '-append', append,
           '-drive', 'file=%s,%s,format=raw,snapshot=on'
           % (os.path.join(a.guest, 'root.img'), disks[0]),
           # an IDE disk cannot be read-only: the guest's writes would go to
           # a temporary overlay, but it only reads this one
           '-drive', 'file=%s,%s,format=raw,%s%s' % (data, disks[1],
                                                     'snapshot=on' if sun4u else 'readonly=on',
                                                     dopts),
           '-drive', 'file=%s,%s,format=raw' % (scratch, disks[2]),
           '-nic', 'user,model=%s,hostfwd=tcp:127.0.0.1:%d-:%d' % (nic, fwd, GUEST_PORT),
           ] + a.qemu_args
    print('run-guest: %s' % ' '.join(shlex.quote(c) for c in cmd), flush=True)

    t0 = time.time()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    lines = []
    timer = threading.Timer(a.timeout, proc.kill)
    timer.start()
    for raw in proc.stdout:
        line = raw.decode('utf-8', 'replace').rstrip('\r\n')
        lines.append(line)
        if not a.quiet or line.startswith('dma-rw: '):
            print(line, flush=True)
        if line.startswith('dma-rw: verdict'):
            # The guest powers off; do not wait for a firmware that halts.
            threading.Timer(10, proc.kill).start()
    proc.wait()
    timer.cancel()
    peer.stop = True
    wall = time.time() - t0
    if a.log:
        with open(a.log, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    res = parse(lines)
    checks = []

    def check(name, ok, detail):
        checks.append((name, bool(ok), detail))

    for name in ('data-direct-1M', 'data-buffered-64K'):
        if name.split('-')[1] not in a.reads.split(','):
            continue
        g = res.get(name, {})
        check(name, g.get('ok') and g.get('crc') == '%08x' % data_crc
              and g.get('bytes') == str(a.data_mib * MiB),
              'guest crc=%s host crc=%08x' % (g.get('crc'), data_crc))
    want = pattern_crc(scratch_seed, a.scratch_mib * MiB)
    with open(scratch, 'rb') as f:
        on_disk = zlib.crc32(f.read(a.scratch_mib * MiB))
    g = res.get('scratch-write', {})
    check('scratch-write', g.get('ok') and g.get('crc') == '%08x' % want and on_disk == want,
          'guest crc=%s image crc=%08x expected=%08x' % (g.get('crc'), on_disk, want))
    g = res.get('scratch-read', {})
    check('scratch-read', g.get('ok') and g.get('crc') == '%08x' % want,
          'guest crc=%s expected=%08x' % (g.get('crc'), want))
    want = pattern_crc(tx_seed, a.tx_mib * MiB)
    g = res.get('tcp-tx', {})
    check('tcp-tx', g.get('ok') and peer.got_crc == want and g.get('crc') == '%08x' % want
          and peer.got_bytes == a.tx_mib * MiB,
          'guest crc=%s host received crc=%s expected=%08x' % (
              g.get('crc'), '%08x' % peer.got_crc if peer.got_crc is not None else None, want))
    g = res.get('tcp-rx', {})
    check('tcp-rx', g.get('ok') and g.get('crc') == '%08x' % rx_crc
          and peer.sent_bytes == a.rx_mib * MiB,
          'guest crc=%s host sent crc=%08x%s' % (g.get('crc'), rx_crc,
                                                 ' (%s)' % peer.error if peer.error else ''))
    if a.max_rx_errors >= 0:
        ns = res.get('net-stats')
        bad = ns and ns['rx_errors'] + ns['rx_dropped'] + ns['rx_fifo'] + ns['rx_frame']
        check('rx-errors', ns is not None and bad <= a.max_rx_errors,
              'guest %s: rx errors %s dropped %s fifo %s frame %s' % (
                  ns['iface'], ns['rx_errors'], ns['rx_dropped'], ns['rx_fifo'], ns['rx_frame'])
              if ns else 'no net-stats line from the guest')
    v = res.get('verdict', [])
    check('guest-verdict', v[:1] == ['PASS'], ' '.join(v) or 'no verdict (timeout or crash?)')

    print('run-guest: host-side verification (%s, %.0fs):' % (a.machine, wall))
    for name, ok, detail in checks:
        print('  %-18s %s  %s' % (name, 'ok  ' if ok else 'FAIL', detail))
    passed = sum(ok for _, ok, _ in checks)
    failed = len(checks) - passed
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'machine': a.machine, 'wall_s': wall, 'guest': res,
                       'checks': [{'name': n, 'ok': o, 'detail': d} for n, o, d in checks]},
                      f, indent=1)
    print('VERDICT: %s (%d/%d host checks passed on %s)'
          % ('PASS' if not failed else 'FAIL', passed, len(checks), a.machine))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
